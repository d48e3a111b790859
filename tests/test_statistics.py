"""Paired intervals, noise ceilings and the tie-aware summaries, budget map and Pareto front."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.budget_map import best_by_budget
from benchmarks.plots import ok_records, pareto_mask, summarize, tied_with_front
from benchmarks.statistics import (
    SETTING,
    Comparisons,
    label_ceiling,
    paired_interval,
    ranking_ceiling,
    trial_table,
)
from predictors.ranking import kendall_tau


def test_paired_interval_separates_consistent_differences_only():
    trials = pd.Index(range(6))
    a = pd.Series([0.60, 0.55, 0.62, 0.58, 0.61, 0.57], index=trials)
    assert paired_interval(a, a - 0.05).separated
    noisy = a + np.array([0.03, -0.04, 0.02, -0.03, 0.04, -0.02])
    assert not paired_interval(a, noisy).separated
    one = paired_interval(a.iloc[:1], a.iloc[:1] - 0.3)
    assert one.trials == 1 and not one.separated  # one trial separates nothing
    # Only shared trials pair.
    assert paired_interval(a, (a - 0.05).iloc[:3]).trials == 3


def test_label_ceiling_matches_a_simulation():
    rng = np.random.default_rng(1)
    seed_tau = 0.7
    r = np.sin(np.pi * seed_tau / 2)
    sd = np.sqrt((1 - r) / r)
    taus = {1: [], 2: []}
    for _ in range(60):
        truth = rng.normal(size=400)
        runs = truth[:, None] + sd * rng.normal(size=(400, 2))
        taus[1].append(kendall_tau(truth, runs[:, 0]))
        taus[2].append(kendall_tau(truth, runs.mean(axis=1)))
    assert np.mean(taus[1]) == pytest.approx(label_ceiling(seed_tau, 1), abs=0.01)
    assert np.mean(taus[2]) == pytest.approx(label_ceiling(seed_tau, 2), abs=0.01)
    assert label_ceiling(seed_tau, 2) == ranking_ceiling(seed_tau)["two_seed_mean"]
    assert label_ceiling(1.0) == pytest.approx(1.0) and label_ceiling(-0.5) == 0.0
    # three test cells whose two runs are in opposite order: no signal, not an error
    assert label_ceiling(-1.0) == 0.0 and ranking_ceiling(-1.0)["one_seed"] == 0.0
    with pytest.raises(ValueError, match="seed_tau"):
        label_ceiling(-1.5)


def records(spec: dict[tuple[str, int], list[float]], init: dict[str, float]) -> pd.DataFrame:
    """Records of predictors (name, train size) with one Kendall tau per trial."""
    rows = []
    for (name, size), taus in spec.items():
        for trial, tau in enumerate(taus):
            rows.append({"benchmark_name": "b", "labels": "independent",
                         "test_distribution": "cells", "label_source": "other-seed",
                         "predictor": name, "family": "f", "train_size": size,
                         "fidelity": None, "trial": trial, "test_set_id": f"t{trial}",
                         "status": "ok", "kendall": tau, "spearman": tau, "pearson": tau,
                         "noise_ceiling_kendall": 0.8, "seed_to_seed_kendall": 0.7,
                         "init_time_s": init[name] * (1 + size), "query_time_s": 1e-3,
                         "init_fit_s": 0.1, "query_measured_s": 1e-3,
                         "cost_estimated": False})
    return pd.DataFrame(rows)


FRAME = records({("a", 10): [0.50, 0.60, 0.55, 0.58], ("b", 10): [0.53, 0.57, 0.56, 0.56],
                 ("c", 10): [0.20, 0.25, 0.22, 0.21]}, {"a": 10.0, "b": 1.0, "c": 0.1})


def test_summary_marks_ties_with_the_best_and_the_ceiling():
    summary = summarize(FRAME).set_index("predictor")
    assert summary.loc["a", "diff_to_best"] == 0 and summary.loc["a", "tie_with_best"]
    assert summary.loc["b", "tie_with_best"]
    assert not summary.loc["c", "tie_with_best"]
    assert summary.loc["c", "diff_high"] < 0
    assert summary.loc["a", "kendall_of_ceiling"] == pytest.approx(0.5575 / 0.8)


def test_budget_map_lists_ties_instead_of_one_winner():
    summary = summarize(FRAME)
    comparisons = Comparisons(trial_table(ok_records(FRAME), SETTING))
    table = best_by_budget(summary, [1.0, 20.0, 200.0], [1.0], comparisons)
    top = table[table["init_limit_s"] == 200.0].iloc[0]
    assert top["predictor"] == "a" and top["n_tied"] == 1 and top["tied"] == "b n=10"
    cheap = table[table["init_limit_s"] == 20.0].iloc[0]
    assert cheap["predictor"] == "b" and cheap["n_tied"] == 0  # c is clearly worse
    assert best_by_budget(summary, [200.0], [1.0])["n_tied"].iloc[0] == 0  # no trials: no ties


def test_pareto_ties_ring_points_the_front_cannot_beat():
    summary = summarize(FRAME).reset_index(drop=True)
    comparisons = Comparisons(trial_table(ok_records(FRAME), SETTING))
    # Make "a" cost less than "b" so that "b" is dominated by "a" on the mean.
    summary.loc[summary["predictor"] == "a", "init_time_s_mean"] = 0.5
    front = pareto_mask(summary["init_time_s_mean"].to_numpy(),
                        summary["kendall_mean"].to_numpy())
    ties = tied_with_front(summary, summary["init_time_s_mean"].to_numpy(), front, comparisons)
    by_name = dict(zip(summary["predictor"], ties, strict=True))
    assert by_name["b"] and not by_name["a"]
