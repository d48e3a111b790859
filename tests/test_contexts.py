"""Compatibility checks, context building and the registry of data sources."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_synthetic_benchmark

from benchmarks import cli
from benchmarks.contexts import (
    ContextBuilder,
    IncompatibleError,
    TaskError,
    check_compatible,
    incompatibilities,
    oriented_final,
)
from benchmarks.experiments import budgets
from benchmarks.live import SUBSTITUTES, dataset_source
from benchmarks.tabular import TabularBenchmark
from predictors.base import DataNeeds
from predictors.registry import available, get, make

EVERYTHING = DataNeeds(labels=True, curve_metrics=("val_acc",), live=True, network=True,
                       properties=("zc_nope",))


def bare(bench: TabularBenchmark) -> TabularBenchmark:
    """``bench`` with final values only, no network configuration and no live source."""
    meta = {k: v for k, v in bench.metadata.items() if k not in ("network", "live")}
    return TabularBenchmark(meta, bench.archs, bench.values[:, :, -1:, :].copy(), bench.static)


def test_every_reason_is_listed_and_raised_as_one_user_error(synthetic_bench):
    assert incompatibilities(synthetic_bench, DataNeeds()) == []
    reasons = incompatibilities(bare(synthetic_bench), EVERYTHING)
    assert len(reasons) == 4
    for words in ("['zc_nope']", "final values only", "no network configuration",
                  "no live data source"):
        assert sum(words in r for r in reasons) == 1, words
    with pytest.raises(IncompatibleError, match="cannot run on benchmark") as err:
        check_compatible(bare(synthetic_bench), EVERYTHING, "p")
    assert isinstance(err.value, TaskError) and isinstance(err.value, cli.USER_ERRORS)


def test_a_search_refuses_curves_and_a_given_source_replaces_the_benchmarks():
    bench = make_synthetic_benchmark(n=40)
    curves = DataNeeds(labels=False, curve_metrics=("val_acc",))
    assert incompatibilities(bench, curves) == []
    assert "fully trained" in incompatibilities(bench, curves, fully_trained=True)[0]
    no_live = bare(bench)
    live = DataNeeds(labels=False, live=True)
    assert incompatibilities(no_live, live)
    assert incompatibilities(no_live, live, live=dataset_source("gaussian", bench.metadata)) == []


def test_contexts_hold_exactly_the_declared_data(synthetic_bench):
    rows, test = np.arange(10), np.arange(10, 15)
    rng = np.random.default_rng(0)
    needs = DataNeeds(labels=True, curve_metrics=("val_acc",), curves_for_train=True,
                      properties=("params",))
    builder = ContextBuilder(synthetic_bench, needs, fidelity=3)
    fit = builder.fit(rows, rng)
    np.testing.assert_array_equal(fit.labels,
                                  oriented_final(synthetic_bench, synthetic_bench.objective)[rows])
    assert fit.curves["val_acc"].shape == (10, 3) and fit.live is None and not fit.unlabeled
    query = builder.query(test, rng)
    assert query.properties["params"].shape == (5,) and query.curves["val_acc"].shape == (5, 3)
    free = ContextBuilder(synthetic_bench, DataNeeds(labels=False, live=True)).fit(rows, rng)
    assert free.archs == [] and free.labels is None and free.live is not None
    assert free.network is not None and free.curves == {}


def test_capabilities_are_declared_by_the_predictors(synthetic_bench):
    assert {get(n).experiment for n in available()} <= {"single", "vary_train_size",
                                                         "vary_fidelity", "vary_both"}
    assert get("xgb").predicts_objective and not get("jacov").predicts_objective
    assert make("jacov").data_needs().network and not make("params").data_needs().network
    assert budgets(synthetic_bench, "example-ridge", test_size=100)[0] == "vary_train_size"


def test_substitute_sources_come_from_the_one_registry():
    bench = make_synthetic_benchmark(n=20)
    assert set(SUBSTITUTES) == {"gaussian", "fashion-mnist-resized", "digits-resized"}
    x, y = dataset_source("gaussian", bench.metadata).batch("train", 3, 0)
    assert tuple(x.shape) == (3, *bench.metadata["network"]["input_shape"]) and len(y) == 3
