"""LcSVR (Baker et al. 2017): support-vector regression on partial learning curves + architecture.

Features per architecture: the validation-accuracy curve up to the fidelity, its first and second
differences, and the adjacency one-hot encoding of the architecture. A nu-SVR (RBF kernel) on
standardized features is fitted to the labeled architectures' final accuracies; its C, nu and
gamma are picked by a randomized cross-validated search (``predictors.tuning.cv_search``, mean
squared error) when there are enough labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import loguniform, uniform
from sklearn.model_selection import KFold, ParameterSampler
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import NuSVR

from predictors.base import DataError, DataNeeds, FitContext, Prediction, Predictor, QueryContext
from predictors.encodings import encode
from predictors.labels import LabelScale
from predictors.learning_curve.curves import forward_fill, get_curves
from predictors.params import COUNT, NON_NEGATIVE, Interval
from predictors.registry import register
from predictors.spaces.base import Arch, SearchSpace
from predictors.tuning import cv_search

METRIC = "val_acc"
ENCODING = "adjacency_one_hot"
#: The search's distributions, in scikit-learn's pipeline parameter names.
SEARCH_SPACE = {
    "nusvr__C": loguniform(1e-2, 1e2),
    "nusvr__nu": uniform(0.1, 0.8),
    "nusvr__gamma": loguniform(1e-3, 1e0),
}


def curve_features(curves: np.ndarray) -> np.ndarray:
    """Values, first and second differences of each row (``[n, f + (f-1) + (f-2)]``)."""
    curves = forward_fill(curves)
    curves = np.where(np.isfinite(curves), curves, 0.0)
    return np.concatenate([curves, np.diff(curves, n=1, axis=1), np.diff(curves, n=2, axis=1)],
                          axis=1)


def _features(archs: list[Arch], curves: np.ndarray, space: SearchSpace) -> np.ndarray:
    return np.concatenate([curve_features(curves), encode(archs, ENCODING, space)], axis=1)


def _model(hp: dict[str, Any]) -> Pipeline:
    return make_pipeline(StandardScaler(), NuSVR(kernel="rbf")).set_params(**hp)


@register("lcsvr", family="hybrid")
class LcSVR(Predictor):
    """nu-SVR on curve features plus the adjacency one-hot encoding."""

    needs = DataNeeds(labels=True, curve_metrics=(METRIC,), curves_for_train=True)
    predicts_objective = True
    experiment = "vary_both"
    conformance_params = {"n_iter": 3}
    param_bounds = {"n_iter": COUNT, "cv_folds": Interval(2), "min_search": NON_NEGATIVE}

    n_iter: int = 20
    cv_folds: int = 3
    min_search: int = 10

    def _fit(self, ctx: FitContext) -> None:
        archs = list(ctx.archs)
        curves = get_curves(ctx.curves, METRIC, len(archs), self.name)
        if ctx.fidelity is not None:
            curves = curves[:, : ctx.fidelity]
        self._fidelity = curves.shape[1]
        x = _features(archs, curves, ctx.space)
        self._scale = LabelScale.fit(ctx.labels, self.name)
        yz = self._scale.scale(ctx.labels)
        hp: dict[str, Any] = {}
        if len(archs) >= self.min_search and self.n_iter > 0:
            seed = int(ctx.rng.integers(0, 2**31 - 1))
            # scikit-learn's shuffled folds (training rows in index order) and sampler, seeded
            # as lcsvr has always been, so its searches pick what they picked before
            folds = list(KFold(n_splits=min(self.cv_folds, len(archs)), shuffle=True,
                               random_state=seed).split(x))
            candidates = ParameterSampler(SEARCH_SPACE, n_iter=self.n_iter, random_state=seed)

            def fit_predict(params: dict[str, Any], tr: np.ndarray, val: np.ndarray
                            ) -> np.ndarray:
                return _model(params).fit(x[tr], yz[tr]).predict(x[val])

            hp, _ = cv_search(candidates, fit_predict, yz, folds, "neg_mse", who=self.name)
        self._model = _model(hp).fit(x, yz)

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        curves = get_curves(ctx.curves, METRIC, len(archs), self.name)
        if ctx.fidelity is not None:
            curves = curves[:, : ctx.fidelity]
        if curves.shape[1] != self._fidelity:
            raise DataError(
                f"lcsvr was fitted on curves of {self._fidelity} epochs but queried with "
                f"{curves.shape[1]}; fit and query at the same fidelity"
            )
        x = _features(archs, curves, ctx.space)
        return Prediction(self._scale.unscale(self._model.predict(x))[0])
