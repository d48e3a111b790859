"""Learning-curve extrapolation predictors: LCE (Domhan et al. 2015) and LCE-m (Klein et al. 2017).

Both extrapolate each queried architecture's validation-accuracy curve to the benchmark's final
epoch (``ctx.total_epochs``, from the benchmark metadata) with a Bayesian ensemble of parametric
families (see :mod:`predictors.learning_curve.extrapolation`).

- ``lce``: the full ensemble of eleven families under a flat prior on the mixture weights (the
  sampler starts each weight at its family's ML likelihood); the only shape constraint is that
  the combined curve must not end below where it starts.
- ``lce_m``: the study's modified variant (as in the reference implementation's ``lce_m``): a
  reduced set of four families (MMF, log-log-linear, Hill, log-power), weights initialized by a
  non-negative least-squares fit of the ML curves (families it zeroes are dropped), and a strict
  monotonicity prior on every family up to the final epoch. Fewer dimensions also make it faster.

Accuracy curves in percent (any value above 1) are divided by 100 for fitting and scaled back.
With fewer than ``min_points`` observed epochs no curve can be fitted meaningfully; the score is
then the last observed value, and so it is whenever no family fits the curve or the curve has
missing epochs before its first observed one.

Cost: the ML fits are batched over all queried curves; the MCMC runs per curve with
``2 * dimensions + 2`` walkers for ``steps`` steps (defaults keep a query near 0.1 s per
architecture for LCE and 0.05 s for LCE-m on one CPU core; ``steps``/``burn_in`` trade time for
posterior quality).
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np

from predictors.base import DataError, DataNeeds, Prediction, QueryContext
from predictors.learning_curve.curves import CurvePredictor, forward_fill
from predictors.learning_curve.extrapolation import CurveEnsemble, ExtrapolationConfig
from predictors.params import COUNT, NON_NEGATIVE, Interval
from predictors.registry import register

log = logging.getLogger(__name__)

LCE_FAMILIES = ("vap", "ilog2", "weibull", "pow3", "pow4", "loglog_linear", "mmf", "janoschek",
                "hill3", "log_power", "exp4")
LCE_M_FAMILIES = ("mmf", "loglog_linear", "hill3", "log_power")


class _Extrapolator(CurvePredictor):
    needs = DataNeeds(labels=False, curve_metrics=("val_acc",))
    metric = "val_acc"
    _weight_init = "likelihood"
    _monotone = False
    _default_families: ClassVar[tuple[str, ...]] = ()
    param_bounds = {"walkers": NON_NEGATIVE, "steps": Interval(2), "burn_in": NON_NEGATIVE,
                    "min_points": COUNT}

    families: tuple[str, ...] | None = None
    walkers: int = 0
    steps: int = 40
    burn_in: int = 25
    min_points: int = 3

    def _config(self) -> ExtrapolationConfig:
        if self.steps < 2 or self.walkers < 0:
            raise ValueError(
                f"{self.name}: steps must be >= 2 and walkers >= 0 (0 means 2 * dimensions + 2)"
            )
        return ExtrapolationConfig(
            families=tuple(self.families or self._default_families),
            walkers=self.walkers,
            steps=self.steps,
            burn_in=min(self.burn_in, self.steps - 1),
            weight_init=self._weight_init,
            monotone=self._monotone,
        )

    def score(self, curves: np.ndarray, ctx: QueryContext) -> Prediction:
        if ctx.total_epochs is None:
            raise DataError(f"{self.name} needs ctx.total_epochs (the benchmark's final epoch)")
        target = int(ctx.total_epochs)
        curves = forward_fill(curves)
        seeds = ctx.rng.integers(0, 2**32 - 1, size=len(curves))
        mean = curves[:, -1].copy()  # fallback: the last observed value
        std = np.zeros(len(curves))
        fidelity = curves.shape[1]
        rows = np.flatnonzero(np.all(np.isfinite(curves), axis=1))
        if rows.size == 0 or fidelity < self.min_points or fidelity >= target:
            return Prediction(mean, std)
        obs = curves[rows]
        scale = np.where(obs.max(axis=1) > 1.0, 100.0, 1.0)[:, None]
        ensemble = CurveEnsemble(self._config())
        m, s = ensemble.predict(obs / scale, target, seeds[rows])
        ok = np.isfinite(m)
        if not ok.all():
            log.debug("%s: no curve family fits %d rows; using their last value", self.name,
                      int((~ok).sum()))
        mean[rows[ok]] = m[ok] * scale[ok, 0]
        std[rows[ok]] = s[ok] * scale[ok, 0]
        return Prediction(mean, std)


@register("lce", family="learning_curve")
class LCE(_Extrapolator):
    """Learning-curve extrapolation with the full family ensemble (Domhan et al. 2015)."""

    _default_families = LCE_FAMILIES
    conformance_params = {"families": ("pow3", "log_power", "janoschek"), "steps": 6,
                          "burn_in": 3}


@register("lce_m", family="learning_curve")
class LCEM(_Extrapolator):
    """Modified LCE: reduced families, NNLS-initialized weights, monotone prior."""

    _default_families = LCE_M_FAMILIES
    _weight_init = "nnls"
    _monotone = True
    conformance_params = {"families": ("pow3", "log_power", "janoschek"), "steps": 6,
                          "burn_in": 3}
