#!/usr/bin/env bash
# bench/experiments/fashion_param_init.sh: the "careless initialisation" half of issue 6's
# experiment. The same network and data as fashion_param_lr.sh, started from a badly balanced
# initialisation (--init-rescale S: every hidden unit rescaled by exp(S N(0,1)), same function),
# for the three parameterizations at three learning rates, 5 seeds.
# Usage: bench/experiments/fashion_param_init.sh BUILD_DIR OUT_DIR [JOBS] [EPOCHS] [S]
# Then: python3 bench/experiments/summarize_param_lr.py OUT_DIR
set -euo pipefail
build=${1:?build dir}; out=${2:?output dir}; jobs=${3:-1}; epochs=${4:-3}; spread=${5:-1}
exe="$build/tools/scaleinv/scaleinv"
mkdir -p "$out"
{
  for seed in 1 2 3 4 5; do
    for lr in 0.01 0.03 0.1; do
      for param in weights weightnorm gmp; do echo "$param $lr $seed"; done
    done
  done
} | xargs -P "$jobs" -L 1 bash -c '
  param=$0 lr=$1 seed=$2
  name="$param-lr$lr-rescale'"$spread"'-seed$seed"
  '"$exe"' train mlp:784-256-256-10,bias --data fashion-mnist --param "$param" --lr "$lr" --init-rescale '"$spread"' \
    --epochs '"$epochs"' --batch 128 --seed "$seed" --quiet --log "'"$out"'/$name.jsonl"
  echo "done $name"'
