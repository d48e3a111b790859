#!/usr/bin/env bash
# NAS-Bench-Suite-Zero's NB101 and NB301 samples (tests/fixtures) checked live: convert both
# tables, score params / flops (Suite-Zero's counting convention) / synflow on the networks
# predbench builds, compare each with the table's own score, and run xgb on the benchmarks.
#   scripts/suite_zero_check.sh [OUT]     (default OUT: results/suite-zero)
set -euo pipefail
OUT=${1:-results/suite-zero}
export PREDBENCH_DATA="$OUT/data" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$OUT/data"
for sample in nb101 nb301; do
  predbench convert suite-zero "tests/fixtures/zc_${sample}_cifar10_sample.json" "$OUT/data"
done
for space in nb101 darts; do
  bench="suite-zero-$space-cifar10"
  mkdir -p "$OUT/$space"
  predbench score -p params --param source=network -b "$bench" \
    -o "$OUT/$space/params.csv" --device cpu
  predbench score -p flops --param source=network --param convention=suite-zero -b "$bench" \
    -o "$OUT/$space/flops.csv" --device cpu
  predbench score -p synflow -b "$bench" -o "$OUT/$space/synflow.csv" --device cpu
  predbench analyze proxy-report "$OUT/$space"/{params,flops,synflow}.csv --against-table \
    --out "$OUT/$space/against-table.md"
  predbench run -b "$bench" -p xgb --train-size 15 --test-size 10 --trials 3 \
    --store "$OUT/$space/runs.sqlite"
done
