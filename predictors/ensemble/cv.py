"""Cross-validation for composite predictors: folds, out-of-fold predictions, objectives, search.

Every objective is *maximized*: rank correlations as they are, errors negated. (The study's
reference code minimized R^2 during its search and so kept the worst configuration; here the
search keeps the configuration with the highest score, and records every trial so that this
can be checked.) A configuration scores the mean of its per-fold scores (folds of at least two
rows); a fold where the objective is undefined (e.g. constant predictions under a rank
objective) scores ``-inf``, so such a configuration is never preferred to a working one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import kendalltau, spearmanr

log = logging.getLogger(__name__)


def _rank(fn: Callable[..., Any]) -> Callable[[np.ndarray, np.ndarray], float]:
    def score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        if np.ptp(y_pred) == 0 or np.ptp(y_true) == 0:
            return -math.inf  # a constant prediction ranks nothing
        return float(fn(y_true, y_pred).statistic)

    return score


def _neg_mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return -float(np.mean(np.abs(y_true - y_pred)))


def _neg_rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return -float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


#: Objective name -> score function (higher is better).
OBJECTIVES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "kendall": _rank(kendalltau),
    "spearman": _rank(spearmanr),
    "neg_mae": _neg_mae,
    "neg_rmse": _neg_rmse,
}


def check_objective(name: str, who: str) -> None:
    if name not in OBJECTIVES:
        raise ValueError(f"{who}: unknown cv_objective {name!r}; use one of {sorted(OBJECTIVES)}")


def objective_score(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Score of predictions under objective ``name``; ``-inf`` when undefined (NaN, constant)."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if not np.all(np.isfinite(y_pred)):
        return -math.inf
    value = OBJECTIVES[name](y_true, y_pred)
    return value if math.isfinite(value) else -math.inf


def kfold(n: int, folds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``min(folds, n)`` disjoint, shuffled index sets covering ``range(n)``."""
    return [s for s in np.array_split(rng.permutation(n), min(folds, n)) if len(s)]


FitPredict = Callable[[np.ndarray, np.ndarray], np.ndarray]


def out_of_fold(fit_predict: FitPredict, n: int, splits: Sequence[np.ndarray]) -> np.ndarray:
    """Predictions for all ``n`` rows, each made by a model that did not see it.

    ``fit_predict(train_idx, val_idx)`` fits on ``train_idx`` and predicts ``val_idx``.
    """
    out = np.full(n, np.nan)
    for k, val in enumerate(splits):
        train = np.concatenate([s for j, s in enumerate(splits) if j != k])
        out[val] = np.asarray(fit_predict(train, val), dtype=float).reshape(-1)
    return out


@dataclass(frozen=True)
class Trial:
    """One evaluated configuration and its cross-validated score (higher is better)."""

    params: dict[str, Any]
    score: float


def cv_search(candidates: Sequence[dict[str, Any]],
              fit_predict: Callable[[dict[str, Any], np.ndarray, np.ndarray], np.ndarray],
              y: np.ndarray, splits: Sequence[np.ndarray], objective: str,
              who: str = "search") -> tuple[dict[str, Any], list[Trial]]:
    """The candidate with the *highest* cross-validated ``objective``, and every trial.

    ``fit_predict(hp, train_idx, val_idx)`` fits configuration ``hp`` and predicts ``val_idx``.

    Ties keep the earlier candidate (the first is normally the defaults).
    """
    if not candidates:
        raise ValueError(f"{who}: the search needs at least one candidate configuration")
    trials = []
    for hp in candidates:
        scores = []
        for k, val in enumerate(splits):
            train = np.concatenate([s for j, s in enumerate(splits) if j != k])
            pred = np.asarray(fit_predict(hp, train, val), dtype=float).reshape(-1)
            if len(val) >= 2:
                scores.append(objective_score(objective, y[val], pred))
        trials.append(Trial(dict(hp), float(np.mean(scores)) if scores else -math.inf))
        log.debug("%s: %s -> %s %.4f", who, hp, objective, trials[-1].score)
    best = max(range(len(trials)), key=lambda i: (trials[i].score, -i))
    log.info("%s: best cross-validated %s %.4f of %d configurations", who, objective,
             trials[best].score, len(trials))
    return dict(trials[best].params), trials
