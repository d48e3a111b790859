#!/bin/bash
# The zero-cost proxy audit: one process at a time, one thread. Resumable: rerun to continue
# (every cell already scored under results/proxy-audit/<benchmark>/cells is skipped).
set -e
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
AUDIT="predbench analyze proxy-audit"
FM="-b fmnist-nb201 --archs results/zero-cost-recent/archs200.txt --sample 100"
# 15 proxies, full grid: batch sizes (BATCH_GRID), 3 joint seeds each; init and batch seeds
# 0-2 one at a time; Gaussian noise and scikit-learn digits, 3 seeds each.
$AUDIT $FM --proxies jacov,synflow,snip,fisher,grad_norm,nwot,epe_nas,zen,l2_norm,plain,zico,meco,swap,tenas_lr,az_nas
# Data-free measures on nb201-cifar10 (no CIFAR-10 images needed), zen at its batch of 64 only.
$AUDIT -b nb201-cifar10 --archs results/nb201-cifar10/zero_cost/archs-3000.txt --sample 100 \
  --proxies synflow,l2_norm,zen --batch-sizes 64
# l2_norm (data-free, 23 ms per arch) on all 3,000 sampled cells, as synflow, params and flops
# in results/nb201-cifar10/zero_cost/.
[ -s results/proxy-audit/nb201-cifar10/l2_norm-3000.csv ] || predbench score -p l2_norm \
  -b nb201-cifar10 --archs results/nb201-cifar10/zero_cost/archs-3000.txt --param init_seed=0 \
  --device cpu -o results/proxy-audit/nb201-cifar10/l2_norm-3000.csv
# zen (draws its own Gaussian weights and inputs from the batch seed; 1.5 s per arch) on the
# same 3,000 cells.
[ -s results/proxy-audit/nb201-cifar10/zen-3000.csv ] || predbench score -p zen \
  -b nb201-cifar10 --archs results/nb201-cifar10/zero_cost/archs-3000.txt --param batch_seed=0 \
  --device cpu --threads 1 -o results/proxy-audit/nb201-cifar10/zen-3000.csv
# AZ-NAS on the 200 cells of results/zero-cost-recent, scored in one query.
[ -s results/proxy-audit/fmnist-nb201/az_nas-archs200.csv ] || predbench score -p az_nas \
  -b fmnist-nb201 --archs results/zero-cost-recent/archs200.txt --param init_seed=0 \
  --param batch_seed=0 --device cpu -o results/proxy-audit/fmnist-nb201/az_nas-archs200.csv
# The two costly proxies on a smaller grid: grasp (0.37 s/arch at 64) on the first 50 of the
# sample, batch sizes up to 64; tenas_ntk (3 s/arch at 72) on all 100, two init and two
# batch seeds, one seed per substitute source.
$AUDIT $FM --proxies grasp --batch-sizes 1,8,32 --limit grasp=50
$AUDIT $FM --proxies tenas_ntk --split-seeds 2 --source-seeds 1
# Floating-point reduction order: zico on four of the cells with two torch threads instead
# of one (on two busy cores two threads cost 6.5 CPU s per network, so four only).
T=results/proxy-audit/fmnist-nb201/threads2
mkdir -p $T && sed -n 2,5p results/zero-cost-recent/archs200.txt > $T/archs4.txt
[ -s $T/zico.csv ] || OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 predbench score -p zico \
  -b fmnist-nb201 --archs $T/archs4.txt --param init_seed=0 --param batch_seed=0 --device cpu \
  --threads 2 -o $T/zico.csv
[ -s $T/zico-1thread.csv ] || predbench score -p zico -b fmnist-nb201 --archs $T/archs4.txt \
  --param init_seed=0 --param batch_seed=0 --device cpu --threads 1 -o $T/zico-1thread.csv
