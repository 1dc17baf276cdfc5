# Sourced by the bench scripts: which program runs the proxies they measure, as `"${proxy_bin[@]}" --config ...`.
# The product's: the Native AOT meshgate-proxy that ./meshgate publishes beside meshgate (what `meshgate up` and the
# local cluster start), else `meshgate proxy`. MESHGATE_BENCH_PROXY=jit measures `meshgate proxy` (JIT + ReadyToRun)
# even when meshgate-proxy is there; MESHGATE_BENCH_PROXY=/path/to/program measures that program.
# Needs $root (the repository) set, and ./meshgate built.
case "${MESHGATE_BENCH_PROXY:-}" in
  jit) proxy_bin=("$root/artifacts/meshgate/meshgate" proxy) ;;
  "") if [[ -x "$root/artifacts/meshgate/meshgate-proxy" ]]; then proxy_bin=("$root/artifacts/meshgate/meshgate-proxy" proxy); else proxy_bin=("$root/artifacts/meshgate/meshgate" proxy); fi ;;
  *) proxy_bin=("$MESHGATE_BENCH_PROXY" proxy) ;;
esac
echo "bench: proxies run as: ${proxy_bin[*]}" >&2
