"""Acquisition functions over a surrogate's per-candidate mean and std (higher is better).

- ``its``: independent Thompson sampling (BANANAS): one draw from N(mean, std) per candidate;
- ``ucb``: mean + beta * std;
- ``ei``: expected improvement over the best observed score;
- ``mean``: the prediction itself (pure exploitation, the only one that needs no std).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Acquisition = Callable[[np.ndarray, np.ndarray, float, np.random.Generator], np.ndarray]

#: Smallest std used, so that EI/UCB stay defined where a model is (over)confident.
MIN_STD = 1e-9


def thompson(mean: np.ndarray, std: np.ndarray, best: float,
             rng: np.random.Generator, **_: float) -> np.ndarray:
    """Independent Thompson sampling: one draw per candidate."""
    return rng.normal(mean, np.maximum(std, 0.0))


def ucb(mean: np.ndarray, std: np.ndarray, best: float,
        rng: np.random.Generator, beta: float = 0.5, **_: float) -> np.ndarray:
    """Upper confidence bound ``mean + beta * std``."""
    return mean + beta * std


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float,
                         rng: np.random.Generator, xi: float = 0.0, **_: float) -> np.ndarray:
    """E[max(f - best - xi, 0)] under f ~ N(mean, std^2)."""
    from scipy.stats import norm

    std = np.maximum(std, MIN_STD)
    gain = mean - best - xi
    z = gain / std
    return gain * norm.cdf(z) + std * norm.pdf(z)


def exploit(mean: np.ndarray, std: np.ndarray | None, best: float,
            rng: np.random.Generator, **_: float) -> np.ndarray:
    return mean


ACQUISITIONS: dict[str, Callable[..., np.ndarray]] = {
    "its": thompson,
    "ucb": ucb,
    "ei": expected_improvement,
    "mean": exploit,
}
NEEDS_STD = {"its", "ucb", "ei"}


def get_acquisition(name: str) -> Callable[..., np.ndarray]:
    if name not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {name!r}; use one of {sorted(ACQUISITIONS)}")
    return ACQUISITIONS[name]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first; ties broken by position (stable)."""
    scores = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    return np.argsort(-scores, kind="stable")[:k]
