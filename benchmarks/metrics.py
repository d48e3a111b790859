"""Correlation and ranking metrics between ground truth and predicted scores.

Conventions (the pitfalls of the reference code avoided):

- Both inputs are oriented "higher is better" (the harness negates loss-like objectives).
- Pearson is signed: a predictor that ranks backwards gets a negative correlation.
- Kendall tau is ``predictors.ranking.kendall_tau``: scipy's tau-b (ties in either input handled
  by the tau-b correction).
- Sparse Kendall tau (Yu et al. 2020) rounds the *ground truth* to ``sparse_decimals`` decimals
  (so near-identical true accuracies count as ties); predictions are never rounded.
- Ties in top-k metrics are handled explicitly, as the expectation over uniformly random
  tie-breaking: an item tied with the k-th value gets fractional membership
  ``(k - #strictly above) / #tied`` of the top-k set. ``precision@k`` is the expected fraction of
  the predicted top-k whose true value is at least the true k-th best value (true ties count as
  hits); ``top_k_overlap@k`` is the expected ``|pred top-k ∩ true top-k| / k`` with both sets of
  exactly k items (ties broken independently at random on each side).
- NDCG uses scikit-learn with relevance = ground truth shifted to be non-negative; ties in the
  predictions are averaged (``ignore_ties=False``).
- MAE/RMSE compare raw values: they are only meaningful when the predictor regresses the
  objective on its own scale; the harness records that as a separate flag.

A metric that cannot be computed is returned as ``None`` and its reason is put in
``MetricResult.missing``; the other metrics are unaffected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from predictors.ranking import kendall_tau

CORRELATIONS = ("pearson", "spearman", "kendall", "sparse_kendall")
DEFAULT_K = (10, 50)


@dataclass
class MetricResult:
    """Computed metric values (``None`` = missing) and, for each missing one, the reason."""

    values: dict[str, float | None] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def set(self, name: str, value: float | None, reason: str | None = None) -> None:
        if value is None or not math.isfinite(value):
            self.values[name] = None
            self.missing[name] = reason or f"{name} is not finite ({value})"
        else:
            self.values[name] = float(value)


def topk_membership(values: np.ndarray, k: int) -> np.ndarray:
    """Probability that each item is in the top-k under uniformly random tie-breaking."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    k = min(k, n)
    if k <= 0:
        return np.zeros(n)
    threshold = np.sort(values)[::-1][k - 1]
    above = values > threshold
    tied = values == threshold
    member = above.astype(float)
    member[tied] = (k - above.sum()) / tied.sum()
    return member


def precision_at_k(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Expected fraction of the predicted top-k that lies in the (tie-inclusive) true top-k."""
    k = min(k, len(y_true))
    true_threshold = np.sort(np.asarray(y_true, dtype=float))[::-1][k - 1]
    hit = np.asarray(y_true, dtype=float) >= true_threshold
    return float(np.sum(topk_membership(y_pred, k) * hit) / k)


def top_k_overlap(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Expected ``|pred top-k ∩ true top-k| / k`` with random, independent tie-breaking."""
    k = min(k, len(y_true))
    return float(np.sum(topk_membership(y_pred, k) * topk_membership(y_true, k)) / k)


def sparse_kendall(y_true: np.ndarray, y_pred: np.ndarray, decimals: int) -> float:
    """Kendall tau-b after rounding the ground truth (not the predictions) to ``decimals``."""
    return kendall_tau(np.round(y_true, decimals), y_pred)


def compute_metrics(
    y_true: Sequence[float] | np.ndarray,
    y_pred: Sequence[float] | np.ndarray,
    *,
    ks: Sequence[int] = DEFAULT_K,
    sparse_decimals: int = 1,
) -> MetricResult:
    """Every metric of the study for one evaluation; missing ones carry their reason."""
    t = np.asarray(y_true, dtype=float).reshape(-1)
    p = np.asarray(y_pred, dtype=float).reshape(-1)
    names = [*CORRELATIONS, "ndcg", *(f"precision@{k}" for k in ks),
             *(f"top_k_overlap@{k}" for k in ks), "mae", "rmse"]
    out = MetricResult()

    def all_missing(reason: str) -> MetricResult:
        for name in names:
            out.set(name, None, reason)
        return out

    if t.shape != p.shape:
        return all_missing(f"{len(p)} predictions for {len(t)} ground-truth values")
    if len(t) < 2:
        return all_missing(f"only {len(t)} point(s); need at least 2")
    if not np.all(np.isfinite(t)):
        return all_missing(f"ground truth has {int(np.sum(~np.isfinite(t)))} non-finite values")
    bad = int(np.sum(~np.isfinite(p)))
    if bad:
        return all_missing(f"{bad} of {len(p)} predictions are NaN or infinite")

    const_pred = bool(np.all(p == p[0]))
    const_true = bool(np.all(t == t[0]))
    corr_reason = (
        "predictions are constant" if const_pred
        else "ground truth is constant" if const_true else None
    )
    if corr_reason:
        for name in CORRELATIONS:
            out.set(name, None, corr_reason)
    else:
        from scipy import stats

        out.set("pearson", stats.pearsonr(t, p).statistic)
        out.set("spearman", stats.spearmanr(t, p).statistic)
        out.set("kendall", kendall_tau(t, p))
        rounded = np.round(t, sparse_decimals)
        if np.all(rounded == rounded[0]):
            out.set("sparse_kendall", None,
                    f"ground truth rounded to {sparse_decimals} decimals is constant")
        else:
            out.set("sparse_kendall", sparse_kendall(t, p, sparse_decimals))

    if const_true:
        out.set("ndcg", None, "ground truth is constant (no relevance to rank)")
    else:
        from sklearn.metrics import ndcg_score

        relevance = (t - t.min())[None, :]
        out.set("ndcg", ndcg_score(relevance, p[None, :], ignore_ties=False))
    for k in ks:
        if k > len(t):
            out.set(f"precision@{k}", None, f"k={k} exceeds the {len(t)} test architectures")
            out.set(f"top_k_overlap@{k}", None, f"k={k} exceeds the {len(t)} test architectures")
            continue
        out.set(f"precision@{k}", precision_at_k(t, p, k))
        out.set(f"top_k_overlap@{k}", top_k_overlap(t, p, k))
    out.set("mae", float(np.mean(np.abs(t - p))))
    out.set("rmse", float(np.sqrt(np.mean((t - p) ** 2))))
    return out
