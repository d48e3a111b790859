"""Stacking over registered predictors: non-negative weights on their own predictions.

Each member is fitted on k-1 folds of the labeled architectures and predicts the held-out fold;
the out-of-fold predictions, standardized per member, are regressed on the labels by
non-negative least squares (``scipy.optimize.nnls``). The members are then refitted on every
label, and a query is the weighted sum of their standardized predictions on the label scale.
Goes past the study, whose OMNI combines features rather than predictors.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import nnls

from predictors.base import DataNeeds, FitContext, Prediction, Predictor, QueryContext
from predictors.params import Interval
from predictors.registry import make, register
from predictors.spaces.base import Arch
from predictors.subcontexts import child_rng, fit_subset, query_rows, with_rng
from predictors.tuning import kfold, out_of_fold

log = logging.getLogger(__name__)

#: Fewest labels for out-of-fold weighting.
MIN_CV_LABELS = 4


def stack_weights(preds: np.ndarray, y: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-negative weights of standardized member predictions ``preds [n, m]`` fitting ``y``.

    Returns ``(weights, mu, sd)``: a prediction is ``mean(y) + ((p - mu) / sd) @ weights``.
    Missing predictions (NaN) count as the member's median. If no member helps (all weights
    zero), the members are weighted equally, with a warning.
    """
    preds = np.array(preds, dtype=float)
    for j in range(preds.shape[1]):
        col = preds[:, j]
        finite = np.isfinite(col)
        col[~finite] = np.median(col[finite]) if finite.any() else 0.0
    mu = preds.mean(axis=0)
    sd = preds.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    weights, _ = nnls((preds - mu) / sd, np.asarray(y, dtype=float) - float(np.mean(y)))
    if not np.any(weights > 0):
        log.warning("omni_stack: no member's out-of-fold predictions correlate positively "
                    "with the labels; weighting them equally")
        weights = np.full(preds.shape[1], float(np.std(y)) / preds.shape[1])
    return weights, mu, sd


@register("omni_stack", family="ensemble")
class OmniStack(Predictor):
    """Non-negative stacking of registered predictors fitted on out-of-fold predictions."""

    predicts_objective = True
    experiment = "vary_both"
    conformance_params: ClassVar[dict[str, Any]] = {
        "member_params": {"xgb": {"num_boost_round": 20}, "rf": {"n_estimators": 10}}}
    param_bounds: ClassVar[dict[str, Interval]] = {"cv_folds": Interval(2)}

    members: tuple[str, ...] = ("xgb", "rf", "svr")
    member_params: dict[str, dict[str, Any]] | None = None
    cv_folds: int = 5

    def _check(self) -> None:
        if not self.members:
            raise ValueError("omni_stack: give at least one member predictor in `members`")
        if "omni_stack" in self.members:
            raise ValueError("omni_stack cannot stack itself; remove it from `members`")
        extra = set(self.member_params or {}) - set(self.members)
        if extra:
            raise ValueError(f"omni_stack: member_params names {sorted(extra)}, which are not "
                             f"in members {list(self.members)}")
        if int(self.cv_folds) < 2:
            raise ValueError(f"omni_stack: cv_folds must be >= 2, got {self.cv_folds}")

    def _make(self, name: str) -> Predictor:
        return make(name, **dict((self.member_params or {}).get(name, {})))

    def data_needs(self) -> DataNeeds:
        """The members' needs together; curves of the labeled archs if any member reads curves
        (the out-of-fold predictions query labeled architectures)."""
        self._check()
        needs = DataNeeds(labels=True)
        for name in self.members:
            needs = needs.union(self._make(name).data_needs())
        if needs.curve_metrics:
            needs = needs.union(DataNeeds(curves_for_train=True))
        return needs

    def _fit(self, ctx: FitContext) -> None:
        self._check()
        y = np.asarray(ctx.labels, dtype=float)
        archs = list(ctx.archs)
        n = len(archs)
        folds = kfold(n, int(self.cv_folds), ctx.rng)

        def oof_of(name: str) -> np.ndarray:
            def fit_predict(tr: np.ndarray, val: np.ndarray) -> np.ndarray:
                member = self._make(name).fit(fit_subset(ctx, tr, child_rng(ctx.rng)))
                return member.query([archs[int(i)] for i in val],
                                    query_rows(ctx, val, child_rng(ctx.rng))).mean
            return out_of_fold(fit_predict, n, folds)

        if n >= MIN_CV_LABELS:
            preds = np.stack([oof_of(name) for name in self.members], axis=1)
            self._weights, self._mu, self._sd = stack_weights(preds, y)
            self._y_mean = float(y.mean())
        else:  # too few labels to hold any out: equal weights on the raw predictions
            log.info("omni_stack: %d labels are too few to cross-validate; equal weights", n)
            m = len(self.members)
            self._weights, self._mu, self._sd = np.full(m, 1.0 / m), np.zeros(m), np.ones(m)
            self._y_mean = 0.0
        self.weights_ = dict(zip(self.members, (float(w) for w in self._weights), strict=True))
        self._fitted_members = [self._make(name).fit(fit_subset(ctx, np.arange(n),
                                                                child_rng(ctx.rng)))
                                for name in self.members]

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        cols = [m.query(archs, with_rng(ctx, child_rng(ctx.rng))).mean
                for m in self._fitted_members]
        preds = np.stack(cols, axis=1)
        preds = np.where(np.isfinite(preds), preds, self._mu)
        return Prediction(self._y_mean + ((preds - self._mu) / self._sd) @ self._weights)
