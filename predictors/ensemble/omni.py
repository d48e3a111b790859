"""OMNI (White et al. 2021): one gradient-boosted model on encoding + curve + zero-cost features.

Features per architecture (each block can be switched off for ablations): the architecture
encoding, the learning-curve features up to the fidelity (SoTL-E and the partial validation
accuracy curve) and the scores of zero-cost measures (``jacov`` and ``synflow`` by default). A
tree model of the model-based family (NGBoost by default, as in the study; XGBoost, LightGBM or
a random forest selectable) is fitted on standardized labels, its hyperparameters picked by a
cross-validated random search of ``hpo_evals`` configurations that *maximizes* ``cv_objective``.
Missing feature values (an undefined zero-cost score, a missing epoch) are imputed with the
labeled set's median. With ``zc_source="table"`` the zero-cost scores are read from the
benchmark's tabulated ``zc_<measure>`` columns (computed once by the same live proxies) and
charged their tabulated compute time, which makes repeated sweeps cheap without hiding that cost.

``curve_prior=True`` (needs the curve features) goes past the study: the model starts from a
least-squares line in the SoTL-E score and the trees fit what that line leaves, so that with few
labels OMNI keeps the ranking SoTL-E gives for free instead of relearning it from the labels.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
from sklearn.impute import SimpleImputer

from predictors.base import DataNeeds, FitContext, Prediction, Predictor, QueryContext
from predictors.ensemble import features as F
from predictors.labels import LabelScale
from predictors.model_based.base import EncodedPredictor
from predictors.params import COUNT, Interval
from predictors.registry import make, register
from predictors.spaces.base import Arch
from predictors.subcontexts import child_rng, query_rows, with_rng
from predictors.tuning import Trial, check_objective, cv_search, kfold
from predictors.zero_cost import features as ZC

log = logging.getLogger(__name__)

#: Registered model-based predictors OMNI can use as its model.
MODELS = ("ngb", "xgb", "lgb", "rf")


@register("omni", family="ensemble")
class Omni(Predictor):
    """Encoding + learning-curve + zero-cost features into one tuned tree model."""

    predicts_objective = True
    experiment = "vary_both"
    conformance_params: ClassVar[dict[str, Any]] = {
        "hpo_evals": 2, "model_params": {"n_estimators": 20}, "measures": ("jacov",),
        "zc_batch_size": 8}
    reproduce_params: ClassVar[dict[str, Any]] = {"hpo_evals": 5}
    #: The first run's preset: the model's defaults with 100 trees instead of a tuned model,
    #: and the benchmark's tabulated proxy scores instead of computing them live.
    quick_params: ClassVar[dict[str, Any]] = {
        "hpo_evals": 1, "zc_source": "table", "model_params": {"n_estimators": 100}}
    param_bounds: ClassVar[dict[str, Interval]] = {
        "hpo_evals": COUNT, "cv_folds": Interval(2), "zc_batch_size": COUNT}

    model: str = "ngb"
    measures: tuple[str, ...] = ("jacov", "synflow")
    use_encoding: bool = True
    use_curves: bool = True
    use_zero_cost: bool = True
    encoding: str = "adjacency_one_hot"
    hpo_evals: int = 10
    cv_folds: int = 3
    cv_objective: str = "kendall"
    model_params: dict[str, Any] | None = None
    zc_batch_size: int = 64
    zc_source: str = "live"
    curve_prior: bool = False

    # --- configuration ------------------------------------------------------------------------
    def _check(self) -> None:
        if not (self.use_encoding or self.use_curves or self.use_zero_cost):
            raise ValueError("omni: every feature block is off; set at least one of "
                             "use_encoding, use_curves, use_zero_cost to True")
        if self.model not in MODELS:
            raise ValueError(f"omni: unknown model {self.model!r}; use one of {MODELS}")
        if int(self.hpo_evals) < 1 or int(self.cv_folds) < 2:
            raise ValueError(f"omni: need hpo_evals >= 1 and cv_folds >= 2 (got "
                             f"{self.hpo_evals}, {self.cv_folds})")
        check_objective(self.cv_objective, "omni")
        if self.curve_prior and not self.use_curves:
            raise ValueError("omni: curve_prior needs the curve features; set use_curves=True "
                             "or curve_prior=False")

    def data_needs(self) -> DataNeeds:
        """The union of the enabled parts' needs."""
        self._check()
        needs = DataNeeds(labels=True)
        if self.use_curves:
            needs = needs.union(F.curve_needs())
        if self.use_zero_cost:
            for member in self._zero_cost_members():
                needs = needs.union(member.data_needs())
        return needs

    def _zero_cost_members(self) -> list[Predictor]:
        return ZC.zero_cost_members(self.measures, self.zc_batch_size, "omni", self.zc_source)

    def _booster(self) -> EncodedPredictor:
        booster = make(self.model, **dict(self.model_params or {}))
        if not isinstance(booster, EncodedPredictor):  # MODELS lists encoded tree models only
            raise TypeError(f"omni: model {self.model!r} is not an encoded model-based predictor")
        return booster

    # --- features -----------------------------------------------------------------------------
    def _features(self, archs: list[Arch], ctx: QueryContext) -> np.ndarray:
        blocks = []
        if self.use_encoding:
            blocks.append(F.encoding_block(archs, self.encoding, ctx.space, "omni"))
        if self.use_curves:
            self._sotle_col = sum(b.shape[1] for b in blocks)  # SoTL-E leads the curve block
            blocks.append(F.curve_block(archs, ctx, "omni"))
        if self.use_zero_cost:
            blocks.append(ZC.zero_cost_block(self._members, archs, ctx))
        return np.concatenate(blocks, axis=1)

    # --- protocol -----------------------------------------------------------------------------
    def _fit(self, ctx: FitContext) -> None:
        self._check()
        self._scale = LabelScale.fit(ctx.labels, "omni")
        yz = self._scale.scale(ctx.labels)
        self._members = self._zero_cost_members() if self.use_zero_cost else []
        ZC.fit_members(self._members, ctx)
        archs = list(ctx.archs)
        raw = self._features(archs, query_rows(ctx, np.arange(len(archs)), child_rng(ctx.rng)))
        self._imputer = SimpleImputer(strategy="median", keep_empty_features=True)
        x = self._imputer.fit_transform(raw)
        self._width = raw.shape[1]

        booster = self._booster()
        self._booster_ = booster
        hp = self._search(booster, x, yz, ctx) if len(yz) >= 4 else booster.defaults()
        self.best_hyperparams_ = hp
        self._prior = self._fit_prior(x, yz)
        self._model = booster.train(x, yz - self._prior_of(self._prior, x), hp, ctx.rng,
                                    ctx.device)

    def _fit_prior(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(slope, intercept) of the least-squares line of ``y`` in SoTL-E; flat without it."""
        if not self.curve_prior:
            return 0.0, 0.0
        col = x[:, self._sotle_col]
        spread = float(col.std())
        if len(y) < 2 or spread < 1e-12:
            return 0.0, float(y.mean()) if len(y) else 0.0
        slope = float(np.cov(col, y, bias=True)[0, 1] / spread**2)
        return slope, float(y.mean() - slope * col.mean())

    def _prior_of(self, prior: tuple[float, float], x: np.ndarray) -> np.ndarray:
        if not self.curve_prior:
            return np.zeros(len(x))
        return prior[0] * x[:, self._sotle_col] + prior[1]

    def _search(self, booster: EncodedPredictor, x: np.ndarray, y: np.ndarray,
                ctx: FitContext) -> dict[str, Any]:
        pinned = {k: v for k, v in (self.model_params or {}).items() if k in booster.tunable}
        candidates = [booster.defaults()]
        for _ in range(int(self.hpo_evals) - 1):
            candidates.append({**booster.sample_hyperparams(ctx.rng), **pinned})
        folds = kfold(len(y), int(self.cv_folds), ctx.rng)

        def fit_predict(hp: dict[str, Any], tr: np.ndarray, val: np.ndarray) -> np.ndarray:
            prior = self._fit_prior(x[tr], y[tr])  # within the fold, as in the final fit
            model = booster.train(x[tr], y[tr] - self._prior_of(prior, x[tr]), hp, ctx.rng,
                                  ctx.device)
            pred = booster.predict(model, x[val], ctx.device)[0]
            return np.asarray(pred, dtype=float).reshape(-1) + self._prior_of(prior, x[val])

        best, trials = cv_search(candidates, fit_predict, y, folds, self.cv_objective, who="omni")
        self.cv_trials_: list[Trial] = trials
        return best

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        raw = self._features(archs, with_rng(ctx, child_rng(ctx.rng)))
        F.check_width(raw, self._width, "omni")
        x = self._imputer.transform(raw)
        mean, std = self._booster_.predict(self._model, x, ctx.device)
        mean = np.asarray(mean, dtype=float).reshape(-1) + self._prior_of(self._prior, x)
        return Prediction(*self._scale.unscale(mean, std))
