#!/usr/bin/env bash
# bench/modes.sh — the modes issue 14 adds to the loopback benchmark: the sidecar's explicit proxy (absolute-form HTTP
# and CONNECT tunnels) against Squid, nginx and HAProxy; the two-hop egress chain (client → sidecar → gateway → origin)
# for Meshgate, nginx→nginx and HAProxy→HAProxy, at full load and at a fixed rate (p99 added over direct); and the
# same chain with the sidecar→gateway hop in mutual TLS (MUTUAL for everyone; for Meshgate also ISTIO_MUTUAL, which
# speaks HTTP/2 on that hop).
#
# Usage: bench/modes.sh [--modes "explicit-http explicit-connect two-hop two-hop-rate mtls-hop"]
#                       [--rounds 3] [--duration 10] [--warmup 5] [--warmup-extra 30] [--connections 50]
#                       [--rate 1000] [--rate-connections 10] [--out DIR]
# Hold the machine-wide lock: flock /tmp/meshgate-bench.lock bench/modes.sh ...
#
# Method as ../shared/bench/run.sh (its README): the proxies under test on core 1 (CPU_GW), one worker each (nginx
# worker_processes 1, HAProxy nbthread 1, Squid workers 1, .NET through its affinity mask); both hops of a chain on
# that same core; the load generator and the origin (../shared/bench/peers.sh) on core 0 (CPU_LOAD). Per mode a
# warm-up of every target (Meshgate gets --warmup-extra more: JIT tiering), then rounds of every target back to back,
# so ratios are taken within a round and their median over rounds is what to quote. Access logs on for everyone.
# Measured per run: req/s, p50/p99, errors, CPU of the proxy processes (both hops of a chain) per request, peak RSS.
#
# Load generators: wrk for HTTP (absolute-form through a Lua script, as `curl -x` sends it; the fixed-rate mode
# paces each connection with the script's delay()); hey for CONNECT (Go's client opens one CONNECT tunnel per
# connection and sends keep-alive HTTPS requests through it; wrk cannot tunnel). hey's figures are only compared
# with hey's: it spends more CPU per request than wrk, so on core 0 it may be the limit (direct shows that).
#
# State (configs, certificates with 0600 keys, logs, pid files, results) lives in $MODES_STATE
# (/tmp/egress-bench-modes); access logs are deleted after each mode unless MODES_KEEP_LOGS=1. Only processes this
# script started are stopped, by PID, even on failure.
{ # the whole script is one block, read before it runs: editing the file during a run cannot change that run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${MESHGATE_BENCH_SHARED:-$root/../shared/bench}"
[[ -x "$shared/peers.sh" ]] || { echo "bench/modes.sh: $shared/peers.sh not found (set MESHGATE_BENCH_SHARED)" >&2; exit 1; }

STATE=${MODES_STATE:-/tmp/egress-bench-modes}
export BENCH_STATE=$STATE   # peers.sh keeps the origin, pid files and logs here, apart from bench/run.sh's
MODES="explicit-http explicit-connect two-hop two-hop-rate mtls-hop"
ROUNDS=3 DURATION=10 WARMUP=5 WARMUP_EXTRA=30 CONNS=50 RATE=1000 RATE_CONNS=10 OUT=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --modes) MODES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --warmup-extra) WARMUP_EXTRA=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --rate-connections) RATE_CONNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "bench/modes.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for m in $MODES; do
  case $m in
    explicit-http|explicit-connect|two-hop|two-hop-rate|mtls-hop) ;;
    *) echo "bench/modes.sh: --modes: unknown mode $m" >&2; exit 2 ;;
  esac
done
for v in ROUNDS DURATION WARMUP WARMUP_EXTRA CONNS RATE RATE_CONNS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench/modes.sh: --$(tr 'A-Z_' 'a-z-' <<< "$v"): not a whole number: ${!v}" >&2; exit 2; }
done
((ROUNDS >= 1 && DURATION >= 1 && CONNS >= 1 && RATE >= 1 && RATE_CONNS >= 1)) \
  || { echo "bench/modes.sh: --rounds, --duration, --connections, --rate and --rate-connections must be at least 1" >&2; exit 2; }

# Every package the peers and load generators need, checked by package.
missing=()
for package in nginx libnginx-mod-stream haproxy squid wrk hey openssl curl; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "bench/modes.sh: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

