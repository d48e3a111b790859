"""Early stopping: the last observed validation accuracy / loss is the score."""

from __future__ import annotations

import numpy as np

from predictors.base import DataNeeds, Prediction, QueryContext
from predictors.learning_curve.curves import CurvePredictor, forward_fill
from predictors.registry import register


@register("valacc", family="learning_curve")
class ValAcc(CurvePredictor):
    """Validation accuracy at the fidelity (higher is better)."""

    needs = DataNeeds(labels=False, curve_metrics=("val_acc",))
    metric = "val_acc"

    def score(self, curves: np.ndarray, ctx: QueryContext) -> Prediction:
        return Prediction(forward_fill(curves)[:, -1])


@register("valloss", family="learning_curve")
class ValLoss(CurvePredictor):
    """Minus the validation loss at the fidelity (higher is better)."""

    needs = DataNeeds(labels=False, curve_metrics=("val_loss",))
    metric = "val_loss"

    def score(self, curves: np.ndarray, ctx: QueryContext) -> Prediction:
        return Prediction(-forward_fill(curves)[:, -1])
