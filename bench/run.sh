#!/usr/bin/env bash
# Runs Meshgate's egress gateway beside nginx and HAProxy with ../shared/bench (see its README),
# with access logging on (bench/gateway.yaml) and off (bench/gateway-nolog.yaml), and prints ratios.
# Usage: bench/run.sh [run.sh options, e.g. --rounds 6 --modes "http-ka tls-ka"]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${MESHGATE_BENCH_SHARED:-$root/../shared/bench}"
[[ -x "$shared/run.sh" ]] || { echo "bench/run.sh: $shared/run.sh not found (set MESHGATE_BENCH_SHARED)" >&2; exit 1; }
# Every package the peers need, checked by package (nginx without libnginx-mod-stream cannot load its stream module).
missing=()
for package in nginx libnginx-mod-stream haproxy wrk nghttp2-client openssl curl; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "bench/run.sh: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p /tmp/egress-bench
"$root/meshgate" --help >/dev/null   # build once before timing anything
. "$root/bench/proxy-binary.sh"
"$shared/peers.sh" start
trap '"$shared/peers.sh" stop' EXIT
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_TieredPGO=1
"$shared/peers.sh" start-extra meshgate-log --wait 127.0.0.1:19380 --wait 127.0.0.1:19743 -- "${proxy_bin[@]}" --config "$root/bench/gateway.yaml" --admin-port 0 --status-port 0
"$shared/peers.sh" start-extra meshgate-nolog --wait 127.0.0.1:19381 --wait 127.0.0.1:19744 -- "${proxy_bin[@]}" --config "$root/bench/gateway-nolog.yaml" --admin-port 0 --status-port 0
"$shared/run.sh" --gateway meshgate-log=127.0.0.1:19380,127.0.0.1:19743 --gateway meshgate-nolog=127.0.0.1:19381,127.0.0.1:19744 --warmup-extra 30 "$@"
