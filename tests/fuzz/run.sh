#!/usr/bin/env bash
# tests/fuzz/run.sh: builds the fuzz configuration (clang++, libFuzzer, ASan + UBSan), runs each
# target's seed corpus through ctest, then fuzzes every target for a bounded time from a copy of
# its seed corpus (docs/fuzzing.md). .ci/run calls it; it runs as well by hand. Prints a table of
# executions per target; on a finding prints the log's tail and the reproducer (path, base64 and
# the command that replays it) and exits 1 after the remaining targets ran.
#
# Writes nothing into the source tree: corpora, artifacts, logs and the targets' scratch files live
# in a temporary directory, removed at the end.
#
#   SCALEINV_FUZZ_SECONDS  seconds per target (default 60)
#   SCALEINV_FUZZ_TARGETS  the targets to run, space-separated (default: all six)
#   SCALEINV_FUZZ_BUILD    the build directory (default build-fuzz)
#   SCALEINV_FUZZ_KEEP     a directory to copy the grown corpora, logs and reproducers into
#   SCALEINV_FUZZ_ARGS     more libFuzzer flags, such as "-max_len=16384"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seconds=${SCALEINV_FUZZ_SECONDS:-60}
build=${SCALEINV_FUZZ_BUILD:-build-fuzz}
targets=${SCALEINV_FUZZ_TARGETS:-network_json network_spec data_spec csv idx checkpoint}

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" \
  -DSCALEINV_FUZZ=ON -DSCALEINV_BUILD_TESTS=OFF -DSCALEINV_BUILD_TOOLS=OFF -DSCALEINV_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2

work=$(mktemp -d "${TMPDIR:-/tmp}/scaleinv-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"  # the targets' scratch files (tests/fuzz/fuzz_support.hpp)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [[ -x /usr/lib/llvm-14/bin/llvm-symbolizer && -z ${ASAN_SYMBOLIZER_PATH:-} ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

echo "== fuzz seeds: every seed once (ctest)"
ctest --test-dir "$build" --output-on-failure

echo "== fuzz: ${seconds} s per target: $targets"
failed=()
table="| target | seconds | executions | exec/s | corpus (seeds -> end) | coverage (cov / ft) | peak RSS |\n|---|---|---|---|---|---|---|\n"
for t in $targets; do
  bin="$build/tests/fuzz/fuzz_$t"
  dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp tests/data/fuzz/"$t"/* "$dir/corpus/"
  seeds=$(find "$dir/corpus" -type f | wc -l)
  dict=()
  if [[ -f tests/fuzz/$t.dict ]]; then dict=(-dict="tests/fuzz/$t.dict"); fi
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb / -malloc_limit_mb: one input needing
  # 2 GiB, or one allocation of 1 GiB, is a size that was not bounded. -max_len: without it
  # libFuzzer takes the largest seed's length, and the 200 KB nesting seed of network_json made it
  # mutate 200 KB inputs at 43 exec/s; such seeds are cut to 8 KB here (ctest replays them whole).
  # shellcheck disable=SC2086
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=8192 -print_final_stats=1 \
      "${dict[@]}" -artifact_prefix="$dir/artifacts/" ${SCALEINV_FUZZ_ARGS:-} "$dir/corpus" >"$dir/log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$dir/log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/\1 \/ \2/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/\([0-9A-Za-z]*\).*/\1 (\2)/p' <<<"$last")
  echo "$t: $status, ${execs:-?} executions, ${rate:-?} exec/s, corpus $seeds -> ${corp:-?}, cov/ft ${cov:-?}"
  table+="| $t | $seconds | ${execs:-?} | ${rate:-?} | $seeds -> ${corp:-?} | ${cov:-?} | ${rss:-?} MB |\n"
  if [[ $status != ok ]]; then
    echo "---- $t: the last lines of its log"
    tail -n 60 "$dir/log"
    for a in "$dir"/artifacts/*; do
      [[ -e $a ]] || continue
      echo "---- reproducer $(basename "$a") ($(stat -c %s "$a") bytes), base64:"
      base64 "$a"
      echo "---- to replay: save the base64 above as repro.b64, then: base64 -d repro.b64 > repro && $bin repro"
    done
  fi
  if [[ -n ${SCALEINV_FUZZ_KEEP:-} ]]; then
    mkdir -p "$SCALEINV_FUZZ_KEEP/$t"
    cp -r "$dir/corpus" "$dir/artifacts" "$dir/log" "$SCALEINV_FUZZ_KEEP/$t/"
  fi
done
echo "== fuzz: executions per target"
printf "%b" "$table"
if ((${#failed[@]} > 0)); then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
