"""One conformance suite that every registered predictor passes automatically.

Contexts come from the harness's own builder (``benchmarks.harness.build_contexts``) on the
synthetic NB201 benchmark, so each predictor gets exactly the data its ``DataNeeds`` declares.
The example predictors of ``conftest.py`` (registered through the public API) keep the suite
non-empty.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import pytest
from conftest import make_synthetic_benchmark

from benchmarks.harness import Split, build_contexts
from benchmarks.tabular import TabularBenchmark
from predictors.base import NotFittedError
from predictors.params import ParamError, bounds, check_params
from predictors.registry import available, make, sweep_params

NAMES = sorted(available())
N_TRAIN, N_QUERY, N_UNLABELED = 12, 4, 12


def _cls(name):
    return available()[name]


def _instance(name):
    cls = _cls(name)
    return make(name, **dict(cls.conformance_params))


@pytest.fixture(scope="module")
def base_bench() -> TabularBenchmark:
    return make_synthetic_benchmark(n=80)


def bench_for(base: TabularBenchmark, needs) -> TabularBenchmark:
    """The synthetic benchmark plus random columns for any declared property it lacks."""
    extra = [p for p in needs.properties if p not in base.static_names]
    if not extra:
        return base
    rng = np.random.default_rng(7)
    static = np.concatenate([base.static, rng.normal(size=(len(base), len(extra)))], axis=1)
    meta = {**base.metadata, "static": base.static_names + extra}
    return TabularBenchmark(meta, base.archs, base.values, static.astype(np.float32))


def contexts(base, predictor, seed=0):
    needs = predictor.data_needs()
    bench = bench_for(base, needs)
    idx = np.arange(len(bench))
    split = Split(train=idx[:N_TRAIN], test=idx[N_TRAIN:N_TRAIN + N_QUERY],
                  unlabeled=idx[N_TRAIN + N_QUERY:N_TRAIN + N_QUERY + N_UNLABELED])
    fidelity = 5 if needs.curve_metrics else None
    return build_contexts(bench, needs, split, fidelity, seed, device="cpu")


def _snapshot(ctx):
    return copy.deepcopy({k: v for k, v in vars(ctx).items() if k not in ("rng", "space", "live")})


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, dict):
            _assert_same(x, y)
        elif isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y, key


def test_suite_is_not_empty():
    assert "example-ridge" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_init_is_cheap_and_params_round_trip(name):
    cls = _cls(name)
    start = time.perf_counter()
    pred = make(name, **dict(cls.conformance_params))
    assert time.perf_counter() - start < 0.05, "__init__ must only store hyperparameters"
    params = pred.get_params()
    assert make(name, **params).get_params() == params
    assert type(pred).name == name and cls.family


@pytest.mark.parametrize("name", NAMES)
def test_own_settings_pass_the_parameter_check_and_bounds_bite(name):
    cls = _cls(name)
    for params in (make(name).get_params(), cls.conformance_params, sweep_params(name)):
        check_params(cls, params)
    for param, interval in bounds(cls).items():
        if param in cls.param_names():
            outside = interval.low - 1 if interval.low > -np.inf else interval.high + 1
            with pytest.raises(ParamError, match=f"{param}=.* out of range"):
                check_params(cls, {param: outside})


@pytest.mark.parametrize("name", NAMES)
def test_query_before_fit_raises(name, base_bench):
    pred = _instance(name)
    _, qctx, archs = contexts(base_bench, pred)
    with pytest.raises(NotFittedError):
        pred.query(archs, qctx)


@pytest.mark.parametrize("name", NAMES)
def test_contexts_hold_only_declared_data(name, base_bench):
    pred = _instance(name)
    needs = pred.data_needs()
    fctx, qctx, archs = contexts(base_bench, pred)
    assert (fctx.labels is not None) == needs.labels
    assert bool(fctx.archs) == (needs.labels or needs.curves_for_train)
    assert set(qctx.curves) == set(needs.curve_metrics)
    assert set(fctx.curves) == (set(needs.curve_metrics) if needs.curves_for_train else set())
    for curves in (qctx.curves, fctx.curves):
        assert all(c.shape[1] == 5 for c in curves.values()), "curves must stop at the fidelity"
    assert bool(fctx.unlabeled) == bool(needs.unlabeled_factor)
    assert (fctx.live is not None) == needs.live and (qctx.live is not None) == needs.live
    assert set(fctx.properties) == set(qctx.properties) == set(needs.properties)
    assert not hasattr(fctx, "benchmark") and len(archs) == N_QUERY


@pytest.mark.parametrize("name", NAMES)
def test_fit_query_shapes_determinism_and_no_mutation(name, base_bench):
    results = []
    for _ in range(2):
        pred = _instance(name)
        fctx, qctx, archs = contexts(base_bench, pred, seed=3)
        before_fit, before_query, archs_before = _snapshot(fctx), _snapshot(qctx), list(archs)
        pred.fit(fctx)
        pred_out = pred.query(archs, qctx)
        _assert_same(_snapshot(fctx), before_fit)
        _assert_same(_snapshot(qctx), before_query)
        assert archs == archs_before
        mean = pred_out.mean
        assert mean.shape == (len(archs),)
        assert not np.any(np.isinf(mean)), "scores must be finite or NaN"
        if pred_out.std is not None:
            assert pred_out.std.shape == mean.shape
        results.append(pred_out)
    np.testing.assert_allclose(results[0].mean, results[1].mean, rtol=1e-5, atol=1e-8,
                               equal_nan=True, err_msg="not deterministic under the same seeds")
