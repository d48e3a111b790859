"""Calibration of predictions that come with a std, read as Gaussians N(mean, std^2).

Every quantity is on the scale the predictor reports, which is the objective's own (accuracy in
the benchmark's unit: percent points for ``fmnist-nb201``): the model-based predictors
standardize labels inside and map mean *and* std back with the same ``LabelScale``, so the
truth, the mean and the std share one unit.

- ``nll``: mean Gaussian negative log likelihood of the truth, in nats (depends on the unit:
  a std in percent points gives an NLL ``log(100)`` higher than in fractions). Undefined when
  any std is zero (a point mass), then missing with that reason.
- ``crps``: mean continuous ranked probability score, closed form for a Gaussian
  (Gneiting & Raftery 2007): ``s * (z * (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))`` with
  ``z = (y - mu) / s``; it equals the absolute error when ``s = 0``, in the objective's unit.
- ``coverage@L``: fraction of the truths inside the central interval of nominal level ``L``,
  ``|y - mu| <= s * Phi^-1((1 + L) / 2)``, for every ``L`` in ``LEVELS`` (0.68 and 0.95 are the
  1- and 2-sigma intervals the summaries show; the others draw the reliability curve).
- ``mean_std``: the mean predicted std (sharpness), in the objective's unit.

The metrics return a ``benchmarks.metrics.MetricResult``: a metric that cannot be computed is
``None`` with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from benchmarks.metrics import MetricResult

#: Nominal levels of the central intervals whose coverage every record stores.
LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.68, 0.7, 0.8, 0.9, 0.95, 0.99)


def coverage_name(level: float) -> str:
    """Record field of the coverage at ``level`` (e.g. ``coverage@0.95``)."""
    return f"coverage@{level:g}"


COVERAGE_NAMES = tuple(coverage_name(level) for level in LEVELS)
#: Every calibration field a record holds (``None`` in records of predictors without a std).
CALIBRATION_NAMES = ("nll", "crps", "mean_std", *COVERAGE_NAMES)


def gaussian_nll(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Mean negative log density of ``y`` under N(mean, std^2) (std > 0), in nats."""
    z = (y - mean) / std
    return float(np.mean(0.5 * math.log(2 * math.pi) + np.log(std) + 0.5 * z**2))


def gaussian_crps(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Mean closed-form CRPS of N(mean, std^2) at ``y``; the absolute error where std = 0."""
    from scipy.stats import norm

    err = y - mean
    pos = std > 0
    out = np.abs(err)
    s, z = std[pos], err[pos] / std[pos]
    out[pos] = s * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / math.sqrt(math.pi))
    return float(np.mean(out))


def central_coverage(y: np.ndarray, mean: np.ndarray, std: np.ndarray, level: float) -> float:
    """Fraction of ``y`` inside the central ``level`` interval of N(mean, std^2)."""
    from scipy.stats import norm

    half = std * norm.ppf(0.5 + level / 2)
    return float(np.mean(np.abs(y - mean) <= half))


def calibration_metrics(
    y_true: Sequence[float] | np.ndarray,
    mean: Sequence[float] | np.ndarray,
    std: Sequence[float] | np.ndarray,
) -> MetricResult:
    """NLL, CRPS, mean std and central-interval coverage at ``LEVELS`` of Gaussian predictions."""
    y = np.asarray(y_true, dtype=float).reshape(-1)
    mu = np.asarray(mean, dtype=float).reshape(-1)
    s = np.asarray(std, dtype=float).reshape(-1)
    out = MetricResult()

    def all_missing(reason: str) -> MetricResult:
        for name in CALIBRATION_NAMES:
            out.set(name, None, reason)
        return out

    if not y.shape == mu.shape == s.shape:
        return all_missing(f"{len(y)} truths, {len(mu)} means and {len(s)} stds")
    if len(y) == 0:
        return all_missing("no predictions")
    for what, values in (("ground truth", y), ("mean", mu), ("std", s)):
        bad = int(np.sum(~np.isfinite(values)))
        if bad:
            return all_missing(f"{bad} of {len(values)} {what} values are NaN or infinite")
    if np.any(s < 0):
        return all_missing(f"{int(np.sum(s < 0))} of {len(s)} stds are negative")
    zero = int(np.sum(s == 0))
    if zero:
        out.set("nll", None, f"{zero} of {len(s)} stds are zero (a point mass has no density)")
    else:
        out.set("nll", gaussian_nll(y, mu, s))
    out.set("crps", gaussian_crps(y, mu, s))
    out.set("mean_std", float(np.mean(s)))
    for level, name in zip(LEVELS, COVERAGE_NAMES, strict=True):
        out.set(name, central_coverage(y, mu, s, level))
    return out
