"""Model-based predictors on synthetic NAS-Bench-201 data: they learn, they are reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from predictors.base import FitContext, QueryContext
from predictors.ranking import kendall_tau
from predictors.registry import available, make
from predictors.spaces import get_space

#: Fast settings per predictor (the conformance settings are smaller still).
FAST: dict[str, dict] = {
    "xgb": {"num_boost_round": 100},
    "lgb": {"num_boost_round": 100},
    "ngb": {"n_estimators": 30},
    "rf": {},
    "gp": {"train_iters": 40},
    "sparse_gp": {"train_iters": 40},
    "var_sparse_gp": {"train_iters": 60},
    "gpwl": {"train_iters": 40},
    "bayes_lin_reg": {},
    "dngo": {"num_epochs": 40},
    "bohamiann": {"num_steps": 800, "num_burn_in_steps": 300, "keep_every": 25},
    "svr": {},
    "mlp": {"epochs": 40, "num_layers": 5},
    "bananas": {"epochs": 40, "num_layers": 5, "num_ensemble": 2},
    "gcn": {"epochs": 40},
    "bonas": {"epochs": 25},
    "nao": {"epochs": 25},
    "seminas": {"epochs": 15, "self_train_epochs": 5},
    "gates": {"epochs": 20},
    "narformer": {"epochs": 20},
    "flowerformer": {"epochs": 15},
}
OP_SCORE = {"none": 0.0, "skip_connect": 0.4, "avg_pool_3x3": 0.7, "nor_conv_1x1": 1.5,
            "nor_conv_3x3": 2.0}


def synthetic_nb201(n: int, seed: int):
    """Unique NB201 cells whose accuracy follows their ops (edges into the output weigh more)."""
    space = get_space("nb201")
    rng = np.random.default_rng(seed)
    archs, seen = [], set()
    while len(archs) < n:
        a = space.sample(rng)
        if a not in seen:
            seen.add(a)
            archs.append(a)
    weights = np.array([1.0, 1.0, 1.0, 1.5, 1.5, 1.5])
    score = np.array([[OP_SCORE[op] for op in a.spec] for a in archs]) @ weights
    labels = 60.0 + 3.0 * score + rng.normal(0, 1.0, size=n)
    return space, archs, labels


@pytest.fixture(scope="module")
def data():
    space, archs, labels = synthetic_nb201(300, seed=0)
    return space, archs[:100], labels[:100], archs[100:200], labels[100:200], archs[200:]


def _fit_query(name, data, seed=0, extra=None):
    space, tr, ytr, te, _, unl = data
    params = {**FAST.get(name, {}), **(extra or {})}
    pred = make(name, **params)
    factor = pred.data_needs().unlabeled_factor
    ctx = FitContext(space=space, archs=tr, labels=ytr.copy(), rng=np.random.default_rng(seed),
                     unlabeled=unl[: factor * len(tr)] if factor else ())
    pred.fit(ctx)
    return pred, pred.query(te, QueryContext(space=space, rng=np.random.default_rng(seed + 1)))


def test_all_expected_predictors_registered():
    names = set(available("model_based"))
    missing = set(FAST) - names
    assert not missing, f"not registered: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(FAST))
def test_predictions_live_on_the_label_scale(name, data):
    """Not on the standardized one. (That every predictor fitting on labels ranks better than
    random, with finite scores and std, is a check of the conformance suite.)"""
    if name not in available("model_based"):
        pytest.skip(f"{name} not registered")
    _, out = _fit_query(name, data)
    y_test = data[4]
    assert abs(np.median(out.mean) - np.median(y_test)) < 3 * np.std(y_test)


@pytest.mark.parametrize("name", sorted(FAST))
def test_same_seed_same_predictions(name, data):
    if name not in available("model_based"):
        pytest.skip(f"{name} not registered")
    cls = available("model_based")[name]
    small = {**cls.conformance_params}
    _, a = _fit_query(name, data, seed=3, extra=small)
    _, b = _fit_query(name, data, seed=3, extra=small)
    np.testing.assert_array_equal(a.mean, b.mean)


def test_hpo_searches_and_refits(data):
    pred, out = _fit_query("xgb", data, extra={"hpo": True, "hpo_evals": 3,
                                               "num_boost_round": 30})
    assert set(pred.best_hyperparams_) == set(type(pred).tunable)
    assert kendall_tau(out.mean, data[4]) > 0.3


def test_torch_global_rng_untouched(data):
    torch = pytest.importorskip("torch")
    if "mlp" not in available("model_based"):
        pytest.skip("mlp not registered")
    state = torch.random.get_rng_state().clone()
    _fit_query("mlp", data, extra={"epochs": 2})
    assert torch.equal(state, torch.random.get_rng_state())


def test_gpwl_row_space_basis_keeps_the_linear_kernel_exactly():
    from predictors.model_based.gpwl import RowSpaceBasis

    rng = np.random.default_rng(0)
    train = rng.random((6, 40)) * (rng.random((6, 40)) < 0.3)
    query = rng.random((4, 40))
    basis = RowSpaceBasis(train)
    tr, qu = basis.train_coords(train), basis.query_coords(query)
    assert tr.shape[1] <= 7
    np.testing.assert_allclose(tr @ tr.T, train @ train.T, atol=1e-10)
    np.testing.assert_allclose(qu @ tr.T, query @ train.T, atol=1e-10)
    np.testing.assert_allclose(np.sum(qu * qu, 1), np.sum(query * query, 1), atol=1e-10)


def test_closed_form_normal_matches_ngboost_normal():
    """ngb's closed-form Normal scores, boosts and predicts exactly as ngboost's own Normal."""
    from ngboost import NGBRegressor
    from ngboost.distns import Normal
    from sklearn.tree import DecisionTreeRegressor

    from predictors.model_based.ngb_normal import ClosedFormNormal

    rng = np.random.default_rng(0)
    x, xt = rng.normal(size=(40, 6)), rng.normal(size=(30, 6))
    y = 2 * x[:, 0] + 0.3 * rng.normal(size=40)
    params = np.stack([rng.normal(size=40), rng.normal(size=40)])
    ours = ClosedFormNormal(params)
    theirs = Normal(params)
    np.testing.assert_allclose(ours.dist.logpdf(y), theirs.dist.logpdf(y))

    def fitted(dist):
        base = DecisionTreeRegressor(max_depth=3, random_state=1)
        model = NGBRegressor(Dist=dist, Base=base, n_estimators=40, verbose=False,
                             random_state=2).fit(x, y)
        pred = model.pred_dist(xt)
        return pred.loc, pred.scale

    for a, b in zip(fitted(ClosedFormNormal), fitted(Normal), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_prevalidated_tree_fits_the_same_ngboost_model():
    """ngb's base tree skips scikit-learn's per-call checks; the model must not change."""
    from ngboost import NGBRegressor
    from sklearn.base import clone
    from sklearn.tree import DecisionTreeRegressor

    from predictors.model_based.ngb_normal import ClosedFormNormal
    from predictors.model_based.ngb_tree import PrevalidatedTree

    rng = np.random.default_rng(1)
    x, xt = rng.integers(0, 2, size=(60, 12)).astype(float), rng.normal(size=(30, 12))
    y = x @ rng.normal(size=12) + 0.3 * rng.normal(size=60)

    def fitted(tree):
        base = tree(max_depth=4, max_features=0.7, min_samples_leaf=2, random_state=1)
        model = NGBRegressor(Dist=ClosedFormNormal, Base=base, n_estimators=60,
                             minibatch_frac=0.5, verbose=False, random_state=2).fit(x, y)
        pred = model.pred_dist(xt)
        return pred.loc, pred.scale

    for a, b in zip(fitted(PrevalidatedTree), fitted(DecisionTreeRegressor), strict=True):
        np.testing.assert_array_equal(a, b)
    # missing values take scikit-learn's checked path, which supports them
    holes = x.copy()
    holes[::7, 0] = np.nan
    ours = PrevalidatedTree(max_depth=3, random_state=0).fit(holes, y)
    theirs = DecisionTreeRegressor(max_depth=3, random_state=0).fit(holes, y)
    np.testing.assert_array_equal(ours.predict(holes), theirs.predict(holes))
    # parameters are still validated, once, and clones are independent copies
    with pytest.raises(ValueError, match="max_depth"):
        clone(PrevalidatedTree(max_depth=-1))
    template = PrevalidatedTree(max_depth=2, random_state=3)
    twin = clone(template)
    assert twin is not template and twin.get_params() == template.get_params()


def test_ngb_minibatch_keeps_a_row_on_tiny_training_sets():
    """int(minibatch_frac * n) == 0 rows used to hang ngboost's line search on a NaN loss."""
    import signal

    from predictors.model_based.trees import NGBPredictor

    def hung(signum, frame):
        raise TimeoutError("ngb fit on 9 rows with minibatch_frac 0.1 did not finish")

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(9, 5)), rng.normal(size=9)
    hp = {"n_estimators": 20, "learning_rate": 0.05, "minibatch_frac": 0.1, "max_depth": 3,
          "max_features": 1.0}
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        model = NGBPredictor().train(x, y, hp, np.random.default_rng(1), "cpu")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert np.all(np.isfinite(model.predict(x)))
