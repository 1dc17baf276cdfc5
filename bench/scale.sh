#!/usr/bin/env bash
# Control-plane scale benchmark (issue 4, item 9): 10,000 ServiceEntries and 10,000 VirtualServices, 20 connected
# proxies. Measures the apply, the time from the apply to every proxy's ACK, the translation time per node key (from
# the control plane's log) and the control plane's peak memory. Loopback only; bounded (one apply, one change).
#
#   bench/scale.sh [--services N] [--proxies N]      (KEEP=1 keeps the logs and data; DELTA=false makes the
#                                                    proxies take every snapshot whole, as before delta push)
#   CP_ENV="VAR=value ..." sets runtime knobs for the control plane only (e.g. DOTNET_TieredPGO=0), to measure them.
#   PERF=DIR records a CPU profile (perf record -e cpu-clock -g) of the control plane and of one proxy during the
#   big apply and during the first small change, into DIR/{cp,proxy}-{bulk,one}.data, and of the CLI's big apply
#   (DIR/cli-bulk.data); .NET perf maps on.
set -euo pipefail
cd "$(dirname "$0")/.."

services=10000
proxies=20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --services) services="$2"; shift 2 ;;
    --proxies) proxies="$2"; shift 2 ;;
    *) echo "usage: bench/scale.sh [--services N] [--proxies N]" >&2; exit 2 ;;
  esac
done

