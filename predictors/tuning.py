"""Cross-validated hyperparameter search shared by every family: folds, objectives, the search.

Every objective is *maximized*: rank correlations as they are, errors negated. (The study's
reference code minimized R^2 during its search and so kept the worst configuration; here the
search keeps the configuration with the highest score and records every trial.) A configuration
scores the mean of its per-fold scores over the folds of at least two rows; a fold where the
objective is undefined (a constant prediction or constant truth under a rank objective, a
non-finite prediction) scores the caller's ``undefined`` value. The budget is a number of
configurations, not seconds, so a result does not depend on the machine.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from predictors.ranking import kendall_tau

log = logging.getLogger(__name__)

#: A fold: (training row indices, validation row indices).
Fold = tuple[np.ndarray, np.ndarray]
#: Folds with fewer validation rows are not scored (one row has no ranking).
MIN_FOLD_ROWS = 2


def _rank(fn: Callable[[np.ndarray, np.ndarray], float]
          ) -> Callable[[np.ndarray, np.ndarray], float]:
    def score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        if np.ptp(y_pred) == 0 or np.ptp(y_true) == 0:
            return math.nan  # a constant prediction ranks nothing
        return float(fn(y_true, y_pred))

    return score


def _neg_mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return -float(np.mean(np.abs(y_true - y_pred)))


def _neg_rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return -float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def _neg_mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sklearn.metrics import mean_squared_error  # scikit-learn's, as lcsvr's search used

    return -float(mean_squared_error(y_true, y_pred))


#: Objective name -> score function (higher is better; NaN where undefined).
OBJECTIVES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "kendall": _rank(kendall_tau),
    "spearman": _rank(lambda y_true, y_pred: spearmanr(y_true, y_pred).statistic),
    "neg_mae": _neg_mae,
    "neg_rmse": _neg_rmse,
    "neg_mse": _neg_mse,
}


def check_objective(name: str, who: str) -> None:
    if name not in OBJECTIVES:
        raise ValueError(f"{who}: unknown cv_objective {name!r}; use one of {sorted(OBJECTIVES)}")


def objective_score(name: str, y_true: np.ndarray, y_pred: np.ndarray,
                    undefined: float = -math.inf) -> float:
    """Score of predictions under objective ``name``; ``undefined`` where it has no value."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float).reshape(-1)
    if not np.all(np.isfinite(y_pred)):
        return undefined
    value = OBJECTIVES[name](y_true, y_pred)
    return value if math.isfinite(value) else undefined


def kfold(n: int, folds: int, rng: np.random.Generator) -> list[Fold]:
    """``min(folds, n)`` shuffled folds; each trains on the concatenation of the others."""
    vals = [s for s in np.array_split(rng.permutation(n), min(folds, n)) if len(s)]
    return [(np.concatenate([s for j, s in enumerate(vals) if j != k]), val)
            for k, val in enumerate(vals)]


FitPredict = Callable[[np.ndarray, np.ndarray], np.ndarray]


def out_of_fold(fit_predict: FitPredict, n: int, folds: Sequence[Fold]) -> np.ndarray:
    """Predictions for all ``n`` rows, each made by a model that did not see it.

    ``fit_predict(train_idx, val_idx)`` fits on ``train_idx`` and predicts ``val_idx``.
    """
    out = np.full(n, np.nan)
    for train, val in folds:
        out[val] = np.asarray(fit_predict(train, val), dtype=float).reshape(-1)
    return out


@dataclass(frozen=True)
class Trial:
    """One evaluated configuration and its cross-validated score (higher is better)."""

    params: dict[str, Any]
    score: float


def cv_search(candidates: Iterable[dict[str, Any]],
              fit_predict: Callable[[dict[str, Any], np.ndarray, np.ndarray], np.ndarray],
              y: np.ndarray, folds: Sequence[Fold], objective: str, *,
              undefined: float = -math.inf,
              who: str = "search") -> tuple[dict[str, Any], list[Trial]]:
    """The candidate with the *highest* cross-validated ``objective``, and every trial.

    ``fit_predict(hp, train_idx, val_idx)`` fits configuration ``hp`` and predicts ``val_idx``.
    ``candidates`` is consumed lazily, one configuration before its folds, so a generator may
    draw each configuration from the generator the fits use. A configuration without a scored
    fold scores ``-inf``. Ties keep the earlier candidate (the first is normally the defaults).
    """
    trials = []
    for hp in candidates:
        scores = []
        for train, val in folds:
            pred = fit_predict(hp, train, val)
            if len(val) >= MIN_FOLD_ROWS:
                scores.append(objective_score(objective, y[val], pred, undefined))
        trials.append(Trial(dict(hp), float(np.mean(scores)) if scores else -math.inf))
        log.debug("%s: %s -> %s %.4f", who, hp, objective, trials[-1].score)
    if not trials:
        raise ValueError(f"{who}: the search needs at least one candidate configuration")
    best = max(range(len(trials)), key=lambda i: (trials[i].score, -i))
    log.info("%s: best cross-validated %s %.4f of %d configurations", who, objective,
             trials[best].score, len(trials))
    return dict(trials[best].params), trials


def loguniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A draw whose logarithm is uniform on ``[log(low), log(high))``."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))
