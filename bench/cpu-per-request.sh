#!/usr/bin/env bash
# Measures one Meshgate gateway's cost per forwarded request at HTTP keep-alive, in figures that a busy machine
# disturbs far less than req/s: CPU time per request (utime+stime of the proxy over a wrk run), system calls per
# request (strace -c), and bytes allocated per request (dotnet-counters, when installed).
# Usage: bench/cpu-per-request.sh [--config FILE] [--seconds N] [--warmup N] [--binary FILE] [-- extra proxy args]
# --binary runs another build of the proxy (artifacts/meshgate/meshgate-proxy, the Native AOT one) instead of meshgate.
# Needs the origin of ../shared/bench (peers.sh start) on 127.0.0.1:19080, or any HTTP server there; wrk, strace.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="$root/bench/gateway.yaml" seconds=10 warmup=20 port=${MESHGATE_BENCH_PORT:-19380} binary=""
while (($#)); do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "cpu-per-request.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n "$binary" ]] || { "$root/meshgate" --help >/dev/null; binary="$root/artifacts/meshgate/meshgate"; }
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1} DOTNET_TieredPGO=${DOTNET_TieredPGO:-1}
log=$(mktemp)
taskset -c 1 "$binary" proxy --config "$config" --admin-port 0 --status-port 0 "$@" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null -H "Host: edition.cnn.com" "http://127.0.0.1:$port/" && break; sleep 0.1; done
url="http://127.0.0.1:$port/"
load() { taskset -c 0 wrk -t1 -c50 -d"$1"s -H "Host: edition.cnn.com" "$url" | awk '/requests in/ {print $1}'; }
load "$warmup" >/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks); requests=$(load "$seconds"); after=$(ticks)
cpu_us=$(( (after - before) * 1000000 / hz ))
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "requests: $requests in ${seconds}s; proxy CPU: $((cpu_us / 1000)) ms; CPU per request: $((cpu_us / requests)) µs"
echo "peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status") ($(basename "$binary"))"
# System calls per request: sendto is exactly 2 per forwarded request (one to the origin, one to the client).
(load 8 >/dev/null &)
sleep 2
strace_out=$(mktemp)
timeout -s INT 4 strace -c -f -p "$pid" -o "$strace_out" >/dev/null 2>&1 || true
sleep 3
python3 - "$strace_out" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) >= 5 and p[0][0].isdigit() and p[-1] != 'total':
        calls = int(p[3]); errors = int(p[4]) if len(p) == 6 else 0
        rows[p[-1]] = (calls, errors)
sends = rows.get('sendto', (0, 0))[0]
if not sends:
    print("strace saw no sendto"); sys.exit(0)
req = sends / 2
total = sum(c for n, (c, e) in rows.items() if n not in ('futex', 'restart_syscall', 'epoll_wait'))
print(f"system calls per request (excluding futex/epoll_wait): {total / req:.2f}")
for name, (calls, errors) in sorted(rows.items(), key=lambda x: -x[1][0])[:8]:
    print(f"  {name:14} {calls / req:6.2f}/req" + (f"  ({errors / req:.2f} failed)" if errors else ""))
PY
rm -f "$strace_out"
if [[ -x "${HOME}/.dotnet/tools/dotnet-counters" ]]; then
  (load 12 >/tmp/cpr-requests.txt &)
  sleep 1
  counters=$(mktemp --suffix .csv)
  timeout -s INT 20 "${HOME}/.dotnet/tools/dotnet-counters" collect -p "$pid" --counters System.Runtime --refresh-interval 10 --duration 00:00:00:10 --format csv -o "$counters" >/dev/null 2>&1 || true
  sleep 2
  python3 - "$counters" /tmp/cpr-requests.txt <<'PY'
import sys, csv
alloc = None
for row in csv.reader(open(sys.argv[1])):
    if len(row) >= 5 and 'total_allocated' in row[2]:
        alloc = float(row[4])
try:
    requests = int(open(sys.argv[2]).read().split()[0])
except Exception:
    requests = 0
if alloc and requests:
    # the counter covers 10 s of a 12 s run
    print(f"allocated per request: {alloc / (requests * 10 / 12):.0f} bytes")
PY
  rm -f "$counters"
fi
