#!/usr/bin/env bash
# bench/run_analyze.sh: `scaleinv analyze` end to end on MLPs of four sizes (and 784-500-500-10),
# median wall time of N runs and peak resident memory, from a Release build.
# Usage: bench/run_analyze.sh [BUILD_DIR] [RUNS]      (default build, 5)
set -euo pipefail
build=${1:-build}
runs=${2:-5}
exe="$build/tools/scaleinv/scaleinv"
phases="$build/bench/analyze_phases"
[[ -x $exe ]] || { echo "no $exe: build in Release first (cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build -j2)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing: apt-get install time" >&2; exit 2; }
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" || echo "warning: $build is not a Release build" >&2
specs=(mlp:784-500-500-10 mlp:256-512-512-512-10 mlp:512-1024-1024-1024-10 mlp:724-1448-1448-1448-10 mlp:1024-2048-2048-2048-10)
# Weight sharing (issue 3): rank(A M) over the parameters; the last has ~100,000 edges, ~1,000 parameters.
shared=(conv:len=40,ch=1-12-12-6,k=4,bias conv:len=70,ch=1-12-12-6,k=4,bias conv:len=115,ch=1-12-12-6,k=4,bias)
printf '%-38s %11s %9s %9s %10s\n' spec edges wall_s peak_MiB ns/edge
for spec in "${specs[@]}" "${shared[@]}"; do
  edges=$("$exe" analyze "$spec" --json | sed -n 's/^  "edges": \([0-9]*\),/\1/p')
  walls=()
  peak=0
  for ((i = 0; i < runs; i++)); do
    out=$(/usr/bin/time -f '%e %M' "$exe" analyze "$spec" 2>&1 >/dev/null | tail -n 1)
    walls+=("${out% *}")
    kb=${out#* }
    ((kb > peak)) && peak=$kb
  done
  med=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(((runs + 1) / 2))p")
  awk -v s="$spec" -v e="$edges" -v w="$med" -v m="$peak" \
    'BEGIN { printf "%-38s %11d %9.2f %9.0f %10.1f\n", s, e, w, m / 1024, 1e9 * w / e }'
done
if [[ -x $phases ]]; then
  echo
  echo "in-process phases (median of 3, seconds):"
  for spec in "${specs[@]}"; do "$phases" "$spec" 3 | { [[ $spec == "${specs[0]}" ]] && cat || tail -n 1; }; done
fi
