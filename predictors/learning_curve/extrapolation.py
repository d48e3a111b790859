"""Bayesian learning-curve extrapolation: a weighted ensemble of parametric families and MCMC.

A curve (normalized to [0, 1]) is fitted by maximum likelihood per family (bounded least
squares); families whose fit is non-finite or implausible at the target epoch are dropped. The
survivors' parameters, the noise level and the mixture weights are then sampled jointly with
``emcee``'s affine-invariant ensemble sampler, starting in a small ball around the ML estimate.
The log-posterior is vectorized over walkers (one numpy evaluation per half-ensemble move).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import emcee
import numpy as np
from scipy.optimize import least_squares, nnls

from predictors.learning_curve.families import Family, get_families

log = logging.getLogger(__name__)

LOG_SIGMA_BOUNDS = (np.log(1e-4), np.log(1.0))


@dataclass(frozen=True)
class ExtrapolationConfig:
    """How the ensemble is built and sampled.

    weight_init: ``"equal"`` starts every family at the same weight; ``"nnls"`` starts from the
        non-negative least-squares combination of the ML fits and drops families it zeroes.
    monotone: every sampled family curve must be non-decreasing from epoch 1 to the target
        (checked on ``n_grid`` points); otherwise only the combined curve must end no lower than
        it starts.
    """

    families: tuple[str, ...]
    walkers: int = 32
    steps: int = 120
    burn_in: int = 80
    thin: int = 2
    weight_init: str = "equal"
    monotone: bool = False
    n_grid: int = 20
    max_nfev: int = 40


@dataclass
class _Fit:
    family: Family
    params: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def _ml_fit(fam: Family, x: np.ndarray, y: np.ndarray, max_nfev: int) -> np.ndarray | None:
    lower, upper = np.array(fam.lower), np.array(fam.upper)
    span = upper - lower
    x0 = np.clip(np.array(fam.init), lower + 1e-3 * span, upper - 1e-3 * span)

    def residuals(p: np.ndarray) -> np.ndarray:
        r = fam(x, p[None, :])[0] - y
        return np.where(np.isfinite(r), r, 1e3)

    try:
        res = least_squares(residuals, x0, bounds=(lower, upper), max_nfev=max_nfev)
    except (ValueError, FloatingPointError):
        return None
    # keep the start strictly inside the prior box so the walker ball has finite density
    return np.clip(res.x, lower + 1e-6 * span, upper - 1e-6 * span)


class CurveEnsemble:
    """Extrapolates one normalized curve to ``target`` epochs; see the module docstring."""

    def __init__(self, config: ExtrapolationConfig) -> None:
        self.config = config
        self.families = get_families(config.families)

    # --- the posterior ----------------------------------------------------------------------
    def _setup(self, y: np.ndarray, target: int) -> tuple[list[_Fit], np.ndarray] | None:
        cfg = self.config
        x = np.arange(1, len(y) + 1, dtype=float)
        self._x_obs = x
        self._grid = np.unique(np.linspace(1.0, float(target), cfg.n_grid))
        self._x_all = np.concatenate([x, self._grid])
        fits: list[_Fit] = []
        for fam in self.families:
            p = _ml_fit(fam, x, y, cfg.max_nfev)
            if p is None:
                continue
            curve = fam(self._grid, p[None, :])[0]
            if not np.all(np.isfinite(curve)) or not 0.0 <= curve[-1] <= 1.0:
                continue
            if cfg.monotone and np.any(np.diff(curve) < 0):
                continue
            fits.append(_Fit(fam, p, np.array(fam.lower), np.array(fam.upper)))
        if not fits:
            return None
        obs = np.stack([f.family(x, f.params[None, :])[0] for f in fits])
        if cfg.weight_init == "nnls":
            w, _ = nnls(obs.T, y)
            keep = w > 1e-4 * max(w.max(), 1e-12)
            if not keep.any():
                keep[:] = True
            fits = [f for f, k in zip(fits, keep, strict=True) if k]
            obs, w = obs[keep], w[keep]
            w = np.clip(w / w.sum(), 1e-3, 1.0) if w.sum() > 0 else np.full(len(fits), 0.5)
        else:
            w = np.full(len(fits), 0.5)
        resid = y - (w / w.sum()) @ obs
        log_sigma = np.clip(np.log(max(float(np.std(resid)), 1e-3)), *LOG_SIGMA_BOUNDS)
        theta0 = np.concatenate([f.params for f in fits] + [[log_sigma], w])
        return fits, theta0

    def _log_prob(self, theta: np.ndarray, fits: list[_Fit], y: np.ndarray) -> np.ndarray:
        n_w, k = theta.shape[0], len(fits)
        lp = np.zeros(n_w)
        log_sigma = theta[:, -k - 1]
        weights = theta[:, -k:]
        lp[(log_sigma < LOG_SIGMA_BOUNDS[0]) | (log_sigma > LOG_SIGMA_BOUNDS[1])] = -np.inf
        lp[np.any((weights <= 0.0) | (weights > 1.0), axis=1)] = -np.inf
        wn = weights / np.where(weights.sum(axis=1, keepdims=True) > 0,
                                weights.sum(axis=1, keepdims=True), 1.0)
        n_obs = len(self._x_obs)
        combined = np.zeros((n_w, len(self._x_all)))
        start = 0
        for j, fit in enumerate(fits):
            p = theta[:, start : start + fit.family.n_params]
            start += fit.family.n_params
            lp[np.any((p < fit.lower) | (p > fit.upper), axis=1)] = -np.inf
            curve = fit.family(self._x_all, p)
            if self.config.monotone:
                lp[np.any(np.diff(curve[:, n_obs:], axis=1) < 0, axis=1)] = -np.inf
            combined += wn[:, j : j + 1] * curve
        final = combined[:, -1]
        lp[~((final >= 0.0) & (final <= 1.0))] = -np.inf
        if not self.config.monotone:
            lp[final < combined[:, n_obs]] = -np.inf
        resid = combined[:, :n_obs] - y[None, :]
        sigma2 = np.exp(2.0 * log_sigma)
        ll = -0.5 * np.sum(resid**2, axis=1) / sigma2 - n_obs * log_sigma
        out = lp + ll
        out[~np.isfinite(out)] = -np.inf
        return out

    def _combined_at(self, samples: np.ndarray, fits: list[_Fit], x: float) -> np.ndarray:
        k = len(fits)
        weights = samples[:, -k:]
        wn = weights / weights.sum(axis=1, keepdims=True)
        total = np.zeros(len(samples))
        start = 0
        for j, fit in enumerate(fits):
            p = samples[:, start : start + fit.family.n_params]
            start += fit.family.n_params
            total += wn[:, j] * fit.family(np.array([x]), p)[:, 0]
        return total

    # --- public -----------------------------------------------------------------------------
    def predict(self, y: np.ndarray, target: int, seed: int) -> tuple[float, float] | None:
        """Posterior mean and std of the curve at epoch ``target``; ``None`` if nothing fits."""
        cfg = self.config
        y = np.asarray(y, dtype=float)
        setup = self._setup(y, target)
        if setup is None:
            return None
        fits, theta0 = setup
        ndim = len(theta0)
        n_walkers = max(cfg.walkers, 2 * ndim + 2)
        n_walkers += n_walkers % 2
        rs = np.random.RandomState(seed)
        scale = 1e-4 * np.maximum(np.abs(theta0), 1e-2)
        p0 = theta0[None, :] + scale[None, :] * rs.randn(n_walkers, ndim)
        p0[0] = theta0
        sampler = emcee.EnsembleSampler(
            n_walkers, ndim, self._log_prob, args=(fits, y), vectorize=True
        )
        with np.errstate(invalid="ignore"):  # -inf minus -inf for walkers outside the prior
            sampler.run_mcmc(p0, cfg.steps, rstate0=rs.get_state(), progress=False)
        samples = sampler.get_chain(discard=min(cfg.burn_in, cfg.steps - 1), thin=cfg.thin,
                                    flat=True)
        logp = sampler.get_log_prob(discard=min(cfg.burn_in, cfg.steps - 1), thin=cfg.thin,
                                    flat=True)
        samples = samples[np.isfinite(logp)]
        if len(samples) == 0:
            samples = theta0[None, :]
        values = self._combined_at(samples, fits, float(target))
        values = values[np.isfinite(values)]
        if len(values) == 0:
            return None
        return float(values.mean()), float(values.std())
