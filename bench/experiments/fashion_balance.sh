#!/usr/bin/env bash
# bench/experiments/fashion_balance.sh: issue 5's experiment. Fashion-MNIST, ReLU MLP 784-256-256-10
# with biases, SGD with momentum 0.9: no balancing, --balance before, --balance every=K for two K,
# L2 weight decay off and on, 5 seeds; plus the badly balanced start (--init-rescale 1) without
# and with balancing. Per-epoch logs (JSON lines) go to OUT_DIR.
# Usage: bench/experiments/fashion_balance.sh BUILD_DIR OUT_DIR [JOBS] [EPOCHS]
# Then: python3 bench/experiments/summarize_balance.py OUT_DIR
set -euo pipefail
build=${1:?build dir}; out=${2:?output dir}; jobs=${3:-1}; epochs=${4:-5}
exe="$build/tools/scaleinv/scaleinv"
mkdir -p "$out"
{
  for seed in 1 2 3 4 5; do
    for wd in 0 5e-4; do
      for bal in none before every=10 every=100; do echo "$bal $wd 0 $seed"; done
    done
    for bal in none before every=100; do echo "$bal 0 1 $seed"; done
  done
} | xargs -P "$jobs" -L 1 bash -c '
  bal=$0 wd=$1 rescale=$2 seed=$3
  name="bal-${bal/=/}-wd$wd-rescale$rescale-seed$seed"
  args=()
  [[ $bal == none ]] || args=(--balance "$bal")
  '"$exe"' train mlp:784-256-256-10,bias --data fashion-mnist --optimizer sgd --lr 0.02 --momentum 0.9 \
    --weight-decay "$wd" --epochs '"$epochs"' --batch 128 --seed "$seed" --init-rescale "$rescale" "${args[@]}" \
    --quiet --log "'"$out"'/$name.jsonl"
  echo "done $name"'
