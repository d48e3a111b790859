"""Cross-validated random search over a predictor's hyperparameters (the study's tuning).

The budget is a number of evaluated configurations, not seconds, so a result does not depend on
the machine. The first configuration is always the predictor's defaults; each configuration is
scored by the mean Kendall tau over k folds, and the best one is returned.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import kendalltau

from predictors.model_based._base import num_rows, take

if TYPE_CHECKING:
    from predictors.model_based._base import EncodedPredictor

log = logging.getLogger(__name__)


def _fold_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    if np.ptp(y_pred) == 0 or np.ptp(y_true) == 0:
        return -1.0
    tau = kendalltau(y_true, y_pred).statistic
    return float(tau) if np.isfinite(tau) else -1.0


def random_search_cv(
    predictor: EncodedPredictor,
    x: Any,
    y: np.ndarray,
    rng: np.random.Generator,
    device: str,
    unlabeled: Any = None,
) -> dict[str, Any]:
    """Best of ``predictor.hpo_evals`` configurations by k-fold cross-validated Kendall tau."""
    evals = int(getattr(predictor, "hpo_evals", 1))
    if evals < 1:
        raise ValueError(f"{predictor.name}: hpo_evals must be >= 1, got {evals}")
    n = num_rows(x)
    folds = min(predictor.hpo_folds, n)
    if folds < 2:
        log.info("%s: too few labels (%d) to cross-validate; using defaults", predictor.name, n)
        return predictor.defaults()
    order = rng.permutation(n)
    splits = np.array_split(order, folds)
    best, best_score = predictor.defaults(), -np.inf
    for i in range(evals):
        hp = predictor.defaults() if i == 0 else predictor._sample_hyperparams(rng)
        scores = []
        for k in range(folds):
            val = splits[k]
            tr = np.concatenate([splits[j] for j in range(folds) if j != k])
            model = predictor._train(take(x, tr), y[tr], hp, rng, device, unlabeled)
            mean, _ = predictor._predict(model, take(x, val), device)
            scores.append(_fold_score(y[val], np.asarray(mean).reshape(-1)))
        score = float(np.mean(scores))
        log.debug("%s hpo %d/%d: %s -> tau %.3f", predictor.name, i + 1, evals, hp, score)
        if score > best_score:
            best, best_score = hp, score
    log.info("%s: best cross-validated tau %.3f with %s", predictor.name, best_score, best)
    return best


def loguniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))
