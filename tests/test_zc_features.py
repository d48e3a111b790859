"""Zero-cost-augmented encodings: the scaled feature block (``predictors.zero_cost.features``)
and the encoded predictors' ``zc_features`` (data needs, inputs, time accounting)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_synthetic_benchmark, write_synthetic_benchmark

from benchmarks.contexts import Split, build_contexts
from benchmarks.harness import EvalTask, evaluate, seed_from
from benchmarks.protocol import make_split
from benchmarks.tabular import load_benchmark
from predictors.base import DataNeeds
from predictors.encodings import encode
from predictors.encodings.graph import GraphBatch
from predictors.registry import make
from predictors.zero_cost.features import LOG_FLOOR, ZeroCostScaler

MEASURES = ("synflow", "jacov")
FAST = {"xgb": {"num_boost_round": 20}, "gcn": {"epochs": 3, "hidden": 16},
        "gates": {"epochs": 3, "hidden": 16}, "bonas": {"epochs": 3, "hidden": 16}}


@pytest.fixture(scope="module")
def bench():
    return make_synthetic_benchmark(n=80, zero_cost=MEASURES)


def fitted(bench, name: str, n_train: int = 30, n_test: int = 20, **params):
    pred = make(name, **{**FAST.get(name, {}), "zc_features": MEASURES, **params})
    split = Split(train=np.arange(n_train), test=np.arange(n_train, n_train + n_test),
                  unlabeled=np.arange(0))
    fctx, qctx, archs = build_contexts(bench, pred.data_needs(), split, None, 0)
    return pred.fit(fctx), fctx, qctx, archs, split


def tabulated(bench, rows) -> np.ndarray:
    return np.stack([bench.static_value(f"zc_{m}", rows) for m in MEASURES], axis=1)


# --- the scaler: statistics of the training block only ------------------------------------------
def test_scaler_logs_heavy_tails_imputes_and_standardizes_with_training_statistics():
    train = np.array([[1e2, 5.0, -10.0], [1e5, 6.0, -1e4], [1e8, np.nan, -1e3],
                      [1e3, 8.0, -20.0]])
    scaler = ZeroCostScaler.fit(train)
    assert scaler.log_sign.tolist() == [1.0, 0.0, -1.0]  # the middle column spans too little
    z = scaler.transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0)

    query = np.array([[1e10, 100.0, 3.0], [np.nan, np.inf, -5.0]])
    zq = scaler.transform(query)
    logs = np.log(train[:, 0])
    assert zq[0, 0] == pytest.approx((np.log(1e10) - logs.mean()) / logs.std())
    filled = np.array([5.0, 6.0, 6.0, 8.0])  # the NaN gets the training median
    assert zq[0, 1] == pytest.approx((100.0 - filled.mean()) / filled.std())
    assert zq[1, 0] == pytest.approx((np.median(logs) - logs.mean()) / logs.std())
    assert zq[1, 1] == pytest.approx((6.0 - filled.mean()) / filled.std())  # inf is missing
    neg = -np.log(-train[:, 2])
    floor = -np.log(LOG_FLOOR * 10.0)  # a positive score in a negative column: its top end
    assert zq[0, 2] == pytest.approx((floor - neg.mean()) / neg.std()) and zq[0, 2] > z[:, 2].max()
    # a queried row is scaled the same alone or in a batch: no statistics of the queries
    np.testing.assert_allclose(scaler.transform(query[:1]), zq[:1])


# --- data needs ---------------------------------------------------------------------------------
def test_data_needs_add_the_tabulated_scores_and_their_costs_or_the_live_data():
    assert make("xgb").data_needs() == DataNeeds(labels=True)
    needs = make("xgb", zc_features=("jacov", "synflow")).data_needs()
    assert needs.labels and needs.properties == ("zc_jacov", "zc_synflow")
    assert needs.cost_properties == ("zc_jacov_time", "zc_synflow_time") and not needs.live
    live = make("gcn", zc_features=("jacov",), zc_source="live").data_needs()
    assert live.live and live.network and live.labels and not live.properties


@pytest.mark.parametrize(("name", "params", "match"), [
    ("gpwl", {"zc_features": ("synflow",)}, "takes no zero-cost features"),
    ("seminas", {"zc_features": ("synflow",)}, "takes no zero-cost features"),
    ("xgb", {"zc_features": ("synflow",), "zc_source": "cache"}, "zc_source"),
    ("xgb", {"zc_features": ("xgb",), "zc_source": "live"}, "training-free scores"),
])
def test_unusable_settings_are_refused_naming_the_fix(name, params, match):
    with pytest.raises(ValueError, match=match):
        make(name, **params).data_needs()


@pytest.mark.parametrize(("params", "fragment"), [
    (("-p", "gpwl", "--param", 'zc_features=["synflow"]'), "gpwl takes no zero-cost features"),
    (("-p", "xgb", "--param", 'zc_features=["synflow"]', "--param", "zc_source=cache"),
     "zc_source 'cache'"),
    (("-p", "xgb", "--param", 'zc_features=["nwot"]'), "['zc_nwot']"),  # not tabulated there
])
def test_the_cli_refuses_unusable_settings_in_one_line(synthetic_bench_dir, tmp_path, params,
                                                       fragment):
    from typer.testing import CliRunner

    from benchmarks.cli import app

    result = CliRunner().invoke(app, ["run", "-b", str(synthetic_bench_dir), *params,
                                      "--train-size", "10", "--store", str(tmp_path / "s.db")])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert not (tmp_path / "s.db").exists()


# --- the inputs: the encoding plus the block scaled on the labeled architectures ------------------
def test_flat_encoding_gets_the_block_appended_scaled_on_the_training_set(bench):
    pred, fctx, qctx, archs, split = fitted(bench, "xgb")
    x = pred._inputs(archs, qctx)
    enc = encode(archs, "adjacency_one_hot", bench.space)
    np.testing.assert_array_equal(x[:, :enc.shape[1]], enc)
    block = x[:, enc.shape[1]:]
    expected = ZeroCostScaler.fit(tabulated(bench, split.train)).transform(
        tabulated(bench, split.test))
    np.testing.assert_allclose(block, expected)
    assert abs(block.mean()) > 1e-6  # not standardized on the queries themselves


@pytest.mark.parametrize("name", ["gcn", "gates", "bonas"])
def test_graph_predictors_take_the_block_as_graph_level_features(bench, name):
    pred, fctx, qctx, archs, split = fitted(bench, name)
    x = pred._inputs(archs, qctx)
    assert isinstance(x, GraphBatch) and x.graph_features.shape == (len(archs), len(MEASURES))
    expected = ZeroCostScaler.fit(tabulated(bench, split.train)).transform(
        tabulated(bench, split.test))
    np.testing.assert_allclose(x.graph_features, expected, rtol=1e-5, atol=1e-6)
    net = pred._model[0] if name == "bonas" else pred._model
    head = net.head if name != "gates" else net.head[0]
    hidden = FAST[name]["hidden"]
    assert head.in_features == hidden + len(MEASURES)
    if name == "bonas":  # its Bayesian regression reads the features too
        assert pred._model[1].coef_.shape == (hidden + len(MEASURES),)


def test_the_block_changes_the_predictions_but_not_the_models_random_draws(bench):
    """The members draw from a spawn of the fit context's generator: the model's own draws,
    and so the generator's state after fit, are those of the plain predictor."""
    plain, plain_ctx, plain_q, archs, _ = fitted(bench, "gcn", zc_features=())
    with_zc, zc_ctx, zc_q, *_ = fitted(bench, "gcn")
    assert plain_ctx.rng.random() == zc_ctx.rng.random()
    assert not np.allclose(plain.query(archs, plain_q).mean, with_zc.query(archs, zc_q).mean)