./meshgate --help >/dev/null   # builds when needed
bin=artifacts/meshgate/meshgate
root=$PWD; . bench/proxy-binary.sh
work=$(mktemp -d /tmp/meshgate-scale-XXXXXX)
pids=()
perf_pids=()
cleanup() {
  for pid in "${perf_pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "${KEEP:-}" ]]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api_port=$(free_port)
disc_port=$(free_port)
server="https://127.0.0.1:$api_port"

if [[ -n "${PERF:-}" ]]; then
  mkdir -p "$PERF"
  export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
fi
perf_start() { # label: profile the control plane and proxy sleep-1 until perf_stop
  [[ -n "${PERF:-}" ]] || return 0
  perf record -q -F 499 -e cpu-clock -g -p "$cp_pid" -o "$PERF/cp-$1.data" >/dev/null 2>&1 &
  perf_pids+=("$!")
  perf record -q -F 499 -e cpu-clock -g -p "${pids[1]}" -o "$PERF/proxy-$1.data" >/dev/null 2>&1 &
  perf_pids+=("$!")
  sleep 0.2 # perf attaches asynchronously; a missed first 200 ms would hide the start of the step
}
perf_stop() {
  for pid in "${perf_pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${perf_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  perf_pids=()
}

# shellcheck disable=SC2086 # CP_ENV is a list of VAR=value words
env ${CP_ENV:-} "$bin" controlplane --data "$work/data" --listen "127.0.0.1:$api_port" --discovery-port "$disc_port" >"$work/cp.log" 2>&1 &
cp_pid=$!
pids+=("$cp_pid")
# The API is HTTPS with the admin token (docs/kubernetes-api.md, "Access"); the kubeconfig is written once it listens.
for _ in $(seq 1 200); do [[ -s "$work/data/kubeconfig" ]] && curl -sf --cacert "$work/data/ca/root-cert.pem" "$server/readyz" >/dev/null && break; sleep 0.1; done
export KUBECONFIG="$work/data/kubeconfig"
# The token goes in a header file (0600), not on curl's command line where ps would show it.
(umask 077 && printf 'Authorization: Bearer %s\n' "$(<"$work/data/admin-token")" >"$work/authorization")
curl() { command curl --cacert "$work/data/ca/root-cert.pem" -H @"$work/authorization" "$@"; }

# Half the proxies share one node key (app=sleep), the other half have a key each.
for i in $(seq 1 "$proxies"); do
  if (( i <= proxies / 2 )); then labels="app=sleep"; else labels="app=sleep-$i"; fi
  "${proxy_bin[@]}" --discovery-address "127.0.0.1:$disc_port" --ca-root-file "$work/data/ca/root-cert.pem" --role sidecar --name "sleep-$i" --namespace default \
    --labels "$labels" --service-account sleep --ip "127.0.1.$i" --admin-port 0 --status-port 0 --delta "${DELTA:-true}" >"$work/proxy-$i.log" 2>&1 &
  pids+=("$!")
done

synced() { # every connected proxy acknowledged revision $1
  curl -sf "$server/debug/syncz" | python3 -c '
import json,sys
want=int(sys.argv[1]); n=int(sys.argv[2]); s=[p for p in json.load(sys.stdin) if p["connected"]]
sys.exit(0 if len(s)>=n and all((p.get("syncedRevision") or 0)>=want for p in s) else 1)' "$1" "$proxies"
}
last_ack() { # ms from $1 (epoch ns) to the newest ACK of any connected proxy, by the control plane's own timestamps
  curl -sf "$server/debug/syncz" | python3 -c '
import json,sys,datetime
start=int(sys.argv[1])/1e9
acks=[datetime.datetime.fromisoformat(p["ackedAt"]).timestamp() for p in json.load(sys.stdin) if p["connected"] and p.get("ackedAt")]
print(int((max(acks)-start)*1000))' "$1"
}
revision() { curl -sf "$server/version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])'; }
wait_synced() {
  local want=$1 start=$2
  while ! synced "$want"; do
    sleep 0.1
    if (( $(date +%s%N) - start > 120000000000 )); then echo "proxies did not sync revision $want in 120 s" >&2; exit 1; fi
  done
}

start=$(date +%s%N)
wait_synced "$(revision)" "$start"
echo "proxies: $proxies connected and synced in $(( ($(date +%s%N) - start) / 1000000 )) ms"

# One file per 5,000 services (2.1 MB each): a file may have at most 16 MiB (InputFiles), and apply -f DIR sends them all
# in one request, one transaction.
mkdir -p "$work/config"
python3 - "$services" "$work/config" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
per_file = 5000
for start in range(0, n, per_file):
  with open(f"{out}/config-{start // per_file:03d}.yaml", "w") as f:
    for i in range(start, min(n, start + per_file)):
      print(f"""apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: svc-{i}
spec:
  hosts: [svc-{i}.example.com]
  ports: [{{number: 80, name: http, protocol: HTTP}}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: svc-{i}
spec:
  hosts: [svc-{i}.example.com]
  http:
  - name: svc-{i}
    timeout: 5s
    route:
    - destination: {{host: svc-{i}.example.com, port: {{number: 80}}}}
---""", file=f)
PY
echo "config: $services ServiceEntries + $services VirtualServices, $(du -sh "$work/config" | cut -f1) in $(ls "$work/config" | wc -l) files"

# CPU time (ms) used so far by the control plane, and by all proxies together: what each step costs whatever the
# contention (20 proxies share these 2 cores; in a cluster each has its own).
cpu_ms() { awk '{s += $14 + $15} END {print s * 1000 / '"$(getconf CLK_TCK)"'}' "${@/#//proc/}" 2>/dev/null; }
proc_stats() { for pid in "$@"; do echo "$pid/stat"; done; }
cp_cpu() { cpu_ms $(proc_stats "$cp_pid"); }
proxies_cpu() { cpu_ms $(proc_stats "${pids[@]:1}"); }
cpu_line() { # label, cp before, proxies before
  local cp_used=$(( $(cp_cpu) - $2 )) px_used=$(( $(proxies_cpu) - $3 ))
  echo "  CPU: control plane $cp_used ms, proxies $px_used ms together ($(( px_used / proxies )) ms each)"
}

perf_start bulk
start=$(date +%s%N); cp0=$(cp_cpu); px0=$(proxies_cpu)
if [[ -n "${PERF:-}" ]]; then
  perf record -q -F 499 -e cpu-clock -g -o "$PERF/cli-bulk.data" "$bin" apply -f "$work/config" >/dev/null 2>&1
else
  "$bin" apply -f "$work/config" >/dev/null
fi
applied=$(date +%s%N)
wait_synced "$(revision)" "$start"
acked=$(date +%s%N)
perf_stop
echo "apply (CLI parse + validate + store): $(( (applied - start) / 1000000 )) ms"
last=$(last_ack "$start")
echo "apply to every proxy's ACK: $last ms by the ACK times (after the apply returned: $(( last - (applied - start) / 1000000 )) ms; seen by polling at $(( (acked - start) / 1000000 )) ms)"
cpu_line bulk "$cp0" "$px0"

settle() { # waits (at most 30 s) until the control plane and the proxies together use < 5 % of one core for 1 s
  local before after waited=0
  while (( waited < 30 )); do
    before=$(( $(cp_cpu) + $(proxies_cpu) )); sleep 1; after=$(( $(cp_cpu) + $(proxies_cpu) )); waited=$(( waited + 1 ))
    (( after - before < 50 )) && break
  done
  echo "  (settled for $waited s: the JIT's recompilation of what the big apply made hot is over)"
}

# Small changes on top of the large configuration, one at a time. The first comes right after the large one and still
# pays the JIT's tiering in the control plane and every proxy (hot methods recompiled once, in the background); the
# later ones wait for the processes to settle first: a change to a running mesh, the steady state.
for n in 1 2 3; do
  if (( n == 1 )); then perf_start one; else settle; fi
  start=$(date +%s%N); cp0=$(cp_cpu); px0=$(proxies_cpu)
  "$bin" apply -f - >/dev/null <<YAML
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: one-more-$n
spec:
  hosts: [one-more-$n.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
YAML
  applied=$(date +%s%N)
  wait_synced "$(revision)" "$start"
  perf_stop
  seen=$(( ($(date +%s%N) - start) / 1000000 ))
  last=$(last_ack "$start")
  echo "one more ServiceEntry ($n of 3) to every proxy's ACK: $last ms by the ACK times (after the apply returned: $(( last - (applied - start) / 1000000 )) ms; seen by polling at $seen ms)"
  cpu_line "one more $n" "$cp0" "$px0"
done

echo "node keys translated (effective keys: sidecars share one while nothing reads their labels): $(grep -o 'translated [^ ]* →' "$work/cp.log" | sort -u | wc -l)"
echo "translation per node key (control plane log):"
grep -o 'translated .* in [0-9.]* ms.*' "$work/cp.log" | tail -n 12 | sed 's/^/  /' || echo "  (not logged)"
rss=$(grep VmHWM "/proc/$cp_pid/status" | awk '{print $2}')
echo "control plane peak RSS: $(( rss / 1024 )) MiB"
proxy_rss=$(grep VmHWM "/proc/${pids[1]}/status" | awk '{print $2}')
echo "one proxy (sleep-1) peak RSS: $(( proxy_rss / 1024 )) MiB"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
