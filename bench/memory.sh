#!/usr/bin/env bash
# Where an idle proxy's memory goes: starts `meshgate proxy --config FILE`, waits until it is ready and has settled,
# then prints its RSS, PSS and private memory, the RSS of each kind of mapping (managed images, JIT code, GC heap and
# other anonymous memory, native libraries), the largest files, its threads and the assemblies it has loaded.
# Runtime settings to try are given as the environment, e.g. `DOTNET_TieredCompilation=0 bench/memory.sh`.
# Usage: bench/memory.sh [--config FILE] [--settle SECONDS] [--binary FILE] [-- extra proxy args]
# --binary measures another build of meshgate (e.g. a Native AOT one) instead of artifacts/meshgate/meshgate.
# The default configuration is samples/proxy/egress-gateway.yaml with its ports moved to free ones, so that it runs
# beside anything else on the machine. Nothing here sends traffic: this is not a load run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="" settle=5 binary=""
while (($#)); do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --settle) settle="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "memory.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n "$binary" ]] || { "$root/meshgate" --help >/dev/null; binary="$root/artifacts/meshgate/meshgate"; }
work=$(mktemp -d)
pid=""
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
if [[ -z "$config" ]]; then
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  config="$work/egress-gateway.yaml"
  sed "s/port: 18080/port: $(free_port)/; s/port: 18443/port: $(free_port)/" "$root/samples/proxy/egress-gateway.yaml" >"$config"
fi
"$binary" proxy --config "$config" --admin-port 0 --status-port 0 "$@" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  grep -q "ready" "$work/log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; echo "memory.sh: the proxy exited" >&2; exit 1; }
  sleep 0.1
done
grep -q "ready" "$work/log" || { echo "memory.sh: the proxy was not ready after 30 s" >&2; exit 1; }
sleep "$settle"
echo "date: $(date -u '+%F %T') UTC; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "settings: $(env | grep -E '^DOTNET_' | sort | tr '\n' ' ')"
python3 - "$pid" <<'PY'
import collections, os, re, sys
pid = sys.argv[1]
kinds, files = collections.Counter(), collections.Counter()
totals = collections.Counter()
name = perms = None
for line in open(f"/proc/{pid}/smaps"):
    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
        parts = line.split(None, 5)
        perms, name = parts[1], (parts[5].strip() if len(parts) > 5 else "")
        continue
    key, _, value = line.partition(":")
    if key in ("Pss", "Private_Clean", "Private_Dirty"):
        totals[key] += int(value.split()[0])
    if key != "Rss":
        continue
    kb = int(value.split()[0])
    if name.endswith(".dll"):
        kind = "managed images (IL + ReadyToRun code, file-backed)"
    elif "doublemapper" in name:
        kind = "JIT'd code, stubs and loader heaps (doublemapper)"
    elif ".so" in name:
        kind = "native libraries: " + ("code" if "x" in perms else "data")
    elif name == "":
        kind = "anonymous (GC heap, native allocations, thread stacks)"
    elif name == "[heap]":
        kind = "native heap (brk)"
    else:
        kind = "other (" + name.split("/")[-1] + ")"
    kinds[kind] += kb
    files[name.split("/")[-1] or "(anonymous)"] += kb
rss = sum(kinds.values())
threads = len(os.listdir(f"/proc/{pid}/task"))
# Private dirty memory is what this process alone costs whatever else runs: clean file pages can be shared or dropped.
print(f"RSS {rss / 1024:.1f} MiB, PSS {totals['Pss'] / 1024:.1f} MiB, private {(totals['Private_Clean'] + totals['Private_Dirty']) / 1024:.1f} MiB"
      f" (dirty {totals['Private_Dirty'] / 1024:.1f} MiB), {threads} threads")
for kind, kb in kinds.most_common():
    if kb >= 64:
        print(f"  {kb / 1024:6.1f} MiB  {kind}")
print("largest mappings by file:")
for f, kb in files.most_common(12):
    print(f"  {kb / 1024:6.1f} MiB  {f}")
assemblies = sorted({l.split("/")[-1].strip() for l in open(f"/proc/{pid}/maps") if l.rstrip().endswith(".dll")})
print(f"{len(assemblies)} assemblies mapped: {' '.join(a[:-4] for a in assemblies)}")
PY
