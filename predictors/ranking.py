"""Kendall's rank correlation, the one implementation the library and the harness share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def kendall_tau(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Kendall's tau-b between two equally long sequences (scipy's, ties corrected in both).

    NaN when either input holds a NaN (no pair is dropped: callers that want to skip missing
    values mask both inputs first) or is constant, where tau-b is undefined.
    """
    from scipy import stats

    return float(stats.kendalltau(x, y).statistic)
