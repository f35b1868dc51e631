#!/usr/bin/env bash
# bench/run_train_step.sh: scaleinv's SGD, G-SGD (diagonal and first-unit skeleton) and Path-SGD step
# against PyTorch's SGD step, same net
# (bias-free 784-256-256-10 ReLU), batch 128, float32, one thread, interleaved ROUNDS times so the
# noisy machine affects both alike; also scaleinv's SGD step in weight-norm and GmP coordinates
# against its plain SGD step (issue 6); prints each round and the medians. Then EC-SGD against SGD, both on the
# parameters of a conv: net (issue 13: target <= 1.5), interleaved the same way.
# Usage: bench/run_train_step.sh [BUILD_DIR] [ROUNDS]     (needs python3-torch, libopenblas0-pthread)
set -euo pipefail
build=${1:-build}
rounds=${2:-5}
exe="$build/bench/train_step"
[[ -x $exe ]] || { echo "no $exe: build in Release first" >&2; exit 2; }
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "PyTorch missing: apt-get install python3-torch libopenblas0-pthread" >&2; exit 2; }
here=$(dirname "${BASH_SOURCE[0]}")
ours=() theirs=() gs=() gf=() ps=() wn=() gm=()
for ((r = 1; r <= rounds; r++)); do
  # One thread for the peer too: Debian's generic-BLAS torch cannot set OpenBLAS's threads itself.
  t=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 "$here/torch_step.py" 784-256-256-10 128 300)
  o=$("$exe" mlp:784-256-256-10,init=1 128 300)
  echo "round $r: $t"
  echo "round $r: $o"
  theirs+=("$(sed -n 's/.*"sgd_ms": \([0-9.]*\).*/\1/p' <<<"$t")")
  ours+=("$(sed -n 's/.*"sgd_ms": \([0-9.]*\).*/\1/p' <<<"$o")")
  gs+=("$(sed -n 's/.*"gsgd_ms": \([0-9.]*\).*/\1/p' <<<"$o")")
  gf+=("$(sed -n 's/.*"gsgd_first_ms": \([0-9.]*\).*/\1/p' <<<"$o")")
  ps+=("$(sed -n 's/.*"pathsgd_ms": \([0-9.]*\).*/\1/p' <<<"$o")")
  wn+=("$(sed -n 's/.*"weightnorm_ms": \([0-9.]*\).*/\1/p' <<<"$o")")
  gm+=("$(sed -n 's/.*"gmp_ms": \([0-9.]*\).*/\1/p' <<<"$o")")
done
med() { printf '%s\n' "$@" | sort -g | sed -n "$(((${#@} + 1) / 2))p"; }
mt=$(med "${theirs[@]}") mo=$(med "${ours[@]}") mg=$(med "${gs[@]}") mw=$(med "${wn[@]}") mp=$(med "${gm[@]}") mf=$(med "${gf[@]}") ms=$(med "${ps[@]}")
awk -v t="$mt" -v o="$mo" -v g="$mg" -v w="$mw" -v p="$mp" -v f="$mf" -v s="$ms" 'BEGIN {
  printf "median ms: pytorch sgd %.3f | scaleinv sgd %.3f | scaleinv gsgd %.3f | weightnorm %.3f | gmp %.3f\n", t, o, g, w, p
  printf "median ms: scaleinv gsgd (first-unit skeleton) %.3f | pathsgd %.3f\n", f, s
  printf "scaleinv sgd / pytorch sgd = %.3f (target <= 1); gsgd (diagonal) / sgd = %.3f (target <= 1.10)\n", o / t, g / o
  printf "gsgd (first) / sgd = %.3f; pathsgd / sgd = %.3f (target <= 1.3)\n", f / o, s / o
  printf "weightnorm / sgd = %.3f; gmp / sgd = %.3f (target <= 1.5)\n", w / o, p / o }'
ec=()
for ((r = 1; r <= rounds; r++)); do
  o=$("$exe" conv:len=64,ch=1-16-16-4,k=5,init=1 128 100)
  echo "round $r: $o"
  ec+=("$(sed -n 's/.*"ecsgd_over_sgd": \([0-9.]*\).*/\1/p' <<<"$o")")
done
printf "ecsgd / sgd on conv:len=64,ch=1-16-16-4,k=5 (median of the rounds' ratios) = %s (target <= 1.5)\n" "$(med "${ec[@]}")"
