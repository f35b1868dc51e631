#!/usr/bin/env bash
# bench/experiments/fashion_cnn.sh: issue 13 item 4's experiment, SGD against EC-SGD on a small
# 2-D CNN on Fashion-MNIST: cnn:in=1x28x28,layers=c8k3-max2-c16k3-max2-fc10 (conv 1-8-16, 3x3
# kernels, 2x2 max pooling, a dense head; 5,224 parameters, quotient dimension 5,200), He-normal
# weights with every skeleton parameter set to 1 (--skeleton-one, for both optimizers, as the
# authors' gsgd_cnn starts its skeleton at 1), batch 64, constant lr from the grid 0.01 / 0.03,
# 5 seeds, 1 epoch (one epoch of this unrolled CNN takes about 4 CPU-minutes here).
# Usage: bench/experiments/fashion_cnn.sh BUILD_DIR OUT_DIR [JOBS] [EPOCHS]
# Then: python3 bench/experiments/summarize_runs.py OUT_DIR
# Each run writes OUT_DIR/cnn__NET__OPTIMIZER__LR__one__seedN.jsonl and .txt; runs that exist are
# skipped, so an interrupted sweep can be resumed.
set -euo pipefail
build=${1:?build dir}; out=${2:?output dir}; jobs=${3:-2}; epochs=${4:-1}
exe="$build/tools/scaleinv/scaleinv"
[[ -x $exe ]] || { echo "no $exe: build in Release first" >&2; exit 2; }
mkdir -p "$out"
net=cnn:in=1x28x28,layers=c8k3-max2-c16k3-max2-fc10
for seed in 1 2 3 4 5; do for opt in sgd ecsgd; do for lr in 0.01 0.03; do
  echo "$net $opt $lr $seed"
done; done; done | xargs -P "$jobs" -L 1 bash -c '
  net=$0 opt=$1 lr=$2 seed=$3
  name="cnn__c8k3-max2-c16k3-max2-fc10__${opt}__${lr}__one__seed${seed}"
  [[ -s "'"$out"'/$name.jsonl" ]] && exit 0
  if "'"$exe"'" train "$net,init=$seed" --data fashion-mnist --optimizer "$opt" --lr "$lr" \
       --epochs '"$epochs"' --batch 64 --seed "$seed" --skeleton-one --quiet \
       --log "'"$out"'/$name.jsonl.part" 2>"'"$out"'/$name.txt"; then rc=0; else rc=$?; fi
  mv "'"$out"'/$name.jsonl.part" "'"$out"'/$name.jsonl"
  echo "done $name (exit $rc)"'
