#!/bin/bash
# Scores a 200-cell sample of fmnist-nb201 with each newer proxy (pinned seeds, one CPU thread).
set -e
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
for p in zico meco swap tenas_lr az_nas tenas_ntk; do
  [ -s results/zero-cost-recent/$p.csv ] && continue
  predbench score -p $p -b fmnist-nb201 --archs results/zero-cost-recent/archs200.txt \
    -o results/zero-cost-recent/$p.csv --param init_seed=0 --param batch_seed=0 --device cpu
done
