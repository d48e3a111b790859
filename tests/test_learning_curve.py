"""Learning-curve and hybrid predictors on synthetic saturating curves."""

from __future__ import annotations

import numpy as np
import pytest

from predictors.base import DataError, FitContext, NotFittedError, QueryContext
from predictors.learning_curve.sotl import discounted_sum
from predictors.ranking import kendall_tau
from predictors.registry import available, make
from predictors.spaces import get_space

TOTAL = 12
CURVE_PREDICTORS = ["valacc", "valloss", "sotl", "sotle", "sotlema", "lce", "lce_m"]
FAST = {"lce": {"steps": 20, "burn_in": 10}, "lce_m": {"steps": 20, "burn_in": 10}}


def synthetic(n: int, seed: int, total: int = TOTAL, noise: float = 0.005) -> dict:
    """Saturating curves whose asymptote depends on the architecture, plus noise.

    Rates are drawn independently of the asymptote, so early epochs rank imperfectly.
    """
    rng = np.random.default_rng(seed)
    space = get_space("nb201")
    archs = []
    while len(archs) < n:
        a = space.sample(rng)
        if a not in archs:
            archs.append(a)
    asym = rng.uniform(0.6, 0.95, n)[:, None]
    rate = rng.uniform(0.15, 0.6, n)[:, None]
    t = np.arange(1, total + 1)[None, :]
    val_acc = asym - (asym - 0.1) * np.exp(-rate * t) + rng.normal(0, noise, (n, total))
    loss_inf = 0.2 + 2.0 * (1.0 - asym)
    train_loss = loss_inf + (2.3 - loss_inf) * np.exp(-rate * t) + rng.normal(0, noise, (n, total))
    val_loss = train_loss + 0.1 + rng.normal(0, noise, (n, total))
    curves = {"val_acc": val_acc, "train_loss": train_loss, "val_loss": val_loss}
    return {"space": space, "archs": archs, "curves": curves, "final": val_acc[:, -1]}


def cut(curves: dict, metrics: tuple[str, ...], fidelity: int, rows=slice(None)) -> dict:
    return {m: curves[m][rows, :fidelity].copy() for m in metrics}


def fit_and_query(name: str, train: dict, test: dict, fidelity: int, seed: int = 0,
                  test_curves: dict | None = None) -> np.ndarray:
    pred = make(name, **FAST.get(name, {}))
    needs = pred.data_needs()
    fit_ctx = FitContext(space=train["space"], fidelity=fidelity, total_epochs=TOTAL,
                         rng=np.random.default_rng(seed))
    if needs.labels:
        fit_ctx.archs = train["archs"]
        fit_ctx.labels = train["final"]
        if needs.curves_for_train:
            fit_ctx.curves = cut(train["curves"], needs.curve_metrics, fidelity)
    pred.fit(fit_ctx)
    q_curves = test_curves if test_curves is not None else cut(
        test["curves"], needs.curve_metrics, fidelity)
    q_ctx = QueryContext(space=test["space"], curves=q_curves, fidelity=fidelity,
                         total_epochs=TOTAL, rng=np.random.default_rng(seed + 1))
    return pred.query(test["archs"], q_ctx).mean


def subset(data: dict, n: int) -> dict:
    return {**data, "archs": data["archs"][:n], "final": data["final"][:n],
            "curves": {m: v[:n] for m, v in data["curves"].items()}}


@pytest.fixture(scope="module")
def data() -> tuple[dict, dict]:
    return synthetic(40, seed=1), synthetic(24, seed=2)


def test_all_registered_with_families() -> None:
    lc = available("learning_curve")
    assert set(CURVE_PREDICTORS) <= set(lc)
    assert "lcsvr" in available("hybrid")
    for name in CURVE_PREDICTORS:
        assert not lc[name].needs.labels and lc[name].needs.curve_metrics
    needs = available("hybrid")["lcsvr"].needs
    assert needs.labels and needs.curves_for_train and needs.curve_metrics == ("val_acc",)


@pytest.mark.parametrize("name", CURVE_PREDICTORS)
def test_ranks_better_than_random_without_labels(name: str, data) -> None:
    """(Label-using predictors, lcsvr among them, are checked by the conformance suite.)"""
    train, test = data
    scores = fit_and_query(name, train, test, fidelity=5)
    assert scores.shape == (len(test["archs"]),) and np.all(np.isfinite(scores))
    tau = kendall_tau(scores, test["final"])
    assert tau > 0.3, f"{name}: Kendall tau {tau:.2f}"


