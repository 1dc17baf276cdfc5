#!/usr/bin/env bash
# Soak run (issue item 6): the two-hop path (curl-like client → sidecar → egress gateway → nginx origin) at a steady
# load for N minutes while the configuration changes every few seconds. Samples every 10 s the RSS (VmRSS) and open
# file descriptors of each Meshgate process and the load's errors, prints a table, writes a CSV under artifacts/soak/,
# and ends with the RSS growth after warm-up and the error count. Exit 1 when growth >= 5 % or any error.
#
#   bench/soak.sh [--minutes N] [--rps R] [--change-every S] [--heap-report]     (KEEP=1 keeps the logs and data)
#
# --heap-report: after the last sample (so the forced full GC cannot change what was measured), a GC heap dump of
# each Meshgate process (dotnet-gcdump) under artifacts/soak/ and its largest types, to tell a leak from warm-up.
#
# Load: wrk over HTTP/1.1 keep-alive (2 connections, a pause after each answer sized to the rate), in 10-second runs
# back to back, so each sample counts that interval's requests, non-2xx answers and socket errors. Loopback only; every process it starts
# is stopped on exit.
# Growth: per process, the median of the last 3 samples against the median of the first 3 after warm-up (the first
# 20 % of the samples are warm-up), so that one GC more or less does not decide it.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=30
rps=50
change_every=5
heap_report=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --rps) rps="$2"; shift 2 ;;
    --change-every) change_every="$2"; shift 2 ;;
    --heap-report) heap_report=1; shift ;;
    *) echo "usage: bench/soak.sh [--minutes N] [--rps R] [--change-every S] [--heap-report]" >&2; exit 2 ;;
  esac
done
gcdump=$(command -v dotnet-gcdump || echo "$HOME/.dotnet/tools/dotnet-gcdump")
if [[ -n "$heap_report" && ! -x "$gcdump" ]]; then
  echo "bench/soak.sh: --heap-report needs dotnet-gcdump (dotnet tool install -g dotnet-gcdump)" >&2; exit 1
fi
[[ "$minutes" =~ ^[0-9]+$ && "$minutes" -ge 1 ]] || { echo "bench/soak.sh: --minutes must be a whole number >= 1, got '$minutes'" >&2; exit 2; }
[[ "$rps" =~ ^[0-9]+$ && "$rps" -ge 2 ]] || { echo "bench/soak.sh: --rps must be a whole number >= 2, got '$rps'" >&2; exit 2; }
[[ "$change_every" =~ ^[0-9]+$ && "$change_every" -ge 1 ]] || { echo "bench/soak.sh: --change-every must be a whole number of seconds >= 1, got '$change_every'" >&2; exit 2; }
for tool in wrk nginx curl python3 bc; do
  command -v "$tool" >/dev/null || { echo "bench/soak.sh: $tool is required (apt-get install wrk nginx curl python3 bc)" >&2; exit 1; }
done

./meshgate --help >/dev/null   # builds when needed
bin=$PWD/artifacts/meshgate/meshgate
root=$PWD; . bench/proxy-binary.sh
work=$(mktemp -d /tmp/meshgate-soak-XXXXXX)
mkdir -p artifacts/soak
csv=artifacts/soak/soak-$(date -u +%Y%m%dT%H%M%SZ).csv
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "${KEEP:-}" ]]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

origin=127.0.0.93
workload=127.0.0.94
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api_port=$(free_port)
disc_port=$(free_port)
server="https://127.0.0.1:$api_port"   # HTTPS with the mesh CA's certificate and the admin token (DATA/kubeconfig)

# The origin: nginx answering 200 for edition.cnn.com on $origin:80.
user=""; [[ $EUID -eq 0 ]] && user="user root;"
cat >"$work/nginx.conf" <<EOF
$user
worker_processes 1;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fastcgi;
  uwsgi_temp_path $work/nginx-uwsgi;
  scgi_temp_path $work/nginx-scgi;
  server { listen $origin:80; location / { return 200 'politics\n'; } }
}
EOF
nginx -p "$work/" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=("$!")
# The proxies resolve edition.cnn.com through a hosts file (MESHGATE_HOSTS_FILE), so no DNS server is involved.
echo "$origin edition.cnn.com" >"$work/hosts"
export MESHGATE_HOSTS_FILE="$work/hosts"

