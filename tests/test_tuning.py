"""The shared cross-validated search and label scaling (predictors.tuning, predictors.labels)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import loguniform, uniform
from sklearn.model_selection import KFold, ParameterSampler, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import NuSVR

from predictors.labels import LabelScale
from predictors.tuning import cv_search, kfold


def _fixed(preds):
    """A fit_predict returning the prediction ``preds[hp["c"]][fold]`` for each fold in turn."""
    calls = {}

    def fit_predict(hp, tr, val):
        k = calls[hp["c"]] = calls.get(hp["c"], -1) + 1
        return preds[hp["c"]][k]

    return fit_predict


def test_kfold_trains_on_the_other_folds():
    folds = kfold(7, 3, np.random.default_rng(0))
    assert [len(v) for _, v in folds] == [3, 2, 2]
    assert sorted(np.concatenate([v for _, v in folds]).tolist()) == list(range(7))
    for k, (tr, _) in enumerate(folds):
        others = [v for j, (_, v) in enumerate(folds) if j != k]
        np.testing.assert_array_equal(tr, np.concatenate(others))


def test_undefined_fold_score_decides_between_configurations():
    """Why the model-based search (-1) and OMNI (-inf) keep their own rule: for the same fits
    they pick different configurations. Configuration 0 is constant on one fold and perfect on
    the two others; configuration 1 is mediocre everywhere."""
    y = np.arange(9.0)
    folds = [(np.arange(9)[np.arange(9) // 3 != k], np.arange(3 * k, 3 * k + 3))
             for k in range(3)]
    good, meh = [0.0, 1.0, 2.0], [0.0, 2.0, 1.0]
    preds = {0: [[5.0, 5.0, 5.0], good, good], 1: [meh, meh, meh]}
    candidates = [{"c": 0}, {"c": 1}]
    as_worst, trials = cv_search(candidates, _fixed(preds), y, folds, "kendall", undefined=-1.0)
    assert as_worst == {"c": 0} and trials[0].score == pytest.approx(1 / 3)
    ruled_out, trials = cv_search(candidates, _fixed(preds), y, folds, "kendall")
    assert ruled_out == {"c": 1} and trials[0].score == -math.inf


def test_one_row_folds_are_fitted_but_not_scored():
    y = np.arange(5.0)
    folds = kfold(5, 3, np.random.default_rng(1))
    fits = []

    def fit_predict(hp, tr, val):
        fits.append(len(val))
        return y[val] * hp["sign"]

    _, trials = cv_search([{"sign": 1.0}], fit_predict, y, folds, "kendall", undefined=-1.0)
    assert sorted(fits) == [1, 2, 2]
    assert trials[0].score == 1.0  # the two 2-row folds alone; a scored 1-row fold gives -1


def test_no_scored_fold_keeps_the_first_candidate():
    y = np.arange(2.0)
    best, trials = cv_search([{"c": 0}, {"c": 1}], lambda hp, tr, val: y[val] * hp["c"], y,
                             kfold(2, 3, np.random.default_rng(0)), "kendall")
    assert best == {"c": 0} and all(t.score == -math.inf for t in trials)


def test_candidates_are_drawn_one_at_a_time():
    """A generator of candidates is advanced only when its configuration is evaluated, so the
    model-based search draws each sample after the previous one's fits."""
    events = []

    def candidates():
        for c in range(3):
            events.append(("draw", c))
            yield {"c": c}

    def fit_predict(hp, tr, val):
        events.append(("fit", hp["c"]))
        return val.astype(float)

    y = np.arange(6.0)
    cv_search(candidates(), fit_predict, y, kfold(6, 2, np.random.default_rng(0)), "kendall")
    assert events == [("draw", 0), ("fit", 0), ("fit", 0), ("draw", 1), ("fit", 1), ("fit", 1),
                      ("draw", 2), ("fit", 2), ("fit", 2)]


def test_empty_candidates_are_an_error():
    with pytest.raises(ValueError, match="at least one candidate"):
        cv_search(iter(()), lambda hp, tr, val: val, np.arange(4.0),
                  kfold(4, 2, np.random.default_rng(0)), "kendall")


def test_neg_mse_search_picks_what_scikit_learns_search_picks():
    """lcsvr's folds and samples from scikit-learn, scored by cv_search: the same choice and
    the same mean scores as RandomizedSearchCV."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    y = x @ rng.normal(size=5) + 0.3 * rng.normal(size=40)
    space = {"nusvr__C": loguniform(1e-2, 1e2), "nusvr__nu": uniform(0.1, 0.8),
             "nusvr__gamma": loguniform(1e-3, 1e0)}

    def model(params=None):
        return make_pipeline(StandardScaler(), NuSVR(kernel="rbf")).set_params(**(params or {}))

    reference = RandomizedSearchCV(model(), space, n_iter=8, random_state=5,
                                   cv=KFold(3, shuffle=True, random_state=5),
                                   scoring="neg_mean_squared_error").fit(x, y)
    folds = list(KFold(3, shuffle=True, random_state=5).split(x))
    best, trials = cv_search(ParameterSampler(space, n_iter=8, random_state=5),
                             lambda p, tr, val: model(p).fit(x[tr], y[tr]).predict(x[val]),
                             y, folds, "neg_mse")
    assert best == reference.best_params_
    assert [t.score for t in trials] == list(reference.cv_results_["mean_test_score"])


def test_label_scale_round_trips_and_keeps_constant_labels_finite():
    labels = np.array([0.2, 0.5, 0.9])
    scale = LabelScale.fit(labels, "t")
    z = scale.scale(labels)
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    mean, std = scale.unscale(z, np.ones(3))
    np.testing.assert_allclose(mean, labels)
    np.testing.assert_allclose(std, np.full(3, labels.std()))
    assert LabelScale.fit(np.full(4, 0.1), "t").std == 1.0  # np.std gives ~1e-17 here
    assert scale.unscale(z)[1] is None
    with pytest.raises(ValueError, match="NaN or inf"):
        LabelScale.fit(np.array([0.1, np.nan]), "t")
