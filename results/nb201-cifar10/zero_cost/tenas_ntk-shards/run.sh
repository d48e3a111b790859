#!/usr/bin/env bash
# TE-NAS's NTK condition number on the 3,000 cells of archs-3000.txt, in 30 shards of 100 so the
# work (about 27 CPU s per cell on one thread, one backward pass per sample of its batch of 72)
# resumes shard by shard: a shard is done when its record (tenas_ntk-NN.csv.json) exists, and a
# shard stopped part-way goes on from its last whole chunk of 64 cells (`predbench score` keeps
# where it stands in tenas_ntk-NN.csv.progress.json). Shard NN is a uniform split of the
# 3,000 (see its first line) scored with --seed NN. When all 30 are done `predbench score-join`
# joins them into ../tenas_ntk.csv with one record, which `predbench analyze proxy-report` reads
# beside the others.
#
#   bash results/nb201-cifar10/zero_cost/tenas_ntk-shards/run.sh [SHARD ...]   (default: all)
#   DEVICE=cuda bash ...   (default cpu)
set -euo pipefail
cd "$(dirname "$0")"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
SHARDS=("$@")
[ ${#SHARDS[@]} -eq 0 ] && SHARDS=($(seq -w 0 29))
for s in "${SHARDS[@]}"; do
  if [ -f "tenas_ntk-$s.csv.json" ]; then continue; fi
  predbench score -p tenas_ntk -b nb201-cifar10 --archs "archs-$s.txt" \
    --batch-source fashion-mnist-resized --device "${DEVICE:-cpu}" --threads 1 \
    --seed "$((10#$s))" -o "tenas_ntk-$s.csv"
done
done=$(ls tenas_ntk-??.csv.json 2>/dev/null | wc -l)
if [ "$done" -eq 30 ]; then
  predbench score-join tenas_ntk-??.csv -o ../tenas_ntk.csv
else
  echo "$done of 30 shards done"
fi