"$bin" controlplane --data "$work/data" --listen "127.0.0.1:$api_port" --discovery-port "$disc_port" >"$work/controlplane.log" 2>&1 &
cp_pid=$!
pids+=("$cp_pid")
roots="$work/data/ca/mesh-roots.pem" kubeconfig="$work/data/kubeconfig"
ready() { [[ -s "$roots" ]] && curl -sf --cacert "$roots" "$server/readyz" >/dev/null; }
for _ in $(seq 1 600); do ready && break; sleep 0.1; done
ready || { echo "bench/soak.sh: the control plane did not get ready:" >&2; cat "$work/controlplane.log" >&2; exit 1; }

apply() { "$bin" apply -f - --kubeconfig "$kubeconfig" >>"$work/changes.log" 2>&1; }
apply <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    accessLogFile: /dev/stdout
    meshgate:
      egress:
        allowedCidrs: [$origin/32]
---
apiVersion: v1
kind: Service
metadata: {name: istio-egressgateway, namespace: istio-system, labels: {istio: egressgateway}}
spec:
  selector: {istio: egressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: cnn}
spec:
  hosts: [edition.cnn.com]
  ports: [{number: 80, name: http-port, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [edition.cnn.com]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: egressgateway-for-cnn}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: cnn}]
EOF
virtual_service() { # $1: the gateway route's timeout
  apply <<EOF
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: direct-cnn-through-egress-gateway}
spec:
  hosts: [edition.cnn.com]
  gateways: [istio-egressgateway, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: cnn, port: {number: 80}}}]
  - match: [{gateways: [istio-egressgateway], port: 80}]
    timeout: $1
    route: [{destination: {host: edition.cnn.com, port: {number: 80}}}]
EOF
}
virtual_service 15s

proxy() { # role name namespace labels service-account
  "${proxy_bin[@]}" --discovery-address "127.0.0.1:$disc_port" --ca-root-file "$work/data/ca/root-cert.pem" --role "$1" \
    --name "$2" --namespace "$3" --labels "$4" --service-account "$5" --ip "$workload" --admin-port 0 --status-port 0 \
    >"$work/$2.log" 2>&1 &
}
proxy gateway istio-egressgateway-1 istio-system istio=egressgateway,app=istio-egressgateway istio-egressgateway-service-account
gw_pid=$!
pids+=("$gw_pid")
proxy sidecar sleep-1 default app=sleep sleep
sc_pid=$!
pids+=("$sc_pid")

