"""Sum-of-training-losses estimators (Ru et al., "Speedy performance estimation", 2021).

Curves hold one training loss per epoch (the epoch's mean minibatch loss). Scores are negated
losses so that higher means better. At fidelity 1 the three variants coincide by construction.
"""

from __future__ import annotations

import numpy as np

from predictors.base import DataNeeds, Prediction, QueryContext
from predictors.learning_curve.curves import CurvePredictor, forward_fill
from predictors.params import PROBABILITY
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


def discounted_sum(curves: np.ndarray, decay: float) -> np.ndarray:
    """``sum_t decay**(T - t) * L_t``: the newest epoch weighs 1, each older one ``decay`` times
    less (``s_1 = L_1``, ``s_t = decay * s_{t-1} + L_t``); returns the last ``s``."""
    s = curves[:, 0].copy()
    for t in range(1, curves.shape[1]):
        s = decay * s + curves[:, t]
    return s


@register("sotlema", family="learning_curve")
class SoTLEMA(CurvePredictor):
    """Minus an exponentially weighted sum of the per-epoch training losses, recent epochs first.

    Epoch ``t`` of ``T`` weighs ``decay**(T - t)``: the variant between SoTL-E (``decay=0``, the
    last epoch alone) and SoTL (``decay=1``, every epoch alike) that Ru et al. describe as
    giving more weight to recent epochs. With the default 0.9 the epochs of a short partial
    training count almost alike (0.73 to 1 over four epochs), so at low fidelity it ranks close
    to SoTL and apart from SoTL-E, and over longer curves early epochs fade out. (A moving
    average that keeps 0.9 of its past at each epoch instead weighs the first epoch most:
    0.73 of the score after four epochs, the newest 0.1. It ranked worse than both SoTL and
    SoTL-E on this project's Fashion-MNIST curves and is not this predictor.)
    """

    needs = _NEEDS
    metric = "train_loss"
    param_bounds = {"decay": PROBABILITY}

    decay: float = 0.9

    def score(self, curves: np.ndarray, ctx: QueryContext) -> Prediction:
        if not 0.0 <= self.decay <= 1.0:
            raise ValueError(f"sotlema: decay must be in [0, 1], got {self.decay}")
        return Prediction(-discounted_sum(forward_fill(curves), self.decay))