CPU_LOAD=${CPU_LOAD-0}
CPU_GW=${CPU_GW-1}
HOST=edition.cnn.com
BODY="origin-ok $(printf '%089d' 0)"   # what peers.sh's origin answers
ORIGIN_HTTP=127.0.0.1:19080 ORIGIN_TLS=127.0.0.1:19443
# Ports of the proxies under test (127.0.0.1; apart from peers.sh's 191xx-196xx and bench/run.sh's 193xx/197xx).
MG_EXPLICIT=19501 SQUID=19502 NGINX_FWD=19503 HAPROXY_FWD=19504
MG_SIDE=19511 MG_GW=19512 NGINX_SIDE=19513 NGINX_GW=19514 HAPROXY_SIDE=19515 HAPROXY_GW=19516
MG_SIDE_MTLS=19521 MG_GW_MTLS=19522 NGINX_SIDE_MTLS=19523 NGINX_GW_MTLS=19524 HAPROXY_SIDE_MTLS=19525 HAPROXY_GW_MTLS=19526
MG_SIDE_ISTIO=19527 MG_GW_ISTIO=19528 MG_SIDE_TUNNEL=19529 MG_GW_TUNNEL=19530

log() { printf '[modes] %s\n' "$*" >&2; }
die() { printf '[modes] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$STATE"
"$shared/peers.sh" stop   # what an earlier run of this script left (its own pid files only)
trap '"$shared/peers.sh" stop' EXIT
"$root/meshgate" --help > /dev/null   # build once before timing anything
. "$root/bench/proxy-binary.sh"
OUT=${OUT:-$STATE/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/raw" "$STATE/conf" "$STATE/logs"
"$shared/peers.sh" start   # the origin (and peers.sh's own reference gateways, idle here)

# --- certificates for the mutual-TLS hop: one CA, the gateway's server certificate (SAN edition.cnn.com, the SNI the
# sidecar sends), the sidecar's client certificate (a SPIFFE URI as Istio's). Keys 0600.
gen_certs() {
  local d=$STATE/pki
  rm -rf "$d"; mkdir -p "$d"; chmod 700 "$d"
  (
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=bench mesh CA" \
      -keyout "$d/ca.key" -out "$d/ca.pem" 2> /dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$HOST" -keyout "$d/gateway.key" \
      -out "$d/gateway.csr" 2> /dev/null
    openssl x509 -req -in "$d/gateway.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
      -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$HOST") -out "$d/gateway.pem" 2> /dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=sidecar" -keyout "$d/sidecar.key" \
      -out "$d/sidecar.csr" 2> /dev/null
    openssl x509 -req -in "$d/sidecar.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
      -extfile <(printf 'subjectAltName=URI:spiffe://cluster.local/ns/bench/sa/sidecar\nextendedKeyUsage=clientAuth\n') \
      -out "$d/sidecar.pem" 2> /dev/null
    cat "$d/gateway.pem" "$d/gateway.key" > "$d/gateway-bundle.pem"   # HAProxy's crt: chain and key in one file
    cat "$d/sidecar.pem" "$d/sidecar.key" > "$d/sidecar-bundle.pem"
  )
}

indent() { sed 's/^/    /' "$1"; }

# The secrets section of a Meshgate config: ROLE's certificate (sidecar or gateway) and the bench CA, under the names
# its tls settings use, or, for the mesh tunnel, as the proxy's own default and ROOTCA.
meshgate_secrets() { # meshgate_secrets ROLE mtls|istio|tunnel
  local role=$1 cert=$1-cert ca=bench-ca
  [[ $2 == tunnel ]] && cert=default ca=ROOTCA
  printf 'secrets:\n- name: %s\n  certificateChain: |\n' "$cert"; indent "$STATE/pki/$role.pem"
  printf '  privateKey: |\n'; indent "$STATE/pki/$role.key"
  printf -- '- name: %s\n  trustedCa: |\n' "$ca"; indent "$STATE/pki/ca.pem"
}

# --- Meshgate configs (the shape the control plane sends; samples/proxy/sidecar.yaml, bench/gateway.yaml).
# A sidecar in explicit mode (port 15001's role): absolute-form requests and CONNECT are routed by their authority
# to the virtual listeners 0.0.0.0_80 and 0.0.0.0_19443 (CONNECT goes to edition.cnn.com:19443, the TLS origin's
# port, because Squid can only tunnel to the port the client names); anything else goes nowhere (REGISTRY_ONLY).
# HTTP_TARGET_PORT: where edition.cnn.com:80 goes (the origin, or the gateway). With mtls the cluster to the gateway
# originates mutual TLS (MUTUAL with the bench's certificates, what nginx and HAProxy do); with istio it is Istio's
# explicit ISTIO_MUTUAL (DestinationRule tls.mode ISTIO_MUTUAL), which offers ALPN h2 and http/1.1: HTTP/2 to the
# gateway. With tunnel it is Meshgate's own default for this hop, the mesh tunnel (docs/identity.md: ISTIO_MUTUAL,
# ALPN istio, HTTP/1.1 inside), each proxy's certificate and the root given as its static secrets default and ROOTCA.
meshgate_sidecar() { # meshgate_sidecar NAME PORT HTTP_TARGET_PORT [mtls|istio|tunnel]
  local name=$1 port=$2 target=$3 mtls=${4:-}
  {
    cat <<EOF
# bench/modes.sh: $name (sidecar role, explicit proxy)
version: bench-modes-1
accessLog: {path: $STATE/logs/$name-access.log, encoding: TEXT}
listeners:
- name: virtualOutbound
  address: 127.0.0.1
  port: $port
  protocol: HTTP
  explicitHttpProxy: true
  defaultFilterChain: {cluster: BlackHoleCluster}
- name: 0.0.0.0_80
  address: 0.0.0.0
  port: 80
  protocol: HTTP
  bindToPort: false
  filterChains: [{routeTable: "80"}]
- name: 0.0.0.0_${ORIGIN_TLS##*:}
  address: 0.0.0.0
  port: ${ORIGIN_TLS##*:}
  protocol: TLS
  bindToPort: false
  filterChains:
  - {serverNames: [$HOST], cluster: "outbound|443||$HOST"}
  defaultFilterChain: {cluster: BlackHoleCluster}
routeTables:
- name: "80"
  virtualHosts:
  - name: $HOST:80
    domains: [$HOST, "$HOST:80"]
    routes: [{forward: {clusters: [{name: "outbound|80||$HOST"}]}}]
clusters:
- name: outbound|80||$HOST
  discovery: STATIC
  endpoints: [{address: 127.0.0.1, port: $target}]
EOF
    if [[ $mtls == mtls ]]; then
      cat <<EOF
  tls: {mode: MUTUAL, sni: $HOST, caSecret: bench-ca, certificateSecret: sidecar-cert}
EOF
    elif [[ $mtls == istio ]]; then
      cat <<EOF
  tls: {mode: ISTIO_MUTUAL, sni: $HOST, caSecret: bench-ca, certificateSecret: sidecar-cert}
EOF
    elif [[ $mtls == tunnel ]]; then
      cat <<EOF
  tls: {mode: ISTIO_MUTUAL, tunnel: true}
EOF
    fi
    cat <<EOF
- name: outbound|443||$HOST
  discovery: STATIC
  endpoints: [{address: 127.0.0.1, port: ${ORIGIN_TLS##*:}}]
- {name: BlackHoleCluster, discovery: STATIC}
EOF
    [[ -z "$mtls" ]] || meshgate_secrets sidecar "$mtls"
  } > "$STATE/conf/$name.yaml"
  chmod 600 "$STATE/conf/$name.yaml"
}

# The egress gateway role (bench/gateway.yaml's HTTP half); with mtls its listener terminates mutual TLS and requires
# a client certificate the bench CA signed.
meshgate_gateway() { # meshgate_gateway NAME PORT [mtls|istio|tunnel]
  local name=$1 port=$2 mtls=${3:-}
  {
    cat <<EOF
# bench/modes.sh: $name (egress gateway role)
version: bench-modes-1
accessLog: {path: $STATE/logs/$name-access.log, encoding: TEXT}
listeners:
- name: gateway
  address: 127.0.0.1
  port: $port
EOF
    if [[ $mtls == mtls ]]; then
      cat <<EOF
  protocol: TLS
  filterChains:
  - serverNames: [$HOST]
    tls: {mode: MUTUAL, certificateSecret: gateway-cert, caSecret: bench-ca}
    routeTable: gateway
EOF
    elif [[ $mtls == istio ]]; then
      cat <<EOF
  protocol: TLS
  filterChains:
  - serverNames: [$HOST]
    tls: {mode: ISTIO_MUTUAL, certificateSecret: gateway-cert, caSecret: bench-ca}
    routeTable: gateway
EOF
    else
      cat <<EOF
  protocol: HTTP
  defaultFilterChain: {routeTable: gateway}
EOF
    fi
    cat <<EOF
routeTables:
- name: gateway
  virtualHosts:
  - name: $HOST:80
    domains: [$HOST, "$HOST:80", "$HOST:$port"]
    routes: [{forward: {clusters: [{name: "outbound|80||$HOST"}]}}]
clusters:
- name: outbound|80||$HOST
  discovery: STATIC
  endpoints: [{address: 127.0.0.1, port: ${ORIGIN_HTTP##*:}}]
EOF
    # With tunnel the plain HTTP listener unwraps the tunnel with the proxy's own default and ROOTCA.
    [[ -z "$mtls" ]] || meshgate_secrets gateway "$mtls"
  } > "$STATE/conf/$name.yaml"
  chmod 600 "$STATE/conf/$name.yaml"
}

# --- nginx: one worker, keep-alive both sides, access log on (buffered, as an operator would at this rate).
# UPSTREAM: host:port of the next hop; TLS_CLIENT: originate mutual TLS to it; TLS_SERVER: terminate mutual TLS.
nginx_conf() { # nginx_conf NAME LISTEN_PORT UPSTREAM [client-mtls|server-mtls]
  local name=$1 port=$2 upstream=$3 tls=${4:-} d=$STATE/$1 listen_tls="" scheme=http proxy_tls="" server_tls=""
  mkdir -p "$d"
  if [[ $tls == server-mtls ]]; then
    listen_tls=" ssl"
    server_tls="ssl_certificate $STATE/pki/gateway.pem;
        ssl_certificate_key $STATE/pki/gateway.key;
        ssl_client_certificate $STATE/pki/ca.pem;
        ssl_verify_client on;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:GW_TLS:10m;"
  elif [[ $tls == client-mtls ]]; then
    scheme=https
    proxy_tls="proxy_ssl_certificate $STATE/pki/sidecar.pem;
            proxy_ssl_certificate_key $STATE/pki/sidecar.key;
            proxy_ssl_trusted_certificate $STATE/pki/ca.pem;
            proxy_ssl_verify on;
            proxy_ssl_name $HOST;
            proxy_ssl_server_name on;
            proxy_ssl_session_reuse on;"
  fi
  cat > "$d/nginx.conf" <<EOF
# bench/modes.sh: $name, 1 worker
worker_processes 1;
user root;
pid $d/nginx.pid;
error_log $STATE/logs/$name-error.log warn;
events { worker_connections 16384; }
http {
    access_log $STATE/logs/$name-access.log combined buffer=64k flush=1s;
    server_tokens off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    upstream next_hop {
        server $upstream;
        keepalive 256;
        keepalive_requests 10000000;
        keepalive_timeout 120s;
    }
    map \$host \$known_host {   # a forward proxy for that one host: anything else is refused
        $HOST 1;
        default 0;
    }
    server {
        listen 127.0.0.1:$port$listen_tls backlog=4096;
        $server_tls
        location / {
            if (\$known_host = 0) { return 421; }
            proxy_pass $scheme://next_hop;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            $proxy_tls
        }
    }
}
EOF
  nginx -t -q -c "$d/nginx.conf" -p "$d" -g 'daemon off;'
}

# --- HAProxy: one thread, connection reuse to the next hop, HTTP log on stdout (peers.sh sends it to a file).
# An absolute-form request is forwarded in origin-form (RFC 9112 §3.2.1), as nginx, Squid and Meshgate do.
haproxy_conf() { # haproxy_conf NAME LISTEN_PORT UPSTREAM [client-mtls|server-mtls]
  local name=$1 port=$2 upstream=$3 tls=${4:-} d=$STATE/$1 bind_tls="" server_tls=""
  mkdir -p "$d"
  [[ $tls != server-mtls ]] || bind_tls=" ssl crt $STATE/pki/gateway-bundle.pem ca-file $STATE/pki/ca.pem verify required"
  [[ $tls != client-mtls ]] || server_tls=" ssl crt $STATE/pki/sidecar-bundle.pem ca-file $STATE/pki/ca.pem verify required verifyhost $HOST sni str($HOST)"
  cat > "$d/haproxy.cfg" <<EOF
# bench/modes.sh: $name, 1 thread
global
    nbthread 1
    maxconn 8000
    log stdout format raw local0 info
defaults
    log global
    option httplog
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 120s
    timeout http-request 30s
frontend http_in
    mode http
    bind 127.0.0.1:$port$bind_tls
    acl host_known req.hdr(host),field(1,:),lower -m str $HOST
    http-request return status 421 if !host_known
    use_backend next_hop if host_known
backend next_hop
    mode http
    http-reuse always
    http-request set-uri %[pathq]   # origin-form upstream, as nginx and Envoy send (HAProxy keeps absolute-form otherwise)
    server next $upstream$server_tls
EOF
  haproxy -c -q -f "$d/haproxy.cfg"
}

# --- Squid: one worker, no cache, persistent connections both sides, access log on. HTTP to edition.cnn.com:80 is
# pinned to the origin with cache_peer (an operator's way to send one domain to fixed addresses). Squid never sends
# a CONNECT to an originserver peer (checked: 500, HIER_NONE), so tunnels go direct: hosts_file maps edition.cnn.com
# to the origin's address and the client names the TLS origin's port (CONNECT edition.cnn.com:19443).
squid_conf() { # squid_conf NAME PORT
  local name=$1 port=$2 d=$STATE/$1
  mkdir -p "$d"
  cat > "$d/squid.conf" <<EOF
# bench/modes.sh: $name, 1 worker
workers 1
http_port 127.0.0.1:$port
pid_filename $d/squid.pid
cache_log $STATE/logs/$name-cache.log
access_log stdio:$STATE/logs/$name-access.log squid
cache_store_log none
coredump_dir $d
cache deny all
cache_mem 0 MB
max_filedescriptors 16384
client_persistent_connections on
server_persistent_connections on
client_idle_pconn_timeout 120 seconds
pconn_timeout 120 seconds
shutdown_lifetime 1 seconds
acl cnn dstdomain $HOST
acl CONNECT method CONNECT
acl port_80 port 80
acl port_tls port ${ORIGIN_TLS##*:}
http_access allow cnn port_80 !CONNECT
http_access allow cnn port_tls CONNECT
http_access deny all
cache_peer ${ORIGIN_HTTP%:*} parent ${ORIGIN_HTTP##*:} 0 no-query no-digest originserver name=cnn_http
cache_peer_access cnn_http allow cnn !CONNECT
cache_peer_access cnn_http deny all
never_direct allow !CONNECT
hosts_file $d/hosts
EOF
  printf '%s %s\n' "${ORIGIN_TLS%:*}" "$HOST" > "$d/hosts"
  chown -R proxy:proxy "$d"
  touch "$STATE/logs/$name-access.log" "$STATE/logs/$name-cache.log"
  chown proxy:proxy "$STATE/logs/$name-access.log" "$STATE/logs/$name-cache.log"
  squid -k parse -f "$d/squid.conf" > "$d/parse.log" 2>&1 || { cat "$d/parse.log" >&2; die "$name: squid -k parse failed"; }
}

# --- starting processes (peers.sh start-extra: pinned to CPU_GW, PID recorded, stopped by PID)
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_TieredPGO=1
start() { # start NAME PORT CMD...
  local name=$1 port=$2; shift 2
  "$shared/peers.sh" start-extra "$name" --cpu "$CPU_GW" --wait "127.0.0.1:$port" -- "$@"
  STARTED+=("$name")
}
start_meshgate() { start "$1" "$2" "${proxy_bin[@]}" --config "$STATE/conf/$1.yaml" --admin-port 0 --status-port 0; }
start_nginx() { start "$1" "$2" nginx -c "$STATE/$1/nginx.conf" -p "$STATE/$1" -g 'daemon off;'; }
start_haproxy() { start "$1" "$2" haproxy -db -f "$STATE/$1/haproxy.cfg"; }
start_squid() { start "$1" "$2" squid -N -f "$STATE/$1/squid.conf"; }

declare -A ADDR=() PROCS=()
STARTED=()
TARGETS=""
target() { # target NAME ADDR PROCESS-NAME...
  local name=$1 addr=$2; shift 2
  ADDR[$name]=$addr; PROCS[$name]="$*"; TARGETS="$TARGETS $name"
}

setup_mode() { # starts the targets of a mode and smoke-tests each
  local m=$1
  TARGETS="" STARTED=()
  case $m in
    explicit-http|explicit-connect)
      meshgate_sidecar mg-explicit $MG_EXPLICIT "${ORIGIN_HTTP##*:}"
      start_meshgate mg-explicit $MG_EXPLICIT
      squid_conf squid $SQUID; start_squid squid $SQUID
      if [[ $m == explicit-http ]]; then
        target direct "$ORIGIN_HTTP"
        target meshgate "127.0.0.1:$MG_EXPLICIT" mg-explicit
        target squid "127.0.0.1:$SQUID" squid
        nginx_conf nginx-fwd $NGINX_FWD "$ORIGIN_HTTP"; start_nginx nginx-fwd $NGINX_FWD
        haproxy_conf haproxy-fwd $HAPROXY_FWD "$ORIGIN_HTTP"; start_haproxy haproxy-fwd $HAPROXY_FWD
        target nginx "127.0.0.1:$NGINX_FWD" nginx-fwd
        target haproxy "127.0.0.1:$HAPROXY_FWD" haproxy-fwd
      else
        # nginx and HAProxy cannot open CONNECT tunnels (no such module in Debian's nginx; HAProxy forwards the
        # CONNECT request instead of answering it), so this mode has Squid as its only peer.
        target direct "$ORIGIN_TLS"
        target meshgate "127.0.0.1:$MG_EXPLICIT" mg-explicit
        target squid "127.0.0.1:$SQUID" squid
      fi ;;
    two-hop|two-hop-rate)
      meshgate_gateway mg-gateway $MG_GW; start_meshgate mg-gateway $MG_GW
      meshgate_sidecar mg-sidecar $MG_SIDE $MG_GW; start_meshgate mg-sidecar $MG_SIDE
      nginx_conf nginx-gateway $NGINX_GW "$ORIGIN_HTTP"; start_nginx nginx-gateway $NGINX_GW
      nginx_conf nginx-sidecar $NGINX_SIDE "127.0.0.1:$NGINX_GW"; start_nginx nginx-sidecar $NGINX_SIDE
      haproxy_conf haproxy-gateway $HAPROXY_GW "$ORIGIN_HTTP"; start_haproxy haproxy-gateway $HAPROXY_GW
      haproxy_conf haproxy-sidecar $HAPROXY_SIDE "127.0.0.1:$HAPROXY_GW"; start_haproxy haproxy-sidecar $HAPROXY_SIDE
      target direct "$ORIGIN_HTTP"
      target meshgate "127.0.0.1:$MG_SIDE" mg-sidecar mg-gateway
      target nginx "127.0.0.1:$NGINX_SIDE" nginx-sidecar nginx-gateway
      target haproxy "127.0.0.1:$HAPROXY_SIDE" haproxy-sidecar haproxy-gateway ;;
    mtls-hop)
      gen_certs   # fresh each run (30-day certificates)
      meshgate_gateway mg-gateway-mtls $MG_GW_MTLS mtls; start_meshgate mg-gateway-mtls $MG_GW_MTLS
      meshgate_sidecar mg-sidecar-mtls $MG_SIDE_MTLS $MG_GW_MTLS mtls; start_meshgate mg-sidecar-mtls $MG_SIDE_MTLS
      nginx_conf nginx-gateway-mtls $NGINX_GW_MTLS "$ORIGIN_HTTP" server-mtls; start_nginx nginx-gateway-mtls $NGINX_GW_MTLS
      nginx_conf nginx-sidecar-mtls $NGINX_SIDE_MTLS "127.0.0.1:$NGINX_GW_MTLS" client-mtls
      start_nginx nginx-sidecar-mtls $NGINX_SIDE_MTLS
      haproxy_conf haproxy-gateway-mtls $HAPROXY_GW_MTLS "$ORIGIN_HTTP" server-mtls
      start_haproxy haproxy-gateway-mtls $HAPROXY_GW_MTLS
      haproxy_conf haproxy-sidecar-mtls $HAPROXY_SIDE_MTLS "127.0.0.1:$HAPROXY_GW_MTLS" client-mtls
      start_haproxy haproxy-sidecar-mtls $HAPROXY_SIDE_MTLS
      target direct "$ORIGIN_HTTP"
      target meshgate "127.0.0.1:$MG_SIDE_MTLS" mg-sidecar-mtls mg-gateway-mtls
      meshgate_gateway mg-gateway-istio $MG_GW_ISTIO istio; start_meshgate mg-gateway-istio $MG_GW_ISTIO
      meshgate_sidecar mg-sidecar-istio $MG_SIDE_ISTIO $MG_GW_ISTIO istio; start_meshgate mg-sidecar-istio $MG_SIDE_ISTIO
      target meshgate-istio "127.0.0.1:$MG_SIDE_ISTIO" mg-sidecar-istio mg-gateway-istio
      meshgate_gateway mg-gateway-tunnel $MG_GW_TUNNEL tunnel; start_meshgate mg-gateway-tunnel $MG_GW_TUNNEL
      meshgate_sidecar mg-sidecar-tunnel $MG_SIDE_TUNNEL $MG_GW_TUNNEL tunnel; start_meshgate mg-sidecar-tunnel $MG_SIDE_TUNNEL
      target meshgate-tunnel "127.0.0.1:$MG_SIDE_TUNNEL" mg-sidecar-tunnel mg-gateway-tunnel
      target nginx "127.0.0.1:$NGINX_SIDE_MTLS" nginx-sidecar-mtls nginx-gateway-mtls
      target haproxy "127.0.0.1:$HAPROXY_SIDE_MTLS" haproxy-sidecar-mtls haproxy-gateway-mtls ;;
  esac
  local t out
  for t in $TARGETS; do
    if [[ $m == explicit-connect ]]; then
      if [[ $t == direct ]]; then
        out=$(curl -sS --max-time 5 -k --resolve "$HOST:${ORIGIN_TLS##*:}:${ORIGIN_TLS%:*}" "https://$HOST:${ORIGIN_TLS##*:}/") || die "$m $t: curl failed"
      else
        out=$(curl -sS --max-time 5 -k -x "http://${ADDR[$t]}" "https://$HOST:${ORIGIN_TLS##*:}/") || die "$m $t: curl through CONNECT failed"
      fi
    elif [[ $t == direct ]]; then
      out=$(curl -sS --max-time 5 -H "Host: $HOST" "http://${ADDR[$t]}/") || die "$m $t: curl failed"
    else
      out=$(curl -sS --max-time 5 -x "http://${ADDR[$t]}" "http://$HOST/") || die "$m $t: curl (absolute-form) failed"
    fi
    [[ $out == "$BODY" ]] || die "$m $t: unexpected body '$out'"
  done
  log "$m: smoke ok for$TARGETS"
}

teardown_mode() { # stops the mode's processes and drops their access logs (they grow by hundreds of MB a run)
  if ((${#STARTED[@]})); then "$shared/peers.sh" stop "${STARTED[@]}"; fi
  local n
  if [[ -z "${MODES_KEEP_LOGS:-}" ]]; then
    rm -f "$STATE"/logs/*-access.log
    for n in "${STARTED[@]}"; do [[ $n != haproxy* ]] || rm -f "$STATE/logs/$n.log"; done   # HAProxy logs to stdout
  fi
}

# --- measuring (the method of ../shared/bench/run.sh)
pids_of() { # pids_of TARGET -> the processes of every hop, with their children (nginx's worker)
  local t=$1 name pid
  for name in ${PROCS[$t]}; do
    pid=$("$shared/peers.sh" pid "$name" 2> /dev/null) || continue
    echo "$pid"
    cat /proc/"$pid"/task/*/children 2> /dev/null | tr ' ' '\n' | grep -E '^[0-9]+$' || true
  done
}
cpu_ticks() {
  local p s sum=0
  for p in "$@"; do
    s=$(cat "/proc/$p/stat" 2> /dev/null) || continue
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}
hwm_reset() { local p; for p in "$@"; do echo 5 > "/proc/$p/clear_refs" 2> /dev/null || true; done; }
hwm_sum() {
  local p sum=0 v
  for p in "$@"; do
    v=$(awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2> /dev/null || true)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# wrk scripts: absolute-form (what an explicit proxy gets), and the paced variants for the fixed-rate mode: each of
# RATE_CONNS connections waits RATE_CONNS*1000/RATE ms before each request, so the rate is RATE at most (slightly less
# by the latency); the achieved rate is in the results.
write_lua() {
  local pace=$((RATE_CONNS * 1000 / RATE))
  printf 'wrk.path = "http://%s/"\nwrk.headers["Host"] = "%s"\n' "$HOST" "$HOST" > "$OUT/absolute.lua"
  { cat "$OUT/absolute.lua"; printf 'function delay() return %d end\n' "$pace"; } > "$OUT/absolute-paced.lua"
  printf 'wrk.headers["Host"] = "%s"\nfunction delay() return %d end\n' "$HOST" "$pace" > "$OUT/direct-paced.lua"
}

load() { # load MODE TARGET SECONDS -> generator output on stdout
  local m=$1 t=$2 secs=$3 a=${ADDR[$2]} pin=()
  [[ -n "$CPU_LOAD" ]] && pin=(taskset -c "$CPU_LOAD")
  case $m in
    explicit-connect)
      local proxy=()
      [[ $t == direct ]] || proxy=(-x "http://$a")
      local url="https://$HOST:${ORIGIN_TLS##*:}/"
      [[ $t == direct ]] && url="https://$a/"
      GOMAXPROCS=1 timeout $((secs + 30)) "${pin[@]}" hey -z "${secs}s" -c "$CONNS" -t 5 -host "$HOST" "${proxy[@]}" "$url" ;;
    two-hop-rate)
      local script=$OUT/absolute-paced.lua
      [[ $t == direct ]] && script=$OUT/direct-paced.lua
      timeout $((secs + 30)) "${pin[@]}" wrk --latency -t 1 -c "$RATE_CONNS" -d "${secs}s" --timeout 5s -s "$script" "http://$a/" ;;
    *)
      if [[ $t == direct ]]; then
        timeout $((secs + 30)) "${pin[@]}" wrk --latency -t 1 -c "$CONNS" -d "${secs}s" --timeout 5s -H "Host: $HOST" "http://$a/"
      else
        timeout $((secs + 30)) "${pin[@]}" wrk --latency -t 1 -c "$CONNS" -d "${secs}s" --timeout 5s -s "$OUT/absolute.lua" "http://$a/"
      fi ;;
  esac
}

parse_wrk() { # -> "rps p50_ms p99_ms requests sock_err non2xx"
  awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /m$/)  { sub(/m$/, "", v);  return v * 60000 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v + 0
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { req = $1 }
    /Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /^Requests\/sec:/ { rps = $2 }
    END { printf "%s %.3f %.3f %s %d %d\n", (rps == "" ? 0 : rps), p50, p99, (req == "" ? 0 : req), err, non2xx }
  ' "$1"
}
parse_hey() { # hey prints seconds with 4 decimals: its percentiles are 0.1 ms coarse
  awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" && $2 == "in" { p50 = $3 * 1000 }
    $1 == "99%" && $2 == "in" { p99 = $3 * 1000 }
    /^Status code distribution:/ { section = "status"; next }
    /^Error distribution:/ { section = "error"; next }
    section == "status" && /^ *\[[0-9]+\]/ { code = $1; gsub(/[][]/, "", code); req += $2; if (code !~ /^2/) non2xx += $2 }
    section == "error" && /^ *\[[0-9]+\]/ { n = $1; gsub(/[][]/, "", n); err += n }
    END { printf "%s %.3f %.3f %d %d %d\n", (rps == "" ? 0 : rps), p50, p99, req, err, non2xx }
  ' "$1"
}

RES="$OUT/results.tsv" RSS="$OUT/rss.tsv"
printf 'mode\ttarget\tround\trps\tp50_ms\tp99_ms\trequests\tsock_err\tnon2xx\tgw_cpu_us_per_req\tgw_cpu_pct\n' > "$RES"
printf 'mode\ttarget\tpeak_rss_kb\tpids\n' > "$RSS"
write_lua
{
  echo "# $(date -Is) $(uname -r) nproc=$(nproc) load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# modes: $MODES | rounds=$ROUNDS duration=${DURATION}s warmup=${WARMUP}s(+${WARMUP_EXTRA}s for Meshgate) c=$CONNS rate=$RATE/s over $RATE_CONNS connections"
  echo "# CPU_LOAD=${CPU_LOAD:-none} CPU_GW=${CPU_GW:-none}"
} | tee "$OUT/meta.txt" >&2

for m in $MODES; do
  setup_mode "$m"
  for t in $TARGETS; do echo "# $m $t ${ADDR[$t]} processes: ${PROCS[$t]:-none} pids: $(pids_of "$t" | tr '\n' ' ')" >> "$OUT/meta.txt"; done
  for t in $TARGETS; do
    # shellcheck disable=SC2046
    hwm_reset $(pids_of "$t")
    w=$WARMUP
    [[ $t != meshgate* ]] || w=$((WARMUP + WARMUP_EXTRA))
    if ((w > 0)); then
      # the fixed-rate mode warms up at full load (the same chains as two-hop), then measures at the rate
      wm=$m
      [[ $m == two-hop-rate ]] && wm=two-hop
      load "$wm" "$t" "$w" > "$OUT/raw/$m-$t-warmup.txt" 2>&1 || true
    fi
  done
  for ((r = 1; r <= ROUNDS; r++)); do
    for t in $TARGETS; do
      mapfile -t pids < <(pids_of "$t")
      c0=$(cpu_ticks "${pids[@]}"); t0=$(date +%s.%N)
      f="$OUT/raw/$m-$t-r$r.txt"
      load "$m" "$t" "$DURATION" > "$f" 2>&1 || log "load generator exited non-zero for $m $t r$r (see $f)"
      c1=$(cpu_ticks "${pids[@]}"); t1=$(date +%s.%N)
      if [[ $m == explicit-connect ]]; then
        read -r rps p50 p99 req err non2xx < <(parse_hey "$f")
      else
        read -r rps p50 p99 req err non2xx < <(parse_wrk "$f")
      fi
      if ((${#pids[@]})); then
        cpu=$(awk -v c0="$c0" -v c1="$c1" -v req="$req" -v tck="$(getconf CLK_TCK)" -v w0="$t0" -v w1="$t1" \
          'BEGIN { s = (c1 - c0) / tck; printf "%.1f\t%.1f", (req > 0 ? s * 1e6 / req : 0), 100 * s / (w1 - w0) }')
      else
        cpu=$'-\t-'
      fi
      printf '%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$t" "$r" "$rps" "$p50" "$p99" "$req" "$err" "$non2xx" "$cpu" >> "$RES"
      printf '[modes] %-16s %-9s r%d %10s req/s  p50 %7s ms  p99 %7s ms  err %s non2xx %s  cpu(us/req, %%) %s\n' \
        "$m" "$t" "$r" "$rps" "$p50" "$p99" "$err" "$non2xx" "${cpu//$'\t'/ }" >&2
    done
  done
  for t in $TARGETS; do
    mapfile -t pids < <(pids_of "$t")
    if ((${#pids[@]})); then printf '%s\t%s\t%s\t%s\n' "$m" "$t" "$(hwm_sum "${pids[@]}")" "${pids[*]}" >> "$RSS"; fi
  done
  teardown_mode
done
echo "# end $(date -Is) load: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/meta.txt"

python3 "$root/bench/modes-summary.py" "$OUT" | tee "$OUT/summary.md"
echo "[modes] results in $OUT (results.tsv raw, ratios.tsv summary, summary.md)" >&2
exit
}
