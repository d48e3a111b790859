"""Rank statistics shared by pilots and the merged benchmark's metadata."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from scipy import stats

from predictors.ranking import kendall_tau


def paired_final_val_acc(records: Iterable[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Final validation accuracy of seed 0 and of seed 1, for every architecture of the shard
    ``records`` trained with both seeds (in architecture-index order)."""
    final: dict[tuple[int, int], float] = {
        (r["index"], r["seed"]): r["curves"]["val_acc"][-1] for r in records}
    both = sorted(i for i, seed in final if seed == 1 and (i, 0) in final)
    return (np.array([final[i, 0] for i in both], dtype=float),
            np.array([final[i, 1] for i in both], dtype=float))


def seed_agreement(a: np.ndarray, b: np.ndarray) -> dict[str, float | int]:
    """Kendall tau and Spearman between two seeds' scores, over all pairs and the better half.

    The better half is the half of the architectures with the higher mean of both seeds.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    out: dict[str, float | int] = {"pairs": int(len(a))}
    if len(a) < 3:
        return out
    out["kendall_tau"] = kendall_tau(a, b)
    out["spearman"] = float(stats.spearmanr(a, b).statistic)
    out["mean_abs_diff"] = float(np.mean(np.abs(a - b)))
    top = np.argsort(-(a + b))[: len(a) // 2]
    if len(top) >= 3:
        out["kendall_tau_top_half"] = kendall_tau(a[top], b[top])
        out["spearman_top_half"] = float(stats.spearmanr(a[top], b[top]).statistic)
    return out


def ranking_ceiling(seed_tau: float, two_seed_fraction: float = 0.0) -> dict[str, float]:
    """The Kendall tau a perfect predictor could reach against labels as noisy as these seeds.

    Model: label = true score + independent Gaussian seed noise, both normal, so that two seeds'
    Kendall tau ``seed_tau`` fixes the reliability ``r = sin(pi * seed_tau / 2)`` (the Pearson
    correlation between seeds). For one pair of architectures whose labels carry noise variances
    ``v_i, v_j`` (in units of the true scores' variance; ``v = (1 - r) / r`` for one seed, half of
    it for a two-seed mean) the true and the labelled order agree with Kendall tau
    ``2 / pi * arcsin(sqrt(2 / (2 + v_i + v_j)))``. Returned: that ceiling for one-seed labels,
    for two-seed means, and for the benchmark's mix (``two_seed_fraction`` of the labels are
    means), averaged over pairs. Rank correlations of predictors are best read against it.
    """
    if not -1.0 < seed_tau <= 1.0 or not 0.0 <= two_seed_fraction <= 1.0:
        raise ValueError(f"need -1 < seed_tau <= 1 and 0 <= two_seed_fraction <= 1, got "
                         f"{seed_tau}, {two_seed_fraction}")
    r = float(np.sin(np.pi * seed_tau / 2))
    if r <= 0:
        return {"one_seed": 0.0, "two_seed_mean": 0.0, "benchmark_labels": 0.0}
    one = (1 - r) / r

    def pair_tau(v_i: float, v_j: float) -> float:
        return float(2 / np.pi * np.arcsin(np.sqrt(2 / (2 + v_i + v_j))))

    p2 = two_seed_fraction
    p1 = 1 - p2
    two = one / 2
    mixed = (p1 * p1 * pair_tau(one, one) + 2 * p1 * p2 * pair_tau(one, two)
             + p2 * p2 * pair_tau(two, two))
    return {"one_seed": pair_tau(one, one), "two_seed_mean": pair_tau(two, two),
            "benchmark_labels": mixed}


def spread(values: np.ndarray) -> dict[str, float]:
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    if not len(v):
        return {}
    return {"min": float(v.min()), "median": float(np.median(v)), "max": float(v.max()),
            "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}


def epoch_vs_final_tau(curves: np.ndarray) -> list[float]:
    """Kendall tau between the score at each epoch and at the last epoch (``[arch, epoch]``)."""
    curves = np.asarray(curves, float)
    curves = curves[~np.isnan(curves).any(axis=1)]
    if len(curves) < 3:
        return []
    final = curves[:, -1]
    return [kendall_tau(curves[:, e], final) for e in range(curves.shape[1])]