two_hops() { curl -s -o /dev/null -w '%{http_code}' -x "http://$workload:15001" http://edition.cnn.com/politics 2>/dev/null || true; }
for _ in $(seq 1 600); do
  [[ "$(two_hops)" == 200 ]] && break
  sleep 0.1
done
code=$(two_hops)
[[ "$code" == 200 ]] || { echo "bench/soak.sh: the two-hop path does not answer 200 (got $code); logs in $work" >&2; KEEP=1; exit 1; }

# Config changes every $change_every s, in a cycle: add a ServiceEntry, change the gateway route's timeout, delete the
# ServiceEntry added before. A failed change is an error of the run.
changer() {
  local i=0
  while true; do
    sleep "$change_every"
    i=$((i + 1))
    case $((i % 3)) in
      0) printf 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: soak-%d}\nspec:\n  hosts: [soak-%d.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: DNS\n' "$i" "$i" | apply || echo "change $i failed" >>"$work/change-errors" ;;
      1) virtual_service "$((10 + i % 7))s" || echo "change $i failed" >>"$work/change-errors" ;;
      2) if (( i >= 5 )); then "$bin" delete serviceentry "soak-$((i - 2))" --kubeconfig "$kubeconfig" >>"$work/changes.log" 2>&1 || echo "change $i failed" >>"$work/change-errors"; fi ;;
    esac
    echo "$i" >"$work/changes"
  done
}
: >"$work/change-errors"
echo 0 >"$work/changes"
changer &
pids+=("$!")

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# wrk with a Lua script: absolute-form requests (what an explicit proxy is sent), a pause after each answer that
# holds each connection near its share of the rate, and a count of answers that are not 2xx.
clients=2
cat >"$work/load.lua" <<EOF
wrk.path = "http://edition.cnn.com/politics"
wrk.headers["Host"] = "edition.cnn.com"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function delay() return $(( 1000 * clients / rps )) end
function response(status, headers, body) if status < 200 or status > 299 then non2xx = non2xx + 1 end end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("non2xx") end
  io.write(string.format("soak: %d requests, %d non2xx, %d socket errors\\n", summary.requests, n,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
EOF
samples=$(( minutes * 6 ))
echo "soak: $minutes min, about $rps requests/s (wrk, $clients connections, $(( 1000 * clients / rps )) ms pause after each answer), a config change every $change_every s; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "time_s,requests,non_2xx,socket_errors,config_changes,change_errors,cp_rss_kib,cp_fds,gateway_rss_kib,gateway_fds,sidecar_rss_kib,sidecar_fds,load1" >"$csv"
printf '%6s %8s %7s %7s %7s %10s %6s %10s %6s %10s %6s %5s\n' time requests non2xx sockerr changes cp_rss_MiB cp_fd gw_rss_MiB gw_fd sc_rss_MiB sc_fd load
start=$(date +%s)
for n in $(seq 1 "$samples"); do
  out=$(wrk -t 1 -c "$clients" -d 10s --timeout 5s -s "$work/load.lua" "http://$workload:15001/" 2>&1 || true)
  read -r total non2xx sockerr < <(awk '/^soak:/ {print $2, $4, $6}' <<<"$out")
  if [[ -z "${total:-}" ]]; then echo "bench/soak.sh: wrk gave no summary:" >&2; echo "$out" >&2; KEEP=1; exit 1; fi
  for pid in "$cp_pid" "$gw_pid" "$sc_pid"; do
    kill -0 "$pid" 2>/dev/null || { echo "bench/soak.sh: process $pid exited; logs in $work" >&2; KEEP=1; exit 1; }
  done
  t=$(( $(date +%s) - start ))
  changes=$(cat "$work/changes")
  change_errors=$(wc -l <"$work/change-errors")
  cpr=$(rss "$cp_pid"); cpf=$(fds "$cp_pid"); gwr=$(rss "$gw_pid"); gwf=$(fds "$gw_pid"); scr=$(rss "$sc_pid"); scf=$(fds "$sc_pid")
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "$t,$total,$non2xx,$sockerr,$changes,$change_errors,$cpr,$cpf,$gwr,$gwf,$scr,$scf,$load" >>"$csv"
  printf '%6d %8d %7d %7d %7d %10.1f %6d %10.1f %6d %10.1f %6d %5s\n' "$t" "$total" "$non2xx" "$sockerr" "$changes" \
    "$(bc -l <<<"$cpr/1024")" "$cpf" "$(bc -l <<<"$gwr/1024")" "$gwf" "$(bc -l <<<"$scr/1024")" "$scf" "$load"
done

echo "CSV: $csv"
if [[ -n "$heap_report" ]]; then
  for named in "controlplane:$cp_pid" "gateway:$gw_pid" "sidecar:$sc_pid"; do
    dump="${csv%.csv}-${named%%:*}.gcdump"
    before=$(( $(rss "${named##*:}") / 1024 ))
    if "$gcdump" collect -p "${named##*:}" -o "$dump" >/dev/null 2>&1; then
      echo "--- ${named%%:*}: GC heap after the run (RSS $before MiB before the dump's full GC, $(( $(rss "${named##*:}") / 1024 )) MiB after), largest types ($dump)"
      "$gcdump" report "$dump" 2>&1 | head -n 22
    else
      echo "--- ${named%%:*}: dotnet-gcdump failed" >&2
    fi
  done
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
after = rows[len(rows) // 5:]
if len(after) < 3:
    after = rows
def med(xs): return statistics.median(xs)
worst = 0.0
for name in ("cp", "gateway", "sidecar"):
    first = med([int(r[f"{name}_rss_kib"]) for r in after[:3]])
    last = med([int(r[f"{name}_rss_kib"]) for r in after[-3:]])
    growth = (last - first) / first * 100
    worst = max(worst, growth)
    fds = [int(r[f"{name}_fds"]) for r in after]
    print(f"{name}: RSS after warm-up {first / 1024:.1f} MiB -> {last / 1024:.1f} MiB ({growth:+.1f} %), "
          f"fds {fds[0]} -> {fds[-1]} (max {max(fds)})")
requests = sum(int(r["requests"]) for r in rows)
errors = sum(int(r["non_2xx"]) + int(r["socket_errors"]) for r in rows)
change_errors = int(rows[-1]["change_errors"])
print(f"requests {requests}, errors {errors} (non-2xx + socket), config changes {rows[-1]['config_changes']} "
      f"({change_errors} failed), worst RSS growth after warm-up {worst:+.1f} %")
ok = worst < 5 and errors == 0 and change_errors == 0
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
