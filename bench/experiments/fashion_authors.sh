#!/usr/bin/env bash
# bench/experiments/fashion_authors.sh: issue 13's experiments on Fashion-MNIST.
#   authors: the G-SGD authors' MNIST setting (MSRA-COLT/gsgd_mlp, mlp_mnist.sh): ReLU MLP
#            784-64-64-64-64-10 without biases, batch 64, no momentum, lr0 * e^(-0.01 epoch)
#            (exp:0.990050), every skeleton weight set to 1 at the start for every optimizer
#            (--skeleton-one, their cal_mask), lr grid 0.03 / 0.1 / 0.3 for SGD, G-SGD (diagonal
#            skeleton) and Path-SGD, 5 seeds, 10 epochs.
#   earlier: issue 4's net, 784-256-256-256-10 with and without biases, batch 128, constant lr,
#            He-normal start against skeleton-one, the same three optimizers, lr 0.03 / 0.1,
#            3 seeds, 3 epochs.
# Usage: bench/experiments/fashion_authors.sh BUILD_DIR OUT_DIR [JOBS] [SETTINGS...]
# (SETTINGS: authors and/or earlier; default both). Then:
#   python3 bench/experiments/summarize_runs.py OUT_DIR
# Each run writes OUT_DIR/SETTING__NET__OPTIMIZER__LR__START__seedN.jsonl (the per-epoch log) and
# .txt (its standard error). Runs that exist are skipped, so an interrupted sweep can be resumed.
set -euo pipefail
build=${1:?build dir}; out=${2:?output dir}; jobs=${3:-2}; shift 3 || true
settings=("$@"); [[ ${#settings[@]} -gt 0 ]] || settings=(authors earlier)
exe="$build/tools/scaleinv/scaleinv"
[[ -x $exe ]] || { echo "no $exe: build in Release first" >&2; exit 2; }
mkdir -p "$out"
{
  for s in "${settings[@]}"; do
    case $s in
      authors)
        for seed in 1 2 3 4 5; do for opt in sgd gsgd pathsgd; do for lr in 0.03 0.1 0.3; do
          echo "authors mlp:784-64-64-64-64-10 $opt $lr one $seed 64 exp:0.990050 10"
        done; done; done ;;
      earlier)
        for seed in 1 2 3; do for net in mlp:784-256-256-256-10 mlp:784-256-256-256-10,bias; do
          for start in he one; do for opt in sgd gsgd pathsgd; do for lr in 0.03 0.1; do
            echo "earlier $net $opt $lr $start $seed 128 constant 3"
          done; done; done
        done; done ;;
      *) echo "unknown setting '$s' (authors, earlier)" >&2; exit 2 ;;
    esac
  done
} | xargs -P "$jobs" -L 1 bash -c '
  setting=$0 net=$1 opt=$2 lr=$3 start=$4 seed=$5 batch=$6 schedule=$7 epochs=$8
  name="${setting}__${net#mlp:}__${opt}__${lr}__${start}__seed${seed}"
  name=${name//,/-}
  [[ -s "'"$out"'/$name.jsonl" ]] && exit 0
  one=(); [[ $start == one ]] && one=(--skeleton-one)
  if "'"$exe"'" train "$net" --data fashion-mnist --optimizer "$opt" --lr "$lr" --schedule "$schedule" \
       --epochs "$epochs" --batch "$batch" --seed "$seed" "${one[@]}" --quiet \
       --log "'"$out"'/$name.jsonl.part" 2>"'"$out"'/$name.txt"; then rc=0; else rc=$?; fi
  mv "'"$out"'/$name.jsonl.part" "'"$out"'/$name.jsonl"
  echo "done $name (exit $rc)"'