# --- the harness charges the tabulated scores' time -------------------------------------------
def test_the_harness_charges_the_scores_tabulated_time(tmp_path):
    bench_dir = write_synthetic_benchmark(tmp_path / "zc", n=80, zero_cost=("jacov", "nwot"))
    bench = load_benchmark(bench_dir)
    cost = bench.static_value("zc_jacov_time") + bench.static_value("zc_nwot_time")
    task = EvalTask(benchmark=str(bench_dir), predictor="xgb", train_size=20, test_size=20,
                    params={"zc_features": ["jacov", "nwot"], "num_boost_round": 20},
                    experiment="vary_train_size")
    record = evaluate(task, device="cpu")
    split = make_split(bench, 20, 20, 0, np.random.default_rng(seed_from(task.split_key())))
    assert record["status"] == "ok" and record["tabulated_cost_missing"] is None
    assert record["init_sim_tabulated_s"] == pytest.approx(cost[split.train].sum())
    assert record["query_sim_tabulated_s"] == pytest.approx(cost[split.test].mean())
    plain = evaluate(EvalTask(benchmark=str(bench_dir), predictor="xgb", train_size=20,
                              test_size=20, params={"num_boost_round": 20},
                              experiment="vary_train_size"), device="cpu")
    assert plain["init_sim_tabulated_s"] == 0 and plain["query_sim_tabulated_s"] == 0


# --- the analysis: augmented minus plain, paired over trials --------------------------------------
def test_the_analysis_pairs_augmented_and_plain_records_by_test_set():
    import pandas as pd

    from benchmarks.analyses.zc_augmented import PLAIN, differences, features_label

    rows = []
    for trial, (plain, zc) in enumerate([(0.30, 0.50), (0.40, 0.55), (0.20, 0.45)]):
        for features, tau in ((None, plain), (["jacov", "synflow"], zc)):
            rows.append({"status": "ok", "benchmark_name": "b", "predictor": "xgb",
                         "train_size": 24, "trial": trial, "test_set_id": f"t{trial}",
                         "kendall": tau, "features": features_label(features)})
    rows.append({**rows[-1], "test_set_id": "t9", "trial": 9})  # an unpaired extra trial
    diff = differences(pd.DataFrame(rows)).iloc[0]
    assert features_label(None) == PLAIN and diff["features"] == "jacov+synflow"
    assert diff["trials"] == 3 and diff["diff"] == pytest.approx(0.2)
    assert 0.15 <= diff["low"] <= diff["high"] <= 0.25 and diff["separated"]
