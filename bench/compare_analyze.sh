#!/usr/bin/env bash
# bench/compare_analyze.sh: the whole `scaleinv analyze` process on mlp:1024-2048-2048-2048-10, this
# build (A) against another build directory (B), pair by pair and interleaved (A B, then B A, ...), so
# that a drift in the machine's speed hits both alike. Prints each pair, the medians of wall, user and
# system time and of peak resident memory, and the median of the per-pair ratios A/B. First checks
# that both builds print the same `--json` report.
# Usage: bench/compare_analyze.sh OTHER_BUILD_DIR [PAIRS] [BUILD_DIR]    (default 7 pairs, build)
#        SPEC=... bench/compare_analyze.sh ...                           (another network)
set -euo pipefail
[[ $# -ge 1 ]] || { sed -n '2,8p' "$0" >&2; exit 2; }
other=$1
pairs=${2:-7}
build=${3:-build}
spec=${SPEC:-mlp:1024-2048-2048-2048-10}
a="$build/tools/scaleinv/scaleinv"
b="$other/tools/scaleinv/scaleinv"
for exe in "$a" "$b"; do
  [[ -x $exe ]] || {
    echo "no $exe: build in Release first (cmake -S . -B DIR -DCMAKE_BUILD_TYPE=Release ...)" >&2
    exit 2
  }
done
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing: apt-get install time" >&2; exit 2; }
[[ $pairs -ge 1 ]] || { echo "PAIRS must be at least 1" >&2; exit 2; }

if cmp -s <("$a" analyze "$spec" --json) <("$b" analyze "$spec" --json); then
  echo "same --json report from both builds"
else
  echo "warning: the two builds print different --json reports for $spec" >&2
fi

# One run: "wall user sys peak_KiB" (wall from the clock in ns, the rest from /usr/bin/time).
run() {
  local t0 t1 out
  t0=$(date +%s%N)
  out=$(/usr/bin/time -f '%U %S %M' "$1" analyze "$spec" 2>&1 >/dev/null | tail -n 1)
  t1=$(date +%s%N)
  echo "$(((t1 - t0) / 1000000)) $out" | awk '{ printf "%.3f %s %s %s\n", $1 / 1000, $2, $3, $4 }'
}
run "$a" >/dev/null  # warm-up: page cache, the binaries' first start
run "$b" >/dev/null
rows=()
printf '%-5s %8s %8s %8s %9s   %8s %8s %8s %9s   %7s\n' \
  pair A_wall A_user A_sys A_MiB B_wall B_user B_sys B_MiB A/B_wall
for ((i = 1; i <= pairs; i++)); do
  if ((i % 2)); then ra=$(run "$a"); rb=$(run "$b"); else rb=$(run "$b"); ra=$(run "$a"); fi
  row="$ra $rb"
  rows+=("$row")
  awk -v i="$i" '{ printf "%-5s %8.3f %8.2f %8.2f %9.0f   %8.3f %8.2f %8.2f %9.0f   %7.3f\n",
                   i, $1, $2, $3, $4 / 1024, $5, $6, $7, $8 / 1024, $1 / $5 }' <<<"$row"
done
printf '%s\n' "${rows[@]}" | awk '
  function median(v, n,    i, j, t) {
    for (i = 2; i <= n; i++)
      for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { n++; for (k = 1; k <= 8; k++) col[k, n] = $k; ratio[n] = $1 / $5; uratio[n] = ($2 + $3) / ($6 + $7) }
  END {
    for (k = 1; k <= 8; k++) { for (i = 1; i <= n; i++) v[i] = col[k, i]; med[k] = median(v, n) }
    printf "median %8.3f %8.2f %8.2f %9.0f   %8.3f %8.2f %8.2f %9.0f\n", med[1], med[2], med[3], med[4] / 1024,
           med[5], med[6], med[7], med[8] / 1024
    printf "A/B wall, median of %d pairs: %.3f; A/B user+sys: %.3f\n", n, median(ratio, n), median(uratio, n)
  }'
echo "A = $a, B = $b, spec $spec"
