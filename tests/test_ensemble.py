"""OMNI and the stacking ensemble: search objective, data needs, time accounting, accuracy."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from conftest import make_synthetic_benchmark

from benchmarks.contexts import Split, build_contexts
from benchmarks.harness import EvalTask, evaluate, seed_from
from benchmarks.protocol import make_split
from benchmarks.tabular import load_benchmark
from predictors.ensemble.stack import stack_weights
from predictors.ranking import kendall_tau
from predictors.registry import make
from predictors.tuning import cv_search, kfold, objective_score
from predictors.zero_cost import measures as zc_measures

FAST_NGB = {"model_params": {"n_estimators": 30}, "hpo_evals": 2}
FAST_XGB = {"model": "xgb", "model_params": {"num_boost_round": 40}, "hpo_evals": 3}


@pytest.fixture(scope="module")
def bench():
    return make_synthetic_benchmark(n=200)


def contexts(bench, predictor, n_train, n_test, fidelity, seed=0):
    idx = np.random.default_rng(seed).permutation(len(bench))
    split = Split(train=idx[:n_train], test=idx[n_train:n_train + n_test], unlabeled=idx[:0])
    fctx, qctx, archs = build_contexts(bench, predictor.data_needs(), split, fidelity, seed)
    truth = bench.final("val_acc")[split.test]
    return fctx, qctx, archs, truth



# --- the cross-validated search maximizes its objective --------------------------------------
@pytest.mark.parametrize("objective", ["kendall", "spearman", "neg_mae", "neg_rmse"])
def test_cv_search_keeps_the_best_configuration(objective):
    rng = np.random.default_rng(0)
    y = rng.normal(size=30)
    noise = rng.normal(size=30)
    quality = {"worst": -1.0, "poor": 0.2, "best": 1.0, "fair": 0.6}

    def fit_predict(hp, tr, val):  # "best" predicts the labels, "worst" their negation
        q = hp["q"]
        return q * y[val] + (1 - abs(q)) * noise[val]

    candidates = [{"q": q} for q in quality.values()]
    best, trials = cv_search(candidates, fit_predict, y, kfold(30, 3, rng), objective)
    assert best == {"q": 1.0}
    scores = [t.score for t in trials]
    assert scores[2] == max(scores) and scores[0] == min(scores) < scores[2]


def test_objectives_are_higher_for_better_predictions():
    y = np.arange(10.0)
    for name in ("kendall", "spearman", "neg_mae", "neg_rmse"):
        assert objective_score(name, y, y) > objective_score(name, y, y[::-1])
    assert objective_score("kendall", y, np.ones(10)) == -np.inf
    assert objective_score("neg_mae", y, np.full(10, np.nan)) == -np.inf


def test_omni_picks_the_best_evaluated_configuration(bench):
    omni = make("omni", model="xgb", use_zero_cost=False, hpo_evals=6,
                model_params={"num_boost_round": 30})
    fctx, *_ = contexts(bench, omni, 40, 10, 3)
    omni.fit(fctx)
    scores = [t.score for t in omni.cv_trials_]
    assert len(scores) == 6 and max(scores) > min(scores)
    best = omni.cv_trials_[int(np.argmax(scores))]
    worst = omni.cv_trials_[int(np.argmin(scores))]
    assert omni.best_hyperparams_ == best.params != worst.params


# --- data needs follow the ablation flags -----------------------------------------------------
def test_data_needs_are_the_union_of_enabled_parts():
    full = make("omni").data_needs()
    assert full.labels and full.live and full.curves_for_train
    assert set(full.curve_metrics) == {"train_loss", "val_acc"}
    assert full.network  # its live zero-cost members run the benchmark's networks

    no_curves = make("omni", use_curves=False).data_needs()
    assert no_curves.curve_metrics == () and not no_curves.curves_for_train and no_curves.live
    no_zc = make("omni", use_zero_cost=False).data_needs()
    assert not no_zc.live and set(no_zc.curve_metrics) == {"train_loss", "val_acc"}
    no_enc = make("omni", use_encoding=False).data_needs()
    assert no_enc.live and no_enc.network
    counting = make("omni", measures=("params", "flops"), use_curves=False).data_needs()
    assert counting.properties == ("params", "flops") and not counting.live
    assert not counting.network

    with pytest.raises(ValueError, match="at least one of"):
        make("omni", use_encoding=False, use_curves=False, use_zero_cost=False).data_needs()
    with pytest.raises(ValueError, match="training-free"):
        make("omni", measures=("xgb",)).data_needs()
    with pytest.raises(ValueError, match="unknown model"):
        make("omni", model="gp").data_needs()


def test_stack_needs_cover_its_members():
    needs = make("omni_stack", members=("xgb", "example-last-epoch")).data_needs()
    assert needs.labels and needs.curve_metrics == ("val_acc",) and needs.curves_for_train
    assert not make("omni_stack").data_needs().curve_metrics
    with pytest.raises(ValueError, match="not in members"):
        make("omni_stack", member_params={"gp": {}}).data_needs()


# --- time accounting through the harness ------------------------------------------------------
def test_harness_charges_partial_training_and_live_proxy_time(synthetic_bench_dir, monkeypatch):
    spec = zc_measures.get_measure("jacov")
    calls = []
    delay = 0.02

    def slow_jacov(net, inputs, targets, loss_fn, **opts):
        calls.append(1)
        time.sleep(delay)
        return spec.fn(net, inputs, targets, loss_fn, **opts)

    monkeypatch.setitem(zc_measures._MEASURES, "jacov",
                        zc_measures.MeasureSpec("jacov", slow_jacov, spec.data_free))
    task = EvalTask(benchmark=str(synthetic_bench_dir), predictor="omni",
                    params={"model": "xgb", "measures": ["jacov"], "zc_batch_size": 8,
                            "hpo_evals": 1, "model_params": {"num_boost_round": 20}},
                    train_size=12, fidelity=4, test_size=10, experiment="vary_both")
    record = evaluate(task, device="cpu")
    assert len(calls) == 12 + 10  # labeled archs scored in fit, queried ones in query

    bench = load_benchmark(synthetic_bench_dir)
    split = make_split(bench, 12, 10, 0, np.random.default_rng(seed_from(task.split_key())))
    partial = bench.partial_cost(split.test, 4).sum() / 10
    assert record["query_sim_partial_s"] == pytest.approx(partial) and partial > 0
    assert record["init_sim_train_s"] == pytest.approx(bench.train_cost(split.train).sum())
    assert record["query_total_measured_s"] >= 10 * delay
    assert record["init_fit_s"] >= 12 * delay
    assert record["query_time_s"] == pytest.approx(partial + record["query_measured_s"])
    assert record["live_source"] == "synthetic random tensors"


def test_tabulated_zero_cost_is_charged_its_tabulated_time(tmp_path):
    from conftest import write_synthetic_benchmark

    bench_dir = write_synthetic_benchmark(tmp_path / "zc", n=80, zero_cost=("jacov",))
    bench = load_benchmark(bench_dir)
    cost = bench.static_value("zc_jacov_time")

    def split_of(task):
        return make_split(bench, task.train_size if task.predictor == "omni" else 0,
                          task.test_size, 0, np.random.default_rng(seed_from(task.split_key())))

    lookup = EvalTask(benchmark=str(bench_dir), predictor="zc_table",
                      params={"measure": "jacov"}, train_size=0, test_size=20)
    record = evaluate(lookup, device="cpu")
    test = split_of(lookup).test
    assert cost[test].mean() > 0
    assert record["query_sim_tabulated_s"] == pytest.approx(cost[test].mean())
    assert record["init_sim_tabulated_s"] == 0 and record["tabulated_cost_missing"] is None
    assert record["query_time_s"] == pytest.approx(cost[test].mean()
                                                   + record["query_measured_s"])

    omni = EvalTask(benchmark=str(bench_dir), predictor="omni",
                    params={"model": "xgb", "measures": ["jacov"], "zc_source": "table",
                            "hpo_evals": 1, "model_params": {"num_boost_round": 20}},
                    train_size=12, fidelity=4, test_size=10, experiment="vary_both")
    record = evaluate(omni, device="cpu")
    split = split_of(omni)
    assert record["init_sim_tabulated_s"] == pytest.approx(cost[split.train].sum())
    assert record["init_time_s"] == pytest.approx(record["init_sim_train_s"]
                                                  + record["init_sim_tabulated_s"]
                                                  + record["init_fit_s"])
    assert record["query_time_s"] == pytest.approx(record["query_sim_partial_s"]
                                                   + cost[split.test].mean()
                                                   + record["query_measured_s"])
    assert record["live_source"] is None  # nothing ran on real networks


def test_omni_table_mode_reads_the_same_scores_as_zc_table(bench):
    tabulated = make_synthetic_benchmark(n=60, zero_cost=("synflow",))
    omni = make("omni", measures=("synflow",), zc_source="table", use_encoding=False,
                use_curves=False, **FAST_XGB)
    needs = omni.data_needs()
    assert needs.properties == ("zc_synflow",) and not needs.live
    assert needs.cost_properties == ("zc_synflow_time",)
    fctx, qctx, archs, truth = contexts(tabulated, omni, 30, 30, None)
    scores = qctx.properties["zc_synflow"]
    pred = omni.fit(fctx).query(archs, qctx).mean
    assert kendall_tau(scores, pred) > 0.6  # the only feature is the tabulated score
    with pytest.raises(ValueError, match="zc_source"):
        make("omni", zc_source="cache").data_needs()


# --- accuracy: the ingredients matter ---------------------------------------------------------
def test_omni_beats_its_encoding_only_ablation_when_curves_carry_signal(bench):
    taus = {"full": [], "encoding_only": []}
    for seed in range(2):
        for name, flags in (("full", {}), ("encoding_only", {"use_curves": False})):
            omni = make("omni", use_zero_cost=False, **FAST_XGB, **flags)
            fctx, qctx, archs, truth = contexts(bench, omni, 30, 100, 3, seed)
            taus[name].append(kendall_tau(truth, omni.fit(fctx).query(archs, qctx).mean))
    assert np.mean(taus["full"]) > np.mean(taus["encoding_only"]) + 0.2, taus


def test_omni_with_zero_cost_features_fits_and_ranks(bench):
    omni = make("omni", measures=("synflow",), zc_batch_size=8, **FAST_NGB)
    fctx, qctx, archs, truth = contexts(bench, omni, 16, 20, 3)
    pred = omni.fit(fctx).query(archs, qctx)
    assert pred.std is not None and np.all(pred.std > 0)
    assert kendall_tau(truth, pred.mean) > 0.3


def test_omni_refuses_a_query_at_another_fidelity(bench):
    omni = make("omni", use_zero_cost=False, **FAST_XGB)
    fctx, *_ = contexts(bench, omni, 12, 4, 3)
    omni.fit(fctx)
    _, qctx, archs, _ = contexts(bench, omni, 12, 4, 5)
    with pytest.raises(ValueError, match="same fidelity"):
        omni.query(archs, qctx)


# --- stacking ---------------------------------------------------------------------------------
def test_stack_weights_favour_the_informative_member():
    rng = np.random.default_rng(1)
    y = rng.normal(size=60)
    preds = np.stack([y + 0.1 * rng.normal(size=60), -y, rng.normal(size=60)], axis=1)
    preds[3, 0] = np.nan
    weights, mu, sd = stack_weights(preds, y)
    assert np.all(weights >= 0) and weights[1] == 0.0
    assert weights[0] > 5 * weights[2]


def test_stack_outranks_its_weaker_member(bench):
    stack = make("omni_stack", members=("example-ridge", "example-last-epoch"))
    fctx, qctx, archs, truth = contexts(bench, stack, 30, 60, 3)
    pred = stack.fit(fctx).query(archs, qctx)
    assert set(stack.weights_) == {"example-ridge", "example-last-epoch"}
    assert all(w >= 0 for w in stack.weights_.values())
    ridge = make("example-ridge")
    rctx, rq, _, _ = contexts(bench, ridge, 30, 60, 3)
    ridge_mean = ridge.fit(rctx).query(archs, rq).mean
    assert kendall_tau(truth, pred.mean) > kendall_tau(truth, ridge_mean) + 0.1
    assert stack.weights_["example-last-epoch"] > stack.weights_["example-ridge"]


# --- the vary_both experiment script ----------------------------------------------------------
def test_vary_both_script_writes_heatmap_gains_and_ablations(tmp_path):
    import pandas as pd
    from conftest import write_synthetic_benchmark

    from benchmarks.cli import app

    # a tabulated benchmark: OMNI and the singles read synflow's table (--zc-source auto)
    bench_dir = write_synthetic_benchmark(tmp_path / "bench", n=80, zero_cost=("synflow",))
    out = tmp_path / "omni"
    params = json.dumps({"model": "xgb", "hpo_evals": 1, "measures": ["synflow"],
                         "model_params": {"num_boost_round": 20}})
    paths = app(args=["analyze", "omni-vary-both", "--benchmark", str(bench_dir), "--out", str(out),
                      "--trials", "1",
                  "--test-size", "20", "--train-sizes", "8,16", "--fidelities", "2,4",
                  "--singles", "xgb,sotle,synflow", "--ablations",
                  "omni,no_curves,no_zero_cost,curve_prior", "--omni-params", params],
                prog_name="predbench", standalone_mode=False)
    assert {p.name for p in paths} >= {"omni_heatmap.png", "improvement.csv", "ablation.md",
                                       "improvement_curve_prior.csv"}
    prior = pd.read_csv(out / "improvement_curve_prior.csv")
    assert len(prior) == 4 and prior["best_single"].notna().all()
    gains = pd.read_csv(out / "improvement.csv")
    assert len(gains) == 4  # one row per OMNI (train size, fidelity) budget
    np.testing.assert_allclose(gains["gain"], gains["omni_kendall"]
                               - gains["best_single_kendall"])
    assert gains["tie"].all()  # one trial separates nothing
    cells = pd.read_csv(out / "omni_cells.csv")
    singles = cells[cells["variant"].isin(["xgb", "sotle", "synflow"])]
    assert (singles[singles["variant"] == "synflow"]["query_time_s"] > 0.1).all()  # charged
    for _, row in gains.dropna(subset=["best_single"]).iterrows():
        fits = singles[(singles["train_size"] <= row["train_size"])
                       & (singles["fidelity"] <= row["fidelity"])]
        assert row["best_single_kendall"] == pytest.approx(fits["kendall"].max())
    # every budget has a rival here: synflow needs no labels and no training
    assert gains["best_single"].notna().all()
    ablation = pd.read_csv(out / "ablation.csv")
    assert list(ablation.columns[-4:]) == ["omni", "no_curves", "no_zero_cost", "curve_prior"]
    assert ablation["no_curves"].notna().all()  # spread over every fidelity


def test_vary_both_reads_a_benchmarks_zero_cost_table_when_it_has_one():
    from benchmarks.analyses.omni_vary_both import resolve_zc_source, single_task_spec

    table = make_synthetic_benchmark(n=30, zero_cost=("jacov", "synflow"))
    plain = make_synthetic_benchmark(n=30)
    assert resolve_zc_source("auto", table, {}, ["jacov", "xgb"]) == "table"
    assert resolve_zc_source("auto", table, {}, ["snip"]) == "live"  # snip is not tabulated
    assert resolve_zc_source("auto", plain, {}, []) == "live"
    assert resolve_zc_source("live", table, {}, []) == "live"
    assert single_task_spec("jacov", "table") == ("zc_table", {"measure": "jacov"})
    assert single_task_spec("jacov", "live") == ("jacov", {})
    assert single_task_spec("xgb", "table") == ("xgb", {})


def test_improvement_compares_nominal_budgets_not_noisy_mean_times():
    """A single at OMNI's fidelity is its rival even when its mean simulated query time, taken
    over other test architectures, came out a little higher; a larger budget never is."""
    import pandas as pd

    from benchmarks.analyses.omni_vary_both import improvement

    rows = [("omni", 121, 4, 0.80, 9500.0, 39.10), ("no_curves", 121, 0, 0.65, 9500.0, 0.1),
            ("sotle", 0, 4, 0.83, 0.0, 39.26), ("sotle", 0, 6, 0.84, 0.0, 58.9),
            ("xgb", 347, 0, 0.90, 27000.0, 0.0), ("xgb", 121, 0, 0.55, 9500.0, 0.0)]
    table = pd.DataFrame(rows, columns=["variant", "train_size", "fidelity", "kendall",
                                        "init_time_s", "query_time_s"])
    gains = improvement(table, ["omni", "no_curves"])
    assert gains.loc[0, "best_single"] == "sotle"
    assert gains.loc[0, "best_single_setting"] == "n=0, epochs=4"
    assert gains.loc[0, "gain"] == pytest.approx(-0.03)


# --- OMNI's optional SoTL-E prior ----------------------------------------------------------------
def test_omni_curve_prior_keeps_the_sotle_ranking_when_the_trees_learn_little(bench):
    """With a near-inert booster, predictions follow the SoTL-E line (tau ~1 with SoTL-E);
    without the prior they do not. The prior needs the curve features."""
    inert = {"model": "xgb", "hpo_evals": 1, "use_zero_cost": False,
             "model_params": {"num_boost_round": 1, "learning_rate": 0.01}}
    sotle = make("sotle")
    with_prior, plain = make("omni", curve_prior=True, **inert), make("omni", **inert)
    fctx, qctx, archs, _ = contexts(bench, with_prior, 12, 60, 3)
    sotle.fit(fctx)
    reference = sotle.query(archs, qctx).mean
    assert kendall_tau(reference, with_prior.fit(fctx).query(archs, qctx).mean) > 0.99
    fctx, qctx, archs, _ = contexts(bench, plain, 12, 60, 3)
    assert kendall_tau(reference, plain.fit(fctx).query(archs, qctx).mean) < 0.9
    with pytest.raises(ValueError, match="curve_prior needs the curve features"):
        make("omni", curve_prior=True, use_curves=False).data_needs()


def test_improvement_gain_intervals_pair_trials():
    """OMNI above its rival in every one of five trials is a win; above on the mean but not
    consistently is a tie."""
    import pandas as pd

    from benchmarks.analyses.omni_vary_both import cells, improvement

    def records(omni_taus, rival_taus):
        rows = []
        for trial, (o, r) in enumerate(zip(omni_taus, rival_taus, strict=True)):
            common = {"trial": trial, "test_set_id": f"t{trial}", "status": "ok",
                      "init_time_s": 1.0, "query_time_s": 1.0}
            rows.append({**common, "variant": "omni", "train_size": 121, "fidelity": 4,
                         "kendall": o})
            rows.append({**common, "variant": "sotle", "train_size": 0, "fidelity": 4,
                         "kendall": r})
        return pd.DataFrame(rows)

    win = records([0.80, 0.82, 0.79, 0.81, 0.83], [0.75, 0.78, 0.74, 0.77, 0.79])
    gains = improvement(cells(win), ["omni"], trials=win)
    assert not gains.loc[0, "tie"] and gains.loc[0, "gain_low"] > 0
    mixed = records([0.80, 0.70, 0.85, 0.72, 0.83], [0.75, 0.78, 0.74, 0.77, 0.79])
    assert improvement(cells(mixed), ["omni"], trials=mixed).loc[0, "tie"]
