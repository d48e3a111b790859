#!/usr/bin/env bash
# Every figure of the Fashion-MNIST benchmark (fmnist-nb201), in dependency order, the quick
# analyses (zero-cost table, supernet correlations) before the long sweeps.
#
#   bash scripts/own_benchmark_results.sh [STEP ...]
#
# Steps: merge zero_cost supernet lc search reproduce omni omni_holdout (default: all, in that
# order), and snapshot.
# Each step writes into a resumable store or cache, so a run stopped at any point continues
# where it stopped when started again; finished evaluations are never repeated. The SQLite stores
# are not versioned: `snapshot` (also run after every step) writes each into a committable
# <store>.jsonl.gz beside it, and every run first restores those snapshots, so a sweep carries
# on from the last committed snapshot on a fresh checkout too.
# Environment: WORKERS (default 2) processes of THREADS (default 1) native threads each.
set -euo pipefail

cd "$(dirname "$0")/.."
B=fmnist-nb201
OUT=results/$B
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-1}
SEARCH_STORE=results/search/$B.db
STORES=("$OUT/predbench.db" results/omni/omni.db results/omni/holdout/omni.db "$SEARCH_STORE")
ALL_STEPS=(merge zero_cost supernet lc search reproduce omni omni_holdout)
STEPS=("$@")
[ ${#STEPS[@]} -eq 0 ] && STEPS=("${ALL_STEPS[@]}")

restore_snapshots() {
  local db snap
  for db in "${STORES[@]}"; do
    snap="${db%.db}.jsonl.gz"
    if [ -f "$snap" ]; then predbench store restore "$snap" --db "$db"; fi
  done
}

step_snapshot() {
  local db
  for db in "${STORES[@]}"; do
    if [ -f "$db" ]; then predbench store snapshot "$db"; fi
  done
}

step_merge() {
  predbench build merge --plot "$OUT/epoch_vs_final.png"   # into data/$B
}

step_reproduce() {
  # Every registered predictor on the quick grid with the standard preset's settings, 5 trials
  # of 200 test architectures.
  predbench reproduce --benchmark $B --preset standard --trials 5 --test-size 200 \
    --workers "$WORKERS" --threads "$THREADS" --out "$OUT"
}

step_lc() {
  # The learning-curve family over the study's whole fidelity grid (scaled to this benchmark's
  # epochs; LcSVR also over every train size), into the main job's store, where `reproduce`
  # finds its quick grid's share of these evaluations already done.
  local p
  for p in valacc valloss sotl sotle sotlema lce lce_m lcsvr; do
    predbench run --benchmark $B --predictor $p --full --trials 5 --test-size 200 \
      --workers "$WORKERS" --threads "$THREADS" --store "$OUT/predbench.db"
  done
  predbench analyze lc-report --store "$OUT/predbench.db" --benchmark $B \
    --out "$OUT/learning_curve"
  predbench analyze lc-extrapolation --benchmark $B --out "$OUT/learning_curve"
}

step_zero_cost() {
  predbench analyze proxy-report --table $B --out "$OUT/zero_cost/README.md" \
    --plot "$OUT/zero_cost/correlations.png"
}

step_supernet() {
  predbench analyze supernet analyze --benchmark $B --threads "$THREADS"
}

step_omni() {
  predbench analyze omni-vary-both --benchmark $B --workers "$WORKERS" \
    --threads "$THREADS"
}

step_omni_holdout() {
  # OMNI's SoTL-E prior was added after trials 0-4 had shown where OMNI loses; trials 5-9
  # (fresh train/test splits) check it against OMNI and the singles it lost to.
  predbench analyze omni-vary-both --benchmark $B --first-trial 5 --trials 5 \
    --ablations omni,curve_prior --singles sotle,lcsvr,jacov,xgb --out results/omni/holdout \
    --workers "$WORKERS" --threads "$THREADS"
}

step_search() {
  local xgb='{"num_boost_round": 100}'
  local par=(--jobs "$WORKERS" --threads "$THREADS" --store "$SEARCH_STORE")
  predbench search --benchmark $B --method random,rea,local,evolution,bo --predictor xgb \
    --predictor-params "$xgb" --runs 20 --queries 150 "${par[@]}"
  predbench search --benchmark $B --method evolution,bo --predictor gp,bananas,gcn,seminas \
    --runs 20 --queries 150 "${par[@]}"
  predbench search --benchmark $B --method rea,evolution --predictor xgb \
    --predictor-params "$xgb" --prefilter params --prefilter-params '{"source": "table"}' \
    --prefilter-keep 1 --warmup-pool 500 --runs 20 --queries 150 "${par[@]}"
}

for step in "${STEPS[@]}"; do
  if ! declare -F "step_$step" > /dev/null; then
    echo "unknown step '$step'; steps: ${ALL_STEPS[*]} snapshot" >&2
    exit 2
  fi
done
restore_snapshots
for step in "${STEPS[@]}"; do
  echo "== $step =="
  "step_$step"
  [ "$step" = snapshot ] || step_snapshot
done
