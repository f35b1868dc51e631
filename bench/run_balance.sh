#!/usr/bin/env bash
# bench/run_balance.sh: `scaleinv balance mlp:1024-2048-2048-2048-10` (He-normal weights, 10.5 million)
# to a largest relative imbalance of 1e-10: the end-to-end wall time of the default command (Newton;
# target <= 2 s, network construction included), median of N runs, and then every order side by side
# in one run (--compare): iterations, unit updates or CG steps, final imbalance, balancing seconds.
# Usage: bench/run_balance.sh [BUILD_DIR] [RUNS]      (default build, 5; a Release build)
set -euo pipefail
build=${1:-build}
runs=${2:-5}
exe="$build/tools/scaleinv/scaleinv"
[[ -x $exe ]] || { echo "no $exe: build in Release first (cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build -j2)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing: apt-get install time" >&2; exit 2; }
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" || echo "warning: $build is not a Release build" >&2
spec=${SPEC:-mlp:1024-2048-2048-2048-10}
walls=() bal=()
for ((i = 1; i <= runs; i++)); do
  out=$(/usr/bin/time -f 'WALL %e %M' "$exe" balance "$spec" --tol 1e-10 --json 2>&1)
  w=$(sed -n 's/^WALL \([0-9.]*\) .*/\1/p' <<<"$out")
  s=$(sed -n 's/.*"seconds":\([0-9.e+-]*\).*/\1/p' <<<"$out")
  imb=$(sed -n 's/.*"max_imbalance_after":\([0-9.e+-]*\).*/\1/p' <<<"$out")
  echo "run $i: wall $w s, balancing $s s, final imbalance $imb"
  walls+=("$w") bal+=("$s")
done
med() { printf '%s\n' "$@" | sort -g | sed -n "$(((${#@} + 1) / 2))p"; }
echo "median wall $(med "${walls[@]}") s (target <= 2 s), of which balancing $(med "${bal[@]}") s"
echo "every order on the same weights (--compare; random runs on the general path, the others on the MLP path):"
"$exe" balance "$spec" --tol 1e-10 --compare | tail -n 6
echo "general path (no MLP matrix path), Newton and forward sweeps:"
"$exe" balance "$spec" --tol 1e-10 --general | sed -n '4,5p'
"$exe" balance "$spec" --tol 1e-10 --general --order forward | sed -n '4,5p'
