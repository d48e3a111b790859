"""Sum-of-training-losses estimators (Ru et al., "Speedy performance estimation", 2021).

Curves hold one training loss per epoch (the epoch's mean minibatch loss). Scores are negated
losses so that higher means better. At fidelity 1 the three variants coincide by construction.
"""

from __future__ import annotations

import numpy as np

from predictors.base import DataNeeds, Prediction, QueryContext
from predictors.learning_curve._common import CurvePredictor, forward_fill
from predictors.registry import register

_NEEDS = DataNeeds(labels=False, curve_metrics=("train_loss",))


@register("sotl", family="learning_curve")
class SoTL(CurvePredictor):
    """Minus the sum of the per-epoch training losses up to the fidelity."""

    needs = _NEEDS
    metric = "train_loss"

    def score(self, curves: np.ndarray, ctx: QueryContext) -> Prediction:
        return Prediction(-forward_fill(curves).sum(axis=1))


@register("sotle", family="learning_curve")
class SoTLE(CurvePredictor):
    """Minus the training loss of the last epoch only (SoTL-E with E = 1)."""

    needs = _NEEDS
    metric = "train_loss"

    def score(self, curves: np.ndarray, ctx: QueryContext) -> Prediction:
        return Prediction(-forward_fill(curves)[:, -1])


def ema(curves: np.ndarray, decay: float) -> np.ndarray:
    """``s_1 = L_1``, ``s_t = decay * s_{t-1} + (1 - decay) * L_t``; returns the last ``s``."""
    s = curves[:, 0].copy()
    for t in range(1, curves.shape[1]):
        s = decay * s + (1.0 - decay) * curves[:, t]
    return s


@register("sotlema", family="learning_curve")
class SoTLEMA(CurvePredictor):
    """Minus an exponential moving average of the per-epoch training losses.

    ``decay`` is the weight kept by the running average at each epoch; the newest epoch gets
    ``1 - decay``. With the default 0.9 the last epoch carries 10% of the score (vs 100% for
    SoTL-E) and the average still remembers the early, high losses, so the two rank
    architectures differently once the curves cross; ``decay=0`` reproduces SoTL-E exactly.
    """

    needs = _NEEDS
    metric = "train_loss"

    def __init__(self, decay: float = 0.9) -> None:
        self.decay = decay

    def score(self, curves: np.ndarray, ctx: QueryContext) -> Prediction:
        if not 0.0 <= self.decay < 1.0:
            raise ValueError(f"sotlema: decay must be in [0, 1), got {self.decay}")
        return Prediction(-ema(forward_fill(curves), self.decay))