@pytest.mark.parametrize("name", ["lce", "lce_m"])
@pytest.mark.parametrize("kind", ["pow3", "exp"])
def test_lce_extrapolates_clean_curves(name: str, kind: str) -> None:
    t = np.arange(1, 51, dtype=float)
    curve = 0.9 - 0.6 * t**-0.7 if kind == "pow3" else 0.88 - 0.7 * np.exp(-0.15 * t)
    fidelity = 15
    pred = make(name).fit(FitContext(space=get_space("nb201")))
    ctx = QueryContext(space=get_space("nb201"), curves={"val_acc": curve[None, :fidelity]},
                       fidelity=fidelity, total_epochs=50, rng=np.random.default_rng(0))
    out = pred.query([get_space("nb201").sample(np.random.default_rng(0))], ctx)
    error, naive = abs(out.mean[0] - curve[-1]), abs(curve[fidelity - 1] - curve[-1])
    if name == "lce":
        # it really extrapolates: much closer to the truth than the last observed value
        assert error < 0.01, (out.mean[0], curve[-1])
        assert error < naive / 4
    else:
        # LCE-m's four families (MMF, log-log-linear, Hill, log-power) contain neither pow3 nor
        # the exponential, so it only approximates them; its monotone prior keeps it rising
        assert out.mean[0] > curve[fidelity - 1]
        assert error < 0.08, (out.mean[0], curve[-1])


def test_lce_uses_total_epochs_and_accepts_percent() -> None:
    space = get_space("nb201")
    arch = [space.sample(np.random.default_rng(0))]
    curve = (0.9 - 0.6 * np.arange(1, 9, dtype=float) ** -0.7)[None, :]
    pred = make("lce_m").fit(FitContext(space=space))

    def run(values: np.ndarray, total: int) -> float:
        ctx = QueryContext(space=space, curves={"val_acc": values}, fidelity=8,
                           total_epochs=total, rng=np.random.default_rng(3))
        return float(pred.query(arch, ctx).mean[0])

    near, far = run(curve, 10), run(curve, 200)
    assert far > near > curve[0, -1]
    assert run(curve * 100, 200) == pytest.approx(100 * far, rel=1e-6)
    with pytest.raises(DataError, match="total_epochs"):
        run(curve, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", CURVE_PREDICTORS + ["lcsvr"])
def test_output_ignores_epochs_past_the_fidelity(name: str, data) -> None:
    train, test = data
    test = subset(test, 8)
    fidelity = 4
    needs = make(name).data_needs()
    # two different futures with the same past
    other = {m: v.copy() for m, v in test["curves"].items()}
    for m in other:
        other[m][:, fidelity:] = np.random.default_rng(9).permutation(other[m][:, fidelity:])
    a = fit_and_query(name, train, test, fidelity,
                      test_curves=cut(test["curves"], needs.curve_metrics, fidelity))
    b = fit_and_query(name, train, test, fidelity,
                      test_curves=cut(other, needs.curve_metrics, fidelity))
    np.testing.assert_array_equal(a, b)
    # even if handed longer curves by mistake, nothing past ctx.fidelity is read
    longer = {m: other[m][:, : fidelity + 3].copy() for m in needs.curve_metrics}
    c = fit_and_query(name, train, test, fidelity, test_curves=longer)
    np.testing.assert_array_equal(a, c)


def test_sotlema_lies_between_sotle_and_sotl(data) -> None:
    _, test = data
    loss = test["curves"]["train_loss"][:, :8]
    ctx = QueryContext(space=test["space"], curves={"train_loss": loss}, fidelity=8)

    def scores(name: str, **params) -> np.ndarray:
        pred = make(name, **params).fit(FitContext(space=test["space"]))
        return pred.query(test["archs"], ctx).mean

    sotle, sotl, sotlema = scores("sotle"), scores("sotl"), scores("sotlema")
    assert kendall_tau(sotle, sotlema) < 0.95  # a different ranking, not just a shift
    np.testing.assert_allclose(sotle, -loss[:, -1])
    np.testing.assert_allclose(scores("sotlema", decay=0.0), sotle)
    np.testing.assert_allclose(scores("sotlema", decay=1.0), sotl)
    # by hand: decay 0.9 over three epochs weighs the newest epoch most
    assert discounted_sum(np.array([[3.0, 2.0, 1.0]]), 0.9)[0] == pytest.approx(
        0.81 * 3 + 0.9 * 2 + 1)
    with pytest.raises(ValueError, match="decay"):
        scores("sotlema", decay=1.5)


def test_lce_deterministic_under_seed(data) -> None:
    train, test = data
    test = subset(test, 6)
    a = fit_and_query("lce", train, test, fidelity=6, seed=5)
    b = fit_and_query("lce", train, test, fidelity=6, seed=5)
    np.testing.assert_array_equal(a, b)


def test_errors_are_clear(data) -> None:
    _, test = data
    space = test["space"]
    with pytest.raises(NotFittedError):
        make("valacc").query(test["archs"], QueryContext(space=space))
    pred = make("sotl").fit(FitContext(space=space))
    with pytest.raises(DataError, match="train_loss"):
        pred.query(test["archs"], QueryContext(space=space, curves={"val_acc": np.ones((1, 2))}))
    lcsvr = make("lcsvr")
    with pytest.raises(DataError, match="labeled"):
        lcsvr.fit(FitContext(space=space, archs=test["archs"]))
