"""Metric functions: agreement with scipy, signs, ties, constants, missing-with-reason."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from benchmarks.metrics import (
    compute_metrics,
    precision_at_k,
    top_k_overlap,
    topk_membership,
)
from predictors.ranking import kendall_tau


@pytest.mark.parametrize("seed", range(5))
def test_correlations_agree_with_scipy(seed):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=60)
    p = 0.5 * t + rng.normal(size=60)
    m = compute_metrics(t, p).values
    assert m["pearson"] == pytest.approx(stats.pearsonr(t, p)[0])
    assert m["spearman"] == pytest.approx(stats.spearmanr(t, p)[0])
    assert m["kendall"] == pytest.approx(stats.kendalltau(t, p)[0])
    assert m["mae"] == pytest.approx(np.mean(np.abs(t - p)))
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((t - p) ** 2)))


def test_kendall_tau_is_tau_b_with_ties_and_propagates_nan():
    # 6 pairs: 4 concordant, none discordant, one tied in each input: 4 / sqrt(5 * 5)
    assert kendall_tau([1, 2, 2, 3], [1, 1, 2, 3]) == pytest.approx(0.8)
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(kendall_tau([1.0, np.nan, 3.0], [1.0, 2.0, 3.0]))
    assert np.isnan(kendall_tau([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]))


def test_negative_pearson_stays_negative():
    t = np.arange(20.0)
    m = compute_metrics(t, -t + 0.01 * np.sin(t)).values
    assert m["pearson"] < -0.99
    assert m["spearman"] == pytest.approx(-1.0)
    assert m["kendall"] == pytest.approx(-1.0)


def test_sparse_kendall_rounds_ground_truth_not_predictions():
    t = np.array([90.01, 90.04, 91.0, 92.0])   # first two tie at 1 decimal
    p = np.array([0.2, 0.1, 0.3, 0.4])          # tiny prediction gaps must not be rounded away
    m = compute_metrics(t, p, sparse_decimals=1).values
    assert m["sparse_kendall"] == pytest.approx(stats.kendalltau(np.round(t, 1), p)[0])
    assert m["sparse_kendall"] > m["kendall"]   # the swapped near-tie no longer counts


def test_constant_predictions_missing_with_reason_others_survive():
    t = np.arange(30.0)
    r = compute_metrics(t, np.ones(30))
    for name in ("pearson", "spearman", "kendall", "sparse_kendall"):
        assert r.values[name] is None
        assert "constant" in r.missing[name]
    # tie-aware top-k is still defined: every item has membership k/n
    assert r.values["precision@10"] == pytest.approx(10 / 30)
    assert r.values["ndcg"] is not None and r.values["mae"] is not None


def test_nan_predictions_and_too_few_points():
    r = compute_metrics([1.0, 2.0, 3.0], [1.0, np.nan, 2.0])
    assert all(v is None for v in r.values.values())
    assert "NaN" in r.missing["kendall"]
    r = compute_metrics([1.0], [1.0])
    assert "at least 2" in r.missing["pearson"]


def test_topk_membership_fractional_on_ties():
    member = topk_membership(np.array([5.0, 4.0, 4.0, 4.0, 1.0]), 2)
    assert member == pytest.approx([1.0, 1 / 3, 1 / 3, 1 / 3, 0.0])
    assert member.sum() == pytest.approx(2)


def test_precision_and_overlap_with_ties():
    t = np.array([10.0, 9.0, 9.0, 1.0])  # true top-2 (tie-inclusive) = items 0, 1, 2
    p = np.array([0.0, 1.0, 2.0, 3.0])   # predicted top-2 = items 3, 2
    assert precision_at_k(t, p, 2) == pytest.approx(0.5)
    # overlap: item 2 is in the true top-2 with probability 1/2
    assert top_k_overlap(t, p, 2) == pytest.approx(0.25)
    perfect = compute_metrics(np.arange(100.0), np.arange(100.0)).values
    assert perfect["precision@10"] == perfect["top_k_overlap@10"] == pytest.approx(1.0)
    assert perfect["ndcg"] == pytest.approx(1.0)


def test_k_larger_than_test_set_is_missing():
    r = compute_metrics(np.arange(20.0), np.arange(20.0), ks=(10, 50))
    assert r.values["precision@10"] == pytest.approx(1.0)
    assert r.values["precision@50"] is None and "exceeds" in r.missing["precision@50"]
