"""Parametric learning-curve families, vectorized over parameter samples.

Each family maps epochs ``x`` (shape ``[1, T]``, epochs counted from 1) and parameter columns
(each shape ``[m, 1]``) to curves ``[m, T]`` on the *normalized* accuracy scale (fractions in
[0, 1]). The families follow Domhan et al. (IJCAI 2015), with bounds chosen for accuracy curves
that rise and saturate. Bounds double as the uniform prior of the MCMC sampler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

CurveFn = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Family:
    """One parametric family: its function, a starting point and box bounds per parameter."""

    name: str
    fn: CurveFn
    init: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    @property
    def n_params(self) -> int:
        return len(self.init)

    def __call__(self, x: np.ndarray, params: np.ndarray) -> np.ndarray:
        """Curves ``[m, len(x)]`` for parameter rows ``params`` ``[m, n_params]``."""
        x = np.asarray(x, dtype=float).reshape(1, -1)
        params = np.atleast_2d(params)
        cols = [params[:, i : i + 1] for i in range(self.n_params)]
        with np.errstate(all="ignore"):
            return self.fn(x, *cols)


def _pow3(x, c, a, alpha):
    return c - a * x ** (-alpha)


def _pow4(x, c, a, b, alpha):
    return c - (a * x + b) ** (-alpha)


def _log_power(x, a, b, c):
    return a / (1.0 + (x / np.exp(b)) ** c)


def _janoschek(x, a, beta, k, delta):
    return a - (a - beta) * np.exp(-k * x**delta)


def _mmf(x, alpha, beta, kappa, delta):
    return alpha - (alpha - beta) / (1.0 + (kappa * x) ** delta)


def _exp3(x, c, a, b):
    return c - np.exp(-a * x + b)


def _exp4(x, c, a, b, alpha):
    return c - np.exp(-a * x**alpha + b)


def _weibull(x, alpha, beta, kappa, delta):
    return alpha - (alpha - beta) * np.exp(-((kappa * x) ** delta))


def _ilog2(x, c, a):
    return c - a / np.log(x + 1.0)


def _vap(x, a, b, c):
    return np.exp(a + b / x + c * np.log(x))


def _hill3(x, theta, eta, kappa):
    xe = x**eta
    return theta * xe / (kappa**eta + xe)


def _loglog_linear(x, a, b):
    return np.log(a * np.log(x) + b)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("pow3", _pow3, (0.9, 0.5, 0.5), (0.0, 0.0, 1e-3), (1.5, 5.0, 5.0)),
        Family("pow4", _pow4, (0.9, 1.0, 1.0, 0.5), (0.0, 1e-4, 0.0, 1e-3),
               (1.5, 100.0, 100.0, 5.0)),
        Family("log_power", _log_power, (0.9, 1.0, -1.0), (0.0, -5.0, -10.0), (1.5, 10.0, 0.0)),
        Family("janoschek", _janoschek, (0.9, 0.3, 0.5, 0.5), (0.0, 0.0, 0.0, 1e-3),
               (1.5, 1.5, 10.0, 5.0)),
        Family("mmf", _mmf, (0.9, 0.1, 0.5, 1.0), (0.0, 0.0, 1e-4, 1e-3),
               (1.5, 1.5, 10.0, 10.0)),
        Family("exp3", _exp3, (0.9, 0.3, -0.5), (0.0, 0.0, -10.0), (1.5, 5.0, 5.0)),
        Family("exp4", _exp4, (0.9, 0.5, -0.5, 0.7), (0.0, 0.0, -10.0, 1e-3),
               (1.5, 5.0, 5.0, 3.0)),
        Family("weibull", _weibull, (0.9, 0.1, 0.3, 1.0), (0.0, 0.0, 1e-4, 1e-3),
               (1.5, 1.5, 10.0, 10.0)),
        Family("ilog2", _ilog2, (0.9, 0.3), (0.0, -1.0), (1.5, 5.0)),
        Family("vap", _vap, (-0.1, -0.5, 0.0), (-10.0, -10.0, -2.0), (1.0, 1.0, 1.0)),
        Family("hill3", _hill3, (0.9, 1.0, 1.0), (0.0, 1e-3, 1e-3), (1.5, 10.0, 1000.0)),
        Family("loglog_linear", _loglog_linear, (0.3, 2.0), (0.0, 1e-3), (5.0, 5.0)),
    )
}


def get_families(names: tuple[str, ...] | list[str]) -> list[Family]:
    """Families by name; raises ``ValueError`` naming unknown ones and the known set."""
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise ValueError(
            f"unknown curve families {unknown}; choose from {sorted(FAMILIES)}"
        )
    if not names:
        raise ValueError("at least one curve family is needed")
    return [FAMILIES[n] for n in names]
