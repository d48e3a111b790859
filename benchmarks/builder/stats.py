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
