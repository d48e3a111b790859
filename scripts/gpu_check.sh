#!/usr/bin/env bash
# Checks for a machine with a CUDA GPU (CI has none, so none of this runs there):
#  1. every registered predictor's conformance checks with device="cuda" in its contexts
#     (supernets, torch model-based and ranking-trained predictors, live proxies; on the
#     synthetic benchmark, whose live data is generated);
#  2. every live zero-cost proxy on the first N cells of the 3,000 nb201-cifar10 cells, on the
#     GPU and on the CPU with the same seed and Gaussian batches (no images need to travel),
#     each pair set side by side by `predbench score-compare` (rank agreement, relative
#     differences, seconds per cell). The CPU side runs in the background, a process a proxy.
#
#   bash scripts/gpu_check.sh [OUT]        (default OUT: results/gpu-check; N=12, DEVICE=cuda)
#
# DEVICE=cpu runs step 2 on the CPU twice, a check of the script itself (every pair identical);
# PROXIES="synflow meco" limits step 2 to some proxies. Exit status: that of step 1.
set -uo pipefail
OUT=${1:-results/gpu-check}
N=${N:-12}
DEVICE=${DEVICE:-cuda}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1
mkdir -p "$OUT"
grep -v '^#' results/nb201-cifar10/zero_cost/archs-3000.txt | head -n "$N" > "$OUT/archs.txt"
PROXIES=${PROXIES:-$(python -c "from predictors.zero_cost.proxy import PROXY_MEASURES as m
print(' '.join((*m, 'az_nas')))")}

score() {  # proxy device file
  predbench score -p "$1" -b nb201-cifar10 --archs "$OUT/archs.txt" --batch-source gaussian \
    --device "$2" --seed 0 -o "$3" > "$3.log" 2>&1 || echo "$1 on $2 failed: see $3.log"
}

for p in $PROXIES; do score "$p" cpu "$OUT/$p-cpu.csv" & done
python -m pytest tests/test_conformance.py -k on_gpu -q -p no:warnings -o addopts="" \
  > "$OUT/conformance.log" 2>&1
status=$?
echo "conformance on $DEVICE: exit $status ($(tail -n 1 "$OUT/conformance.log"))"
for p in $PROXIES; do score "$p" "$DEVICE" "$OUT/$p-on-$DEVICE.csv"; done
wait
for p in $PROXIES; do
  predbench score-compare "$OUT/$p-cpu.csv" "$OUT/$p-on-$DEVICE.csv" -o "$OUT/$p.json"
done | tee "$OUT/compare.txt"
exit $status
