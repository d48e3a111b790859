"""Conformance checks that every predictor, built in or plugged in, must pass.

A plug-in author runs them in one call, or as one pytest test per check::

    from predictors.testing import check_predictor, parametrize_with_checks

    check_predictor("my-kernel-ridge")  # AssertionError naming the first failed check

    @parametrize_with_checks(["my-kernel-ridge"])
    def test_conformance(check):
        check()

Each check runs the predictor with its class's ``conformance_params`` (small settings that keep
the checks fast) updated by ``params``, on a synthetic NAS-Bench-201 benchmark
(:mod:`benchmarks.synthetic`) whose accuracies follow the cells' operations (with
``space="nb101"`` or ``"darts"``, a synthetic benchmark of that space). The contexts come
from the harness's own builder (:func:`benchmarks.contexts.build_contexts`), so the predictor
receives exactly the data its ``DataNeeds`` declares, with ``device="cpu"`` unless the checks
are asked for another (``device="cuda"`` on a machine with a GPU). This is the one module of
``predictors`` that uses ``benchmarks`` (it checks a predictor the way the harness runs it);
``import predictors`` never loads it, and pytest is imported only by
:func:`parametrize_with_checks`.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.contexts import Split, build_contexts, oriented_final
from benchmarks.synthetic import make_synthetic_benchmark, with_properties
from benchmarks.tabular import TabularBenchmark
from predictors.base import FitContext, NotFittedError, Prediction, Predictor, QueryContext
from predictors.ranking import kendall_tau
from predictors.registry import get, make
from predictors.spaces import Arch

#: Architectures of the synthetic benchmark the checks run on.
BENCHMARK_SIZE = 300
#: Labeled, queried and unlabeled architectures of the contract checks.
N_TRAIN, N_QUERY, N_UNLABELED = 12, 4, 12
#: Labeled and held-out architectures of the ranking check (the rest are its unlabeled ones).
N_RANK_TRAIN, N_RANK_TEST = 150, 100
#: The Kendall tau a label-using predictor must exceed on the held-out architectures: random
#: scores give 0 with a standard deviation of 0.07 on 100 architectures. Low enough for the
#: smallest neural networks' conformance settings (a few epochs), which still rank above 0.3.
MIN_TAU = 0.2
#: The fidelity (epochs) of the curves handed to predictors that read learning curves.
FIDELITY = 5
#: The longest ``__init__`` may take: it only stores hyperparameters.
MAX_INIT_SECONDS = 0.05
#: Zero-cost measures the synthetic benchmark tabulates (``zc_<m>``: the cells' quality plus
#: noise), read by predictors with tabulated zero-cost scores or features.
ZERO_COST = ("synflow", "jacov")
#: The space of the synthetic benchmark the running check uses (set by ``Check.__call__``).
_SPACE: ContextVar[str] = ContextVar("conformance_space", default="nb201")
#: The device the running check hands the predictor in its contexts.
_DEVICE: ContextVar[str] = ContextVar("conformance_device", default="cpu")


@dataclass(frozen=True)
class Check:
    """One conformance check of one predictor; calling it runs the check.

    A failure, or any error the predictor raises, becomes an ``AssertionError`` that names the
    predictor and the check.
    """

    name: str
    predictor: str
    run: Callable[[str, dict[str, Any]], None] = field(repr=False)
    params: Mapping[str, Any] = field(default_factory=dict)
    space: str = "nb201"
    device: str = "cpu"

    @property
    def id(self) -> str:
        where = "".join(f"{v}-" for v, usual in ((self.space, "nb201"), (self.device, "cpu"))
                        if v != usual)
        return f"{self.predictor}-{where}{self.name}"

    def __call__(self) -> None:
        tokens = _SPACE.set(self.space), _DEVICE.set(self.device)
        try:
            self.run(self.predictor, dict(self.params))
        except Exception as exc:
            detail = str(exc) if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {exc}"
            where = "".join(f" on {v}" for v, usual in ((self.space, "nb201"),
                                                        (self.device, "cpu")) if v != usual)
            raise AssertionError(
                f"predictor {self.predictor!r} fails conformance check {self.name!r}{where}: "
                f"{detail}"
            ) from exc
        finally:
            _SPACE.reset(tokens[0])
            _DEVICE.reset(tokens[1])


# --- what the checks run on --------------------------------------------------------------------
@functools.cache
def _benchmark(space: str) -> TabularBenchmark:
    return make_synthetic_benchmark(n=BENCHMARK_SIZE, space=space, zero_cost=ZERO_COST)


def _new(name: str, params: dict[str, Any]) -> Predictor:
    return make(name, **{**get(name).conformance_params, **params})


def _contexts(pred: Predictor, train: int, test: int, unlabeled: int = 0, seed: int = 0
              ) -> tuple[FitContext, QueryContext, list[Arch], np.ndarray]:
    """Contexts for the first ``train`` rows, the next ``test`` queried and the next
    ``unlabeled``; also the queried architectures and their true values."""
    needs = pred.data_needs()
    bench = with_properties(_benchmark(_SPACE.get()), needs.properties)
    idx = np.arange(train + test + unlabeled)
    split = Split(train=idx[:train], test=idx[train:train + test], unlabeled=idx[train + test:])
    fidelity = FIDELITY if needs.curve_metrics else None
    fctx, qctx, archs = build_contexts(bench, needs, split, fidelity, seed,
                                       device=_DEVICE.get())
    return fctx, qctx, archs, oriented_final(bench, bench.objective)[split.test]


def _fit_query(name: str, params: dict[str, Any], seed: int = 3) -> Prediction:
    pred = _new(name, params)
    fctx, qctx, archs, _ = _contexts(pred, N_TRAIN, N_QUERY, N_UNLABELED, seed)
    return pred.fit(fctx).query(archs, qctx)


def _snapshot(ctx: FitContext | QueryContext) -> dict[str, Any]:
    """A deep copy of a context's data (not its generator, space or live source)."""
    return copy.deepcopy({k: v for k, v in vars(ctx).items() if k not in ("rng", "space", "live")})


