"""Partial learning curves: reading them cut at the fidelity, filling gaps, scoring them.

Used by the learning-curve predictors (``CurvePredictor``) and by the families that take curve
features (hybrid, ensemble).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from predictors.base import DataError, Prediction, Predictor, QueryContext
from predictors.spaces.base import Arch


def get_curves(curves: Mapping[str, np.ndarray], metric: str, n_archs: int,
               who: str) -> np.ndarray:
    """The ``[n_archs, fidelity]`` float array of ``metric``, validated; never modified in place."""
    if metric not in curves:
        raise DataError(
            f"{who} needs partial learning curves of {metric!r}; the context holds "
            f"{sorted(curves) or 'none'} (declare it in DataNeeds.curve_metrics)"
        )
    arr = np.array(curves[metric], dtype=float, copy=True)
    if arr.ndim != 2 or arr.shape[0] != n_archs or arr.shape[1] < 1:
        raise DataError(
            f"{who}: curves[{metric!r}] must have shape [n_archs={n_archs}, fidelity>=1], "
            f"got {arr.shape}"
        )
    return arr


def forward_fill(curves: np.ndarray) -> np.ndarray:
    """Replace NaN epochs by the last finite value before them (leading NaNs stay NaN)."""
    out = curves.copy()
    for t in range(1, out.shape[1]):
        missing = ~np.isfinite(out[:, t])
        out[missing, t] = out[missing, t - 1]
    return out


class CurvePredictor(Predictor):
    """A training-free predictor scoring each architecture from its own partial curve."""

    experiment = "vary_fidelity"
    metric: ClassVar[str] = "val_acc"

    def _fit(self, ctx) -> None:  # nothing to learn: the score is a function of the curve
        return None

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        curves = get_curves(ctx.curves, self.metric, len(archs), self.name)
        if ctx.fidelity is not None and curves.shape[1] > ctx.fidelity:
            curves = curves[:, : ctx.fidelity]  # belt and braces: never look past the fidelity
        return self.score(curves, ctx)

    def score(self, curves: np.ndarray, ctx: QueryContext) -> Prediction:
        raise NotImplementedError
