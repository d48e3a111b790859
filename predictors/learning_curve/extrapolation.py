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
from scipy.optimize import nnls

from predictors.learning_curve.families import Family, get_families

log = logging.getLogger(__name__)

LOG_SIGMA_BOUNDS = (np.log(1e-4), np.log(1.0))


@dataclass(frozen=True)
class ExtrapolationConfig:
    """How the ensemble is built and sampled.

    weight_init: ``"likelihood"`` starts each family's weight at its ML likelihood (the prior on
        weights stays flat); ``"nnls"`` starts from the non-negative least-squares combination
        of the ML fits and drops the families it zeroes.
    monotone: every sampled family curve must be non-decreasing from epoch 1 to the target
        (checked on ``n_grid`` points); otherwise only the combined curve must end no lower than
        it starts.
    """

    families: tuple[str, ...]
    walkers: int = 32
    steps: int = 120
    burn_in: int = 80
    thin: int = 2
    weight_init: str = "likelihood"
    monotone: bool = False
    n_grid: int = 20
    ml_iters: int = 30


def ml_fit_batch(fam: Family, x: np.ndarray, y: np.ndarray, iters: int) -> np.ndarray:
    """Least-squares fits of ``fam`` to every row of ``y`` at once (``[n, n_params]``).

    A projected Levenberg-Marquardt iteration vectorized over rows: forward-difference
    Jacobians, batched damped normal equations, steps clipped into the family's bounds, the
    damping adapted per row. One call replaces ``n`` separate scipy fits.
    """
    lower, upper = np.array(fam.lower), np.array(fam.upper)
    span = upper - lower
    lo_in, hi_in = lower + 1e-6 * span, upper - 1e-6 * span
    n, k = y.shape[0], fam.n_params
    params = np.tile(np.clip(np.array(fam.init), lo_in, hi_in), (n, 1))

    def resid(p: np.ndarray) -> np.ndarray:
        r = fam(x, p) - y
        return np.where(np.isfinite(r), r, 1e3)

    r = resid(params)
    cost = np.sum(r**2, axis=1)
    lam = np.full(n, 1e-2)
    eye = np.eye(k)
    for _ in range(iters):
        jac = np.empty((n, y.shape[1], k))
        for j in range(k):
            h = 1e-6 * np.maximum(np.abs(params[:, j]), 1e-2)
            h = np.where(params[:, j] + h > upper[j], -h, h)
            shifted = params.copy()
            shifted[:, j] += h
            jac[:, :, j] = (resid(shifted) - r) / h[:, None]
        jac = np.where(np.isfinite(jac), jac, 0.0)
        jtj = np.einsum("ntk,ntl->nkl", jac, jac)
        grad = np.einsum("ntk,nt->nk", jac, r)
        damp = lam[:, None, None] * (jtj * eye + 1e-9 * eye)
        try:
            step = np.linalg.solve(jtj + damp, -grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = -grad * 1e-3
        candidate = np.clip(params + np.where(np.isfinite(step), step, 0.0), lo_in, hi_in)
        r_new = resid(candidate)
        cost_new = np.sum(r_new**2, axis=1)
        better = cost_new < cost
        params[better], r[better], cost[better] = candidate[better], r_new[better], cost_new[better]
        lam = np.where(better, lam * 0.3, lam * 10.0).clip(1e-9, 1e9)
    return params


@dataclass
class _Posterior:
    """The sampled model of one curve: surviving families and the layout of theta."""

    families: list[Family]
    theta0: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    slices: list[slice]


class CurveEnsemble:
    """Extrapolates normalized curves to ``target`` epochs; see the module docstring."""

    def __init__(self, config: ExtrapolationConfig) -> None:
        self.config = config
        self.families = get_families(config.families)

    # --- the posterior ----------------------------------------------------------------------
    def _posterior(self, y: np.ndarray, ml: list[np.ndarray]) -> _Posterior | None:
        """Keep the families whose ML fit is plausible; build the sampler's start and box."""
        cfg = self.config
        kept: list[tuple[Family, np.ndarray]] = []
        for fam, p in zip(self.families, ml, strict=True):
            curve = fam(self._grid, p[None, :])[0]
            if not np.all(np.isfinite(curve)) or not 0.0 <= curve[-1] <= 1.0:
                continue
            if cfg.monotone and np.any(np.diff(curve) < 0):
                continue
            kept.append((fam, p))
        if not kept:
            return None
        obs = np.stack([fam(self._x_obs, p[None, :])[0] for fam, p in kept])
        sse = np.sum((obs - y[None, :]) ** 2, axis=1)
        if cfg.weight_init == "nnls":
            w, _ = nnls(obs.T, y)
            keep = w > 1e-3 * max(w.max(), 1e-12)
            if not keep.any():
                keep[:] = True
            kept = [kp for kp, k in zip(kept, keep, strict=True) if k]
            obs, w = obs[keep], w[keep]
        else:  # equal prior weights, started at each family's ML likelihood
            sigma2 = max(float(np.median(sse)) / len(y), 1e-8)
            w = np.exp(-0.5 * (sse - sse.min()) / sigma2)
        w = np.clip(0.5 * w / w.max(), 1e-3, 1.0) if w.max() > 0 else np.full(len(kept), 0.5)
        resid = y - (w / w.sum()) @ obs
        log_sigma = np.clip(np.log(max(float(np.std(resid)), 1e-3)), *LOG_SIGMA_BOUNDS)
        slices, lower, upper, start = [], [], [], 0
        for fam, _ in kept:
            slices.append(slice(start, start + fam.n_params))
            start += fam.n_params
            lower.extend(fam.lower)
            upper.extend(fam.upper)
        lower += [LOG_SIGMA_BOUNDS[0]] + [0.0] * len(kept)
        upper += [LOG_SIGMA_BOUNDS[1]] + [1.0] * len(kept)
        theta0 = np.concatenate([p for _, p in kept] + [[log_sigma], w])
        return _Posterior([f for f, _ in kept], theta0, np.array(lower), np.array(upper), slices)

    def _combine(self, theta: np.ndarray, post: _Posterior, x: np.ndarray,
                 check: bool = False) -> np.ndarray:
        """Weighted mixture of the family curves at ``x`` for every row of ``theta``.

        With ``check`` and a monotone config, rows whose family curves decrease on the grid part
        of ``x`` are flagged in ``self._violated``.
        """
        k = len(post.families)
        weights = theta[:, -k:]
        total = weights.sum(axis=1, keepdims=True)
        wn = weights / np.where(total > 0, total, 1.0)
        out = np.zeros((theta.shape[0], x.shape[-1]))
        for j, (fam, sl) in enumerate(zip(post.families, post.slices, strict=True)):
            cols = [theta[:, i : i + 1] for i in range(sl.start, sl.stop)]
            curve = fam.fn(x, *cols)
            if check and self.config.monotone:
                self._violated |= np.any(np.diff(curve[:, self._n_obs :], axis=1) < 0, axis=1)
            out += wn[:, j : j + 1] * curve
        return out

    def _log_prob(self, theta: np.ndarray, post: _Posterior, y: np.ndarray) -> np.ndarray:
        k = len(post.families)
        outside = np.any((theta < post.lower) | (theta > post.upper), axis=1)
        outside |= np.any(theta[:, -k:] <= 0.0, axis=1)
        self._violated = outside.copy()
        with np.errstate(all="ignore"):
            combined = self._combine(theta, post, self._x_all, check=True)
            final = combined[:, -1]
            bad = self._violated | ~((final >= 0.0) & (final <= 1.0))
            if not self.config.monotone:
                bad |= final < combined[:, self._n_obs]
            log_sigma = theta[:, -k - 1]
            resid = combined[:, : self._n_obs] - y[None, :]
            ll = -0.5 * np.sum(resid**2, axis=1) * np.exp(-2.0 * log_sigma)
            ll -= self._n_obs * log_sigma
        ll[bad | ~np.isfinite(ll)] = -np.inf
        return ll

    # --- public -----------------------------------------------------------------------------
    def predict(self, y: np.ndarray, target: int,
                seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std at epoch ``target`` of every row of ``y`` ``[n, f]``.

        Rows that no family fits plausibly get NaN. ``seeds`` (one per row) seed the sampler.
        """
        cfg = self.config
        y = np.asarray(y, dtype=float)
        n, f = y.shape
        self._n_obs = f
        self._x_obs = np.arange(1, f + 1, dtype=float)[None, :]
        self._grid = np.unique(np.linspace(1.0, float(target), cfg.n_grid))[None, :]
        self._x_all = np.concatenate([self._x_obs, self._grid], axis=1)
        ml = [ml_fit_batch(fam, self._x_obs, y, cfg.ml_iters) for fam in self.families]
        mean, std = np.full(n, np.nan), np.full(n, np.nan)
        for i in range(n):
            post = self._posterior(y[i], [p[i] for p in ml])
            if post is None:
                continue
            values = self._sample(post, y[i], float(target), int(seeds[i]))
            if len(values):
                mean[i], std[i] = values.mean(), values.std()
        return mean, std

    def _sample(self, post: _Posterior, y: np.ndarray, target: float, seed: int) -> np.ndarray:
        cfg = self.config
        ndim = len(post.theta0)
        n_walkers = max(cfg.walkers, 2 * ndim + 2)
        n_walkers += n_walkers % 2
        rs = np.random.RandomState(seed)
        scale = 1e-4 * np.maximum(np.abs(post.theta0), 1e-2)
        p0 = post.theta0[None, :] + scale[None, :] * rs.randn(n_walkers, ndim)
        p0[0] = post.theta0
        sampler = emcee.EnsembleSampler(n_walkers, ndim, self._log_prob, args=(post, y),
                                        vectorize=True)
        with np.errstate(invalid="ignore"):  # -inf minus -inf for walkers outside the prior
            sampler.run_mcmc(emcee.State(p0, random_state=rs.get_state()), cfg.steps,
                             progress=False)
        discard = min(cfg.burn_in, cfg.steps - 1)
        samples = sampler.get_chain(discard=discard, thin=cfg.thin, flat=True)
        logp = sampler.get_log_prob(discard=discard, thin=cfg.thin, flat=True)
        samples = samples[np.isfinite(logp)]
        if len(samples) == 0:
            samples = post.theta0[None, :]
        with np.errstate(all="ignore"):
            values = self._combine(samples, post, np.array([[target]]))[:, 0]
        return values[np.isfinite(values)]