def _assert_same(a: Any, b: Any, where: str = "value") -> None:
    """Assert ``a`` equals ``b``, looking into dicts, sequences and arrays (NaN equals NaN)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        assert a.keys() == b.keys(), f"{where}: keys {list(a)} became {list(b)}"
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.asarray(a), np.asarray(b)
        nan_is_nan = x.dtype.kind in "fc" and y.dtype.kind in "fc"
        assert np.array_equal(x, y, equal_nan=nan_is_nan), f"{where}: {a!r} became {b!r}"
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), f"{where}: {a!r} became {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return
    else:
        assert a == b, f"{where}: {a!r} became {b!r}"


# --- the checks --------------------------------------------------------------------------------
def check_init_only_stores_hyperparameters(name: str, params: dict[str, Any]) -> None:
    """``__init__`` is quick and ``get_params`` rebuilds an identical predictor."""
    cls = get(name)
    start = time.perf_counter()
    pred = _new(name, params)
    took = time.perf_counter() - start
    assert took < MAX_INIT_SECONDS, f"__init__ took {took:.3f} s; it must only store settings"
    stored = pred.get_params()
    _assert_same(stored, make(name, **stored).get_params(), "get_params() of the rebuilt copy")
    assert type(pred).name == name and cls.family, "registered without a name or family"


def check_query_before_fit_raises(name: str, params: dict[str, Any]) -> None:
    """Querying an unfitted predictor raises ``NotFittedError``."""
    pred = _new(name, params)
    _, qctx, archs, _ = _contexts(pred, N_TRAIN, N_QUERY, N_UNLABELED)
    try:
        pred.query(archs, qctx)
    except NotFittedError:
        return
    raise AssertionError("query before fit did not raise NotFittedError")


def check_contexts_hold_only_declared_data(name: str, params: dict[str, Any]) -> None:
    """The harness hands the predictor exactly what its ``DataNeeds`` declare."""
    pred = _new(name, params)
    needs = pred.data_needs()
    fctx, qctx, archs, _ = _contexts(pred, N_TRAIN, N_QUERY, N_UNLABELED)
    assert (fctx.labels is not None) == needs.labels, "labels present iff declared"
    assert bool(fctx.archs) == (needs.labels or needs.curves_for_train), "fitted architectures"
    assert set(qctx.curves) == set(needs.curve_metrics), "query curves"
    assert set(fctx.curves) == (set(needs.curve_metrics) if needs.curves_for_train else set()), \
        "fit curves"
    for curves in (qctx.curves, fctx.curves):
        assert all(c.shape[1] == FIDELITY for c in curves.values()), \
            "curves must stop at the fidelity"
    assert bool(fctx.unlabeled) == bool(needs.unlabeled_factor), "unlabeled architectures"
    assert (fctx.live is not None) == needs.live and (qctx.live is not None) == needs.live, \
        "live data source"
    assert set(fctx.properties) == set(qctx.properties) == set(needs.properties), "properties"
    assert not hasattr(fctx, "benchmark") and len(archs) == N_QUERY, "the benchmark leaked"


def check_fit_and_query_leave_their_inputs_alone(name: str, params: dict[str, Any]) -> None:
    """``fit`` and ``query`` change neither their contexts nor the architectures they get."""
    pred = _new(name, params)
    fctx, qctx, archs, _ = _contexts(pred, N_TRAIN, N_QUERY, N_UNLABELED, seed=3)
    before_fit, before_query, archs_before = _snapshot(fctx), _snapshot(qctx), list(archs)
    pred.fit(fctx).query(archs, qctx)
    _assert_same(before_fit, _snapshot(fctx), "fit context")
    _assert_same(before_query, _snapshot(qctx), "query context")
    assert archs == archs_before, "the queried architectures changed"


def check_fit_leaves_hyperparameters_alone(name: str, params: dict[str, Any]) -> None:
    """``get_params()`` is the same before and after ``fit`` (fitted state goes elsewhere)."""
    pred = _new(name, params)
    fctx, _, _, _ = _contexts(pred, N_TRAIN, N_QUERY, N_UNLABELED, seed=3)
    before = copy.deepcopy(pred.get_params())
    pred.fit(fctx)
    _assert_same(before, pred.get_params(), "get_params()")


def check_predictions_are_finite(name: str, params: dict[str, Any]) -> None:
    """One finite score per architecture; a ``std``, where given, is finite and non-negative."""
    out = _fit_query(name, params)
    assert out.mean.shape == (N_QUERY,), f"mean has shape {out.mean.shape}, not ({N_QUERY},)"
    assert np.all(np.isfinite(out.mean)), f"scores must be finite, got {out.mean}"
    if out.std is not None:
        assert out.std.shape == out.mean.shape, "std must have the shape of mean"
        assert np.all(np.isfinite(out.std)) and np.all(out.std >= 0), \
            f"std must be finite and non-negative, got {out.std}"


def check_same_seed_same_predictions(name: str, params: dict[str, Any]) -> None:
    """Two runs with the same seeds predict the same scores."""
    first, second = (_fit_query(name, params).mean for _ in range(2))
    np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-8, equal_nan=True,
                               err_msg="not deterministic under the same seeds")


def check_ranks_better_than_random(name: str, params: dict[str, Any]) -> None:
    """Fitted on labels, the predictor ranks held-out architectures clearly above chance."""
    pred = _new(name, params)
    unlabeled = BENCHMARK_SIZE - N_RANK_TRAIN - N_RANK_TEST
    fctx, qctx, archs, truth = _contexts(pred, N_RANK_TRAIN, N_RANK_TEST, unlabeled)
    tau = kendall_tau(truth, pred.fit(fctx).query(archs, qctx).mean)
    assert tau > MIN_TAU, f"Kendall tau {tau:.3f} on {N_RANK_TEST} held-out architectures " \
                          f"(trained on {N_RANK_TRAIN} labels); it must exceed {MIN_TAU}"


#: Checks every predictor runs, in order.
CHECKS: tuple[Callable[[str, dict[str, Any]], None], ...] = (
    check_init_only_stores_hyperparameters,
    check_query_before_fit_raises,
    check_contexts_hold_only_declared_data,
    check_fit_and_query_leave_their_inputs_alone,
    check_fit_leaves_hyperparameters_alone,
    check_predictions_are_finite,
    check_same_seed_same_predictions,
)
#: Checks of predictors that fit on labels (``DataNeeds.labels``).
LABEL_CHECKS: tuple[Callable[[str, dict[str, Any]], None], ...] = (
    check_ranks_better_than_random,
)


# --- running them ------------------------------------------------------------------------------
def _name_of(predictor: str | type[Predictor]) -> str:
    if isinstance(predictor, str):
        return get(predictor).name
    name = getattr(predictor, "name", None)
    if not name or get(name) is not predictor:
        raise ValueError(f"{predictor!r} is not a registered predictor: decorate it with "
                         "@predictors.register(name, family=...) first")
    return name


def conformance_checks(predictor: str | type[Predictor],
                       params: Mapping[str, Any] | None = None,
                       space: str = "nb201", device: str = "cpu") -> Iterator[Check]:
    """Every check that applies to ``predictor`` (a registered name or class), in order, on
    the synthetic benchmark of ``space`` (nb201, nb101 or darts), with ``device`` in the
    contexts."""
    name = _name_of(predictor)
    params = dict(params or {})
    needs = _new(name, params).data_needs()
    for fn in CHECKS + (LABEL_CHECKS if needs.labels else ()):
        yield Check(fn.__name__.removeprefix("check_"), name, fn, params, space, device)


def check_predictor(predictor: str | type[Predictor],
                    params: Mapping[str, Any] | None = None, space: str = "nb201",
                    device: str = "cpu") -> None:
    """Run every conformance check on ``predictor``; raise ``AssertionError`` at the first
    failure, naming the check."""
    for check in conformance_checks(predictor, params, space, device):
        check()


def parametrize_with_checks(predictors: Iterable[str | type[Predictor]],
                            params: Mapping[str, Any] | None = None,
                            space: str = "nb201", device: str = "cpu") -> Any:
    """A ``pytest.mark.parametrize`` over every check of every predictor, as argument
    ``check``; the test calls ``check()``. Test ids read ``<predictor>-<check>`` (with the
    space and the device after the predictor off nb201 and cpu)."""
    import pytest

    checks = [c for p in predictors for c in conformance_checks(p, params, space, device)]
    return pytest.mark.parametrize("check", checks, ids=[c.id for c in checks])
