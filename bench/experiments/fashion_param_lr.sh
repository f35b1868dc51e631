#!/usr/bin/env bash
# bench/experiments/fashion_param_lr.sh: issue 6's experiment. Fashion-MNIST, ReLU MLP
# 784-256-256-10 with biases, SGD on the weights, in weight-norm coordinates and in GmP
# coordinates, over one learning-rate grid (0.01 to 1, denser where SGD starts to diverge), 5
# seeds, the same epochs and batches.
# Usage: bench/experiments/fashion_param_lr.sh BUILD_DIR OUT_DIR [JOBS] [EPOCHS]
# Then: python3 bench/experiments/summarize_param_lr.py OUT_DIR
set -euo pipefail
build=${1:?build dir}; out=${2:?output dir}; jobs=${3:-1}; epochs=${4:-3}
exe="$build/tools/scaleinv/scaleinv"
mkdir -p "$out"
{
  for seed in 1 2 3 4 5; do
    for lr in 0.01 0.03 0.1 0.2 0.3 0.5 1; do
      for param in weights weightnorm gmp; do echo "$param $lr $seed"; done
    done
  done
} | xargs -P "$jobs" -L 1 bash -c '
  param=$0 lr=$1 seed=$2
  name="$param-lr$lr-seed$seed"
  '"$exe"' train mlp:784-256-256-10,bias --data fashion-mnist --param "$param" --lr "$lr" \
    --epochs '"$epochs"' --batch 128 --seed "$seed" --quiet --log "'"$out"'/$name.jsonl"
  echo "done $name"'
