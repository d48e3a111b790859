#!/usr/bin/env bash
# Zero-cost-augmented encodings on fmnist-nb201: xgb, gcn and gates, with and without the
# tabulated jacov, synflow and nwot scores as extra features, train sizes 24/121/589, 5 trials
# (the store resumes: a rerun adds only what is missing). Then the three proxies alone.
set -euo pipefail
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
STORE=results/zc-augmented/predbench.db
ZC='zc_features=["jacov","synflow","nwot"]'
for predictor in xgb gcn gates; do
  for n in 24 121 589; do
    predbench run -b fmnist-nb201 -p "$predictor" --train-size "$n" --trials 5 --store "$STORE"
    predbench run -b fmnist-nb201 -p "$predictor" --param "$ZC" --param zc_source=table \
      --train-size "$n" --trials 5 --store "$STORE"
  done
done
for measure in jacov synflow nwot; do
  predbench run -b fmnist-nb201 -p zc_table --param measure="$measure" --trials 5 \
    --store results/zc-augmented/proxies.db
done
python -m benchmarks.analyses.zc_augmented "$STORE" --out results/zc-augmented
predbench store snapshot "$STORE"
predbench store snapshot results/zc-augmented/proxies.db
