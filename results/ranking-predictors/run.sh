#!/usr/bin/env bash
# The ranking-trained predictors and the ranking-vs-regression comparison (quick grid:
# train sizes 24, 121, 589; 3 trials; test 200; sweep settings = each predictor's
# reproduce_params). Usage: results/ranking-predictors/run.sh BENCHMARK [--train-size N]
# (further arguments go to every `predbench run`, e.g. --train-size 1000).
set -euo pipefail
bench=${1:?benchmark}
shift
out=results/ranking-predictors
store=$out/$bench.db
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
opts=("$@")
run() { predbench run -b "$bench" --trials 3 --threads 1 --store "$store" "${opts[@]}" "$@"; }
for loss in default mse; do
  extra=(); [ "$loss" = default ] || extra=(--param "loss=$loss")
  run -p gates --param epochs=40 "${extra[@]}"
  run -p narformer --param epochs=40 "${extra[@]}"
  run -p flowerformer --param epochs=40 "${extra[@]}"
done
for loss in default ranking; do
  extra=(); [ "$loss" = default ] || extra=(--param "loss=$loss")
  run -p mlp --param epochs=30 "${extra[@]}"
  run -p gcn --param epochs=40 "${extra[@]}"
  run -p bananas --param epochs=30 "${extra[@]}"
done
