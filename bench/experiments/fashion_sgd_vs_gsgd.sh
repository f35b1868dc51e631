#!/usr/bin/env bash
# bench/experiments/fashion_sgd_vs_gsgd.sh: issue 4's experiment. Fashion-MNIST, ReLU MLP
# 784-256-256-256-10 with and without biases, SGD and G-SGD each over its own learning-rate grid,
# from a standard start and from a badly balanced one (--init-rescale), 5 seeds, the same epochs.
# Usage: bench/experiments/fashion_sgd_vs_gsgd.sh BUILD_DIR OUT_DIR [JOBS] [EPOCHS]
# Then: python3 bench/experiments/summarize.py OUT_DIR
set -euo pipefail
build=${1:?build dir}; out=${2:?output dir}; jobs=${3:-2}; epochs=${4:-3}
exe="$build/tools/scaleinv/scaleinv"
mkdir -p "$out"
{
  for bias in "" ",bias"; do
    for rescale in 0 1; do
      for seed in 1 2 3 4 5; do
        for lr in 0.03 0.1; do echo "sgd $lr $bias $rescale $seed"; done
        for lr in 1e-8 1e-7; do echo "gsgd $lr $bias $rescale $seed"; done
      done
    done
  done
} | xargs -P "$jobs" -L 1 bash -c '
  opt=$0 lr=$1 bias=${2#,} rescale=$3 seed=$4
  [[ $2 == ,bias ]] || { bias=""; rescale=$2; seed=$3; }
  name="$opt-lr$lr${bias:+-bias}-rescale$rescale-seed$seed"
  '"$exe"' train "mlp:784-256-256-256-10${bias:+,bias}" --data fashion-mnist --optimizer "$opt" --lr "$lr" \
    --epochs '"$epochs"' --batch 128 --seed "$seed" --init-rescale "$rescale" --quiet --log "'"$out"'/$name.jsonl"
  echo "done $name"'
