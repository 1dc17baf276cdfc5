#!/usr/bin/env bash
# Coverage-guided fuzzing of one parser with AFL++ and SharpFuzz (fuzz/README.md).
#
#   fuzz/run.sh TARGET [EXECUTIONS]     e.g. fuzz/run.sh clienthello 1000000
#
# Installs what is missing (afl++ from apt, the SharpFuzz.CommandLine dotnet tool), builds fuzz/Meshgate.Fuzz into
# fuzz/out/build, instruments the Meshgate assemblies there, runs afl-fuzz from fuzz/corpus/TARGET until about
# EXECUTIONS executions (default 1,000,000), prints execs_done, saved_crashes and saved_hangs, and minimises what
# afl-fuzz found into fuzz/out/TARGET/corpus (copy it to fuzz/corpus/TARGET to keep it). Exits non-zero when a crash
# or hang was saved; reproduce one with `dotnet fuzz/out/build/Meshgate.Fuzz.dll TARGET FILE`.
#
# Environment: FUZZ_TIMEOUT_MS (per input, default 2000), FUZZ_NICE (default 19), FUZZ_REBUILD=1 to rebuild,
# FUZZ_SECONDS to stop after that long even short of EXECUTIONS (the counts printed say what was reached), FUZZ_KEEP=1
# to add the minimised inputs afl-fuzz found (not the seeds it started from) to fuzz/corpus/TARGET as afl-NNN.
set -euo pipefail

target=${1:?usage: fuzz/run.sh TARGET [EXECUTIONS]}
executions=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
out=$here/out
build=$out/build
corpus=$here/corpus/$target
findings=$out/$target
timeout_ms=${FUZZ_TIMEOUT_MS:-2000}
nice_level=${FUZZ_NICE:-19}
seconds=${FUZZ_SECONDS:-}

if [[ ! -d $corpus ]]; then
  echo "run.sh: no seed corpus $corpus; targets: $(ls "$here/corpus" | tr '\n' ' ')" >&2
  exit 2
fi

if ! [[ $executions =~ ^[0-9]+$ ]] || (( executions < 1 )); then
  echo "run.sh: EXECUTIONS must be a positive number, got '$executions'" >&2
  exit 2
fi

if ! command -v afl-fuzz >/dev/null; then
  echo "run.sh: installing afl++" >&2
  apt-get install -y afl++ >/dev/null
fi

export PATH=$PATH:$HOME/.dotnet/tools
if ! command -v sharpfuzz >/dev/null; then
  echo "run.sh: installing the SharpFuzz.CommandLine dotnet tool" >&2
  dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi

# Build once into a folder of its own (instrumenting changes the assemblies in place, so never in bin/).
if [[ ${FUZZ_REBUILD:-0} == 1 || ! -f $build/.instrumented ]]; then
  rm -rf "$build"
  # Its own artifacts folder, so a build here never shares obj/ with the solution's build running alongside.
  dotnet build "$here/Meshgate.Fuzz/Meshgate.Fuzz.csproj" -c Release -nologo -clp:ErrorsOnly -v:q \
    -p:UseArtifactsOutput=true -p:ArtifactsPath="$out/artifacts" -o "$build"
  for assembly in Meshgate.Core.dll Meshgate.Proxy.dll Meshgate.ControlPlane.dll meshgate.dll; do
    sharpfuzz "$build/$assembly"
  done
  touch "$build/.instrumented"
fi

rm -rf "$findings"
mkdir -p "$findings"

# dotnet is not instrumented itself (SharpFuzz reports coverage through AFL's shared memory); the proxy and control
# plane code paths under test never read the environment, so AFL's variables do not change what they do.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export DOTNET_TieredCompilation=0 DOTNET_gcServer=0 DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet=$(command -v dotnet)
started=$(date +%s)
nice -n "$nice_level" afl-fuzz -i "$corpus" -o "$findings" -t "$timeout_ms" -m none -E "$executions" ${seconds:+-V "$seconds"} \
  -- "$dotnet" "$build/Meshgate.Fuzz.dll" "$target" > "$findings/afl-fuzz.log" 2>&1 || {
  echo "run.sh: afl-fuzz failed; the end of $findings/afl-fuzz.log:" >&2
  tail -n 30 "$findings/afl-fuzz.log" >&2
  exit 1
}
elapsed=$(( $(date +%s) - started ))

stats=$findings/default/fuzzer_stats
stat() { awk -F' *: *' -v key="$1" '$1 == key { print $2 }' "$stats"; }
crashes=$(stat saved_crashes)
hangs=$(stat saved_hangs)
echo "target=$target execs_done=$(stat execs_done) saved_crashes=$crashes saved_hangs=$hangs" \
  "corpus_count=$(stat corpus_count) edges_found=$(stat edges_found) execs_per_sec=$(stat execs_per_sec) seconds=$elapsed"

# Minimise the queue afl-fuzz grew to the inputs that keep its coverage.
if nice -n "$nice_level" afl-cmin -i "$findings/default/queue" -o "$findings/corpus" -t "$timeout_ms" -m none \
  -- "$dotnet" "$build/Meshgate.Fuzz.dll" "$target" > "$findings/afl-cmin.log" 2>&1; then
  echo "minimised corpus: $(ls "$findings/corpus" | wc -l) files, $(du -sk "$findings/corpus" | cut -f1) KiB in $findings/corpus"
  if [[ ${FUZZ_KEEP:-0} == 1 ]]; then
    next=$(ls "$corpus" | grep -c '^afl-' || true)
    kept=0
    for input in "$findings/corpus"/*; do
      [[ $(basename "$input") == *orig:* ]] && continue
      cp "$input" "$corpus/afl-$(printf %03d $((next + kept)))"
      kept=$((kept + 1))
    done
    echo "kept $kept new inputs in $corpus"
  fi
else
  echo "run.sh: afl-cmin failed (see $findings/afl-cmin.log); the queue is in $findings/default/queue" >&2
fi

if (( crashes > 0 || hangs > 0 )); then
  echo "crashes: $findings/default/crashes, hangs: $findings/default/hangs" >&2
  exit 1
fi
