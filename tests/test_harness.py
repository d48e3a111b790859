"""Harness, experiment grids, executors and sweeps on the synthetic benchmark."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_synthetic_benchmark, write_synthetic_benchmark

from benchmarks.contexts import IncompatibleError
from benchmarks.executor import ProcessExecutor, SerialExecutor
from benchmarks.experiments import (
    NB201_FIDELITIES,
    budgets,
    build_reproduce_tasks,
    build_tasks,
    quick_settings,
    run_sweep,
    scaled_fidelities,
)
from benchmarks.harness import EvalTask, TaskError, evaluate, seed_from, tabulated_cost
from benchmarks.protocol import make_split, unique_count
from benchmarks.store import ResultStore

METRIC_FIELDS = ("kendall", "spearman", "pearson", "sparse_kendall", "ndcg", "precision@10")


def task(bench_dir, predictor="example-ridge", **kw):
    kw.setdefault("train_size", 40)
    kw.setdefault("test_size", 60)
    return EvalTask(benchmark=str(bench_dir), predictor=predictor, **kw)


def test_task_key_is_stable_and_distinguishes_fields(synthetic_bench_dir):
    a = task(synthetic_bench_dir, params={"alpha": 1.0, "b": 2})
    b = task(synthetic_bench_dir, params={"b": 2, "alpha": 1.0})
    assert a.key() == b.key()
    assert a.key() != task(synthetic_bench_dir, trial=1).key()
    assert EvalTask.from_dict(a.to_dict()) == a
    assert a.split_key() == task(synthetic_bench_dir, predictor="other").split_key()


def test_split_disjoint_by_canonical_form(synthetic_bench):
    rng = np.random.default_rng(0)
    n_unique = unique_count(synthetic_bench)
    split = make_split(synthetic_bench, n_unique - 100, 100, 0, rng)
    keys = synthetic_bench.canonical_keys
    test = {keys[i] for i in split.test}
    train = [keys[i] for i in split.train]
    assert len(test) == 100 and len(set(train)) == len(train) == n_unique - 100
    assert not test & set(train)
    with pytest.raises(TaskError, match=r"exceeds the \d+ unique.*lower --train-size"):
        make_split(synthetic_bench, n_unique - 99, 100, 0, rng)


def test_evaluate_record_and_time_accounting(synthetic_bench_dir, synthetic_bench):
    t = task(synthetic_bench_dir)
    rec = evaluate(t, device="cpu")
    assert rec["status"] == "ok" and rec["key"] == t.key()
    assert rec["n_train"] == 40 and rec["n_test"] == 60 and rec["family"] == "model_based"
    assert rec["kendall"] > 0.4  # the synthetic accuracy is learnable from the encoding
    split = make_split(synthetic_bench, 40, 60, 0, np.random.default_rng(seed_from(t.split_key())))
    assert rec["init_sim_train_s"] == pytest.approx(synthetic_bench.train_cost(split.train).sum())
    assert rec["init_time_s"] == pytest.approx(rec["init_sim_train_s"] + rec["init_fit_s"])
    assert rec["query_sim_partial_s"] == 0.0  # no curves read: no simulated partial training
    assert rec["query_time_s"] == pytest.approx(rec["query_measured_s"])
    assert rec["error_metrics_meaningful"] and rec["cost_estimated"] is False
    again = evaluate(t, device="cpu")
    assert all(rec[m] == again[m] for m in METRIC_FIELDS)


def test_curve_predictor_time_and_fidelity(synthetic_bench_dir, synthetic_bench):
    t = task(synthetic_bench_dir, "example-last-epoch", train_size=0, fidelity=4)
    rec = evaluate(t, device="cpu")
    split = make_split(synthetic_bench, 0, 60, 0, np.random.default_rng(seed_from(t.split_key())))
    per_arch = synthetic_bench.partial_cost(split.test, 4).mean()
    assert rec["query_sim_partial_s"] == pytest.approx(per_arch)
    assert rec["query_time_s"] == pytest.approx(per_arch + rec["query_measured_s"])
    assert rec["init_sim_train_s"] == 0.0 and rec["n_train"] == 0
    with pytest.raises(TaskError, match="fidelity 13 outside 1..12"):
        evaluate(task(synthetic_bench_dir, "example-last-epoch", fidelity=13))
    with pytest.raises(TaskError, match="give a fidelity"):
        evaluate(task(synthetic_bench_dir, "example-last-epoch"))


def test_same_trial_same_test_set_for_every_predictor(synthetic_bench_dir):
    a = evaluate(task(synthetic_bench_dir, "example-last-epoch", train_size=40, fidelity=12))
    b = evaluate(task(synthetic_bench_dir, "example-last-epoch", train_size=40, fidelity=11))
    assert a["split_seed"] == b["split_seed"]
    c = evaluate(task(synthetic_bench_dir, "example-last-epoch", train_size=40, fidelity=12,
                      trial=1))
    assert c["split_seed"] != a["split_seed"]


def test_curve_predictor_on_benchmark_without_curves(tmp_path):
    bench = make_synthetic_benchmark(n=120)
    bench.values = bench.values[:, :, -1:, :].copy()
    path = bench.save(tmp_path / "final-only")
    with pytest.raises(TaskError, match="final values only"):
        evaluate(task(path, "example-last-epoch", fidelity=3))


def test_live_predictor_needs_live_source(tmp_path):
    bench = make_synthetic_benchmark(n=120)
    del bench.metadata["live"]
    path = bench.save(tmp_path / "no-live")
    with pytest.raises(IncompatibleError, match="no live data source"):
        evaluate(task(path, "example-live-norm", test_size=10))


def test_live_predictor_runs(synthetic_bench_dir):
    rec = evaluate(task(synthetic_bench_dir, "example-live-norm", test_size=3, train_size=0))
    assert rec["live_source"] == "synthetic random tensors" and rec["n_test"] == 3


def test_tabulated_cost_sums_rows_and_names_what_the_benchmark_lacks():
    bench = make_synthetic_benchmark(n=40, zero_cost=("nwot",))
    rows = np.arange(5)
    total, missing = tabulated_cost(bench, ["zc_nwot_time", "zc_grasp_time"], rows)
    assert total == pytest.approx(bench.static_value("zc_nwot_time", rows).sum()) and total > 0
    assert missing == ["zc_grasp_time"]
    assert tabulated_cost(bench, ["zc_nwot_time"], rows[:0]) == (0.0, [])


def test_budget_grids(synthetic_bench):
    assert scaled_fidelities(200) == list(NB201_FIDELITIES)
    assert scaled_fidelities(12)[0] == 1 and scaled_fidelities(12)[-1] == 11  # below the last epoch
    exp, grid = budgets(synthetic_bench, "example-ridge", test_size=100, full=True)
    cap = unique_count(synthetic_bench) - 100
    assert exp == "vary_train_size"
    assert [b.train_size for b in grid] == [s for s in (5, 8, 14, 24, 42, 71) if s <= cap]
    assert all(b.fidelity is None for b in grid)
    exp, grid = budgets(synthetic_bench, "example-last-epoch", test_size=100, full=True)
    assert exp == "vary_fidelity" and [b.fidelity for b in grid] == scaled_fidelities(12)
    assert {b.train_size for b in grid} == {0}
    exp, grid = budgets(synthetic_bench, "example-live-norm", test_size=100)
    assert exp == "single" and grid[0].train_size == 0 and grid[0].fidelity is None


def test_build_tasks_and_reproduce(synthetic_bench_dir):
    tasks = build_tasks(str(synthetic_bench_dir), "example-ridge", trials=2, test_size=100)
    assert len(tasks) == 2 * 1  # quick grid: 24 only (121 exceeds the benchmark)
    assert {t.train_size for t in tasks} == {24} and {t.trial for t in tasks} == {0, 1}
    tasks = build_reproduce_tasks(str(synthetic_bench_dir), trials=1, test_size=100,
                                  predictors=["example-ridge", "example-last-epoch"])
    assert {t.predictor for t in tasks} == {"example-ridge", "example-last-epoch"}
    assert all(t.benchmark == str(synthetic_bench_dir) for t in tasks)


def test_quick_preset_reads_tabulated_scores_where_the_benchmark_has_them(tmp_path):
    """The quick preset swaps a live proxy for the benchmark's tabulated scores of its measure,
    says so, and keeps the standard settings where the benchmark has no such table."""
    with_table = str(write_synthetic_benchmark(tmp_path / "t", n=300, zero_cost=("nwot",)))
    without = str(write_synthetic_benchmark(tmp_path / "n", n=300))
    quick = build_reproduce_tasks(with_table, trials=1, test_size=100, preset="quick",
                                  predictors=["nwot", "example-ridge"])
    params = {t.predictor: t.params for t in quick}
    assert params == {"nwot": {"source": "table"}, "example-ridge": {}}
    assert quick_settings(quick) == {"nwot": {"source": "table"}}
    fallback = build_reproduce_tasks(without, trials=1, test_size=100, preset="quick",
                                     predictors=["nwot"])
    assert [t.params for t in fallback] == [{}] and quick_settings(fallback) == {}
    partial = build_reproduce_tasks(without, trials=1, test_size=100, preset="quick",
                                    predictors=["tenas_ntk"])  # keeps its smaller batch
    assert quick_settings(partial) == {"tenas_ntk": {"batch_size": 8}}
    record = evaluate(next(t for t in quick if t.predictor == "nwot"))
    assert record["status"] == "ok" and record["query_sim_tabulated_s"] > 0
    full = build_reproduce_tasks(with_table, trials=1, test_size=100, preset="full",
                                 predictors=["example-ridge"])
    assert len(full) > len([t for t in quick if t.predictor == "example-ridge"])


def test_sweep_records_failures_skips_done_and_goes_on(synthetic_bench_dir, tmp_path):
    good = [task(synthetic_bench_dir, trial=i) for i in range(3)]
    bad = task(synthetic_bench_dir, params={"alpha": -1.0})  # sklearn refuses a negative alpha
    with ResultStore(tmp_path / "r.db") as store:
        summary = run_sweep([good[0], bad, *good[1:]], store, SerialExecutor(), progress=False)
        assert (summary.ok, summary.failed, summary.skipped) == (3, 1, 0)
        failed = store.get(bad.key())
        assert failed["status"] == "failed" and "alpha" in failed["error"]
        assert "Traceback" in failed["traceback"]
        again = run_sweep(good + [bad], store, SerialExecutor(), progress=False)
        assert (again.ok, again.failed, again.skipped) == (0, 0, 4)
        retry = run_sweep(good + [bad], store, progress=False, retry_failed=True)
        assert (retry.failed, retry.skipped) == (1, 3)
        assert len(store) == 4


def test_sweep_runs_again_what_was_evaluated_on_other_data(tmp_path):
    """A rebuilt benchmark (here: other labels) makes its stored evaluations stale; records
    stored before data versions were kept stand."""
    bench_dir = write_synthetic_benchmark(tmp_path / "rebuilt")
    tasks = [task(bench_dir, trial=i) for i in range(2)]
    with ResultStore(tmp_path / "v.db") as store:
        assert run_sweep(tasks, store, SerialExecutor(), progress=False).ok == 2
        before = {t.key(): store.get(t.key()) for t in tasks}
        assert run_sweep(tasks, store, SerialExecutor(), progress=False).skipped == 2
        values = np.load(bench_dir / "values.npy")
        np.save(bench_dir / "values.npy", values[::-1].copy())  # every label moves
        legacy = dict(before[tasks[1].key()])
        del legacy["data_version"]
        store.put(legacy)
        again = run_sweep(tasks, store, SerialExecutor(), progress=False)
        assert (again.ok, again.skipped) == (1, 1)
        fresh = store.get(tasks[0].key())
        assert fresh["data_version"] != before[tasks[0].key()]["data_version"]
        assert fresh["kendall"] != before[tasks[0].key()]["kendall"]
        assert "data_version" not in store.get(tasks[1].key())


def test_sweep_off_a_terminal_prints_plain_progress_lines(synthetic_bench_dir, tmp_path,
                                                          capfd):
    """Off a terminal the sweep writes its first and last evaluation (and one line per interval)
    as plain text, since a live bar would show nothing until the end."""
    tasks = [task(synthetic_bench_dir, trial=i) for i in range(3)]
    with ResultStore(tmp_path / "p.db") as store:
        run_sweep(tasks, store, SerialExecutor(), progress=True)
    lines = [ln for ln in capfd.readouterr().err.splitlines() if ln.startswith("evaluations")]
    assert lines[0].startswith("evaluations 1/3 (33%)")
    assert lines[-1].startswith("evaluations 3/3 (100%)") and "last: example-ridge ok" in lines[-1]
    assert len(lines) == 2  # the middle one falls within the interval


def test_process_executor_matches_serial(synthetic_bench_dir):
    tasks = [task(synthetic_bench_dir, trial=i) for i in range(3)]
    tasks.append(task(synthetic_bench_dir, params={"alpha": -1.0}))
    serial = {t.key(): r for t, r in SerialExecutor().map(tasks)}
    parallel = {t.key(): r for t, r in ProcessExecutor(workers=2, start_method="fork").map(tasks)}
    assert serial.keys() == parallel.keys()
    for key, rec in serial.items():
        assert parallel[key]["status"] == rec["status"]
        if rec["status"] == "ok":
            assert all(parallel[key][m] == rec[m] for m in METRIC_FIELDS)


def test_serial_executor_runs_with_its_thread_budget_and_restores_it(synthetic_bench_dir,
                                                                     monkeypatch):
    import torch
    from threadpoolctl import threadpool_info

    import benchmarks.executor as executor

    seen = []

    def record_budget(t):
        seen.append((torch.get_num_threads(), {p["num_threads"] for p in threadpool_info()}))
        return {}

    monkeypatch.setattr(executor, "evaluate", record_budget)
    before = torch.get_num_threads()
    list(SerialExecutor(threads=1).map([task(synthetic_bench_dir, trial=i) for i in range(2)]))
    assert seen == [(1, {1})] * 2 and torch.get_num_threads() == before  # BLAS pools too
    assert ProcessExecutor(workers=2, threads=3).threads == 3
