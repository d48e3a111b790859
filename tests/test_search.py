"""Predictor-guided search on a tiny synthetic NB201 benchmark with a known optimum."""

from __future__ import annotations

import hashlib
import itertools
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.search import SearchSpec, SearchStore, execute, run_once, search_command
from benchmarks.search.cli import write_reports
from benchmarks.search.oracle import SearchSetupError
from benchmarks.tabular import TabularBenchmark, load_benchmark
from predictors.base import DataNeeds, FitContext, Prediction, Predictor, QueryContext
from predictors.registry import available, register
from predictors.spaces import Arch

REPO = Path(__file__).resolve().parents[1]
OPS3 = ("none", "skip_connect", "nor_conv_3x3")
#: The unique optimum: each edge has its own preferred op.
BEST = ("nor_conv_3x3", "skip_connect", "nor_conv_3x3", "none", "nor_conv_3x3", "skip_connect")
WEIGHTS = (3.0, 1.0, 2.0, 1.5, 2.5, 1.2)


def accuracy(ops: tuple[str, ...]) -> float:
    """Separable in the edges (so every non-optimal cell has an improving neighbour)."""
    score = 60.0
    for op, best, w in zip(ops, BEST, WEIGHTS, strict=True):
        score += w * (2.0 if op == best else 1.0 if op == "nor_conv_3x3" else 0.0)
    jitter = int(hashlib.sha256("".join(ops).encode()).hexdigest()[:6], 16) / 16**6
    return score + 0.01 * jitter


def make_bench(directory: Path | None = None) -> TabularBenchmark:
    """729 NB201 cells (three ops per edge), objective a known function of the ops."""
    archs = [Arch("nb201", ops) for ops in itertools.product(OPS3, repeat=6)]
    acc = np.array([accuracy(a.spec) for a in archs], dtype=np.float32)
    convs = np.array([a.spec.count("nor_conv_3x3") for a in archs], dtype=np.float32)
    values = acc.reshape(-1, 1, 1, 1)
    static = np.stack([1.0 + convs, convs], axis=1)
    meta = {
        "name": "synthetic-search", "space": "nb201", "dataset": "synthetic",
        "metrics": {"val_acc": {"direction": "max"}}, "objective": "val_acc", "epochs": 10,
        "seeds": 1, "static": ["epoch_time", "flops"], "cost": {"estimated": False},
    }
    bench = TabularBenchmark(meta, archs, values, static)
    if directory is not None:
        bench.save(directory)
        return load_benchmark(directory)
    return bench


if "test-onehot-ridge" not in available():

    @register("test-onehot-ridge", family="model_based")
    class OneHotRidge(Predictor):
        """Ridge regression on per-edge one-hot ops (a tiny test-local predictor, no std)."""

        needs = DataNeeds(labels=True)

        def __init__(self, alpha: float = 1e-2):
            self.alpha = alpha

        @staticmethod
        def _x(archs) -> np.ndarray:
            from predictors.spaces.nb201 import OPS

            x = np.zeros((len(archs), 6 * len(OPS) + 1))
            x[:, -1] = 1.0
            for i, a in enumerate(archs):
                for e, op in enumerate(a.spec):
                    x[i, e * len(OPS) + OPS.index(op)] = 1.0
            return x

        def _fit(self, ctx: FitContext) -> None:
            x = self._x(ctx.archs)
            gram = x.T @ x + self.alpha * np.eye(x.shape[1])
            self.w_ = np.linalg.solve(gram, x.T @ ctx.labels)

        def _query(self, archs, ctx: QueryContext) -> Prediction:
            return Prediction(self._x(archs) @ self.w_)


@pytest.fixture(scope="module")
def bench() -> TabularBenchmark:
    return make_bench()


def optimum_row(bench: TabularBenchmark) -> int:
    return bench.index_of(Arch("nb201", BEST))


def test_fixture_optimum_is_unique(bench):
    acc = bench.final()
    assert int(np.argmax(acc)) == optimum_row(bench)
    assert np.sum(acc >= acc[optimum_row(bench)]) == 1


RIDGE = "test-onehot-ridge"


def found_at(result, row: int) -> int | None:
    rows = [s.index for s in result.steps]
    return rows.index(row) + 1 if row in rows else None


@pytest.mark.parametrize(
    ("method", "predictor", "queries", "params"),
    [
        ("rea", None, 200, {}),
        ("local", None, 120, {}),
        ("evolution", RIDGE, 80, {"init": 20}),
        ("bo", RIDGE, 80, {"acquisition": "its", "init": 20}),
        ("bo", RIDGE, 80, {"acquisition": "ucb", "init": 20}),
        ("bo", RIDGE, 80, {"acquisition": "ei", "init": 20}),
    ],
)
def test_each_method_finds_the_optimum(bench, method, predictor, queries, params):
    # guided runs start from 20 random cells: a linear surrogate cannot rate an op it never saw
    spec = SearchSpec(bench.name, method, predictor, queries, method_params=params)
    for run in range(3):
        result = run_once(bench, spec, run)
        assert len(result.steps) == queries
        assert len({s.index for s in result.steps}) == queries, "a cell was queried twice"
        assert found_at(result, optimum_row(bench)) is not None, f"run {run} missed the optimum"
        assert result.steps[-1].regret == 0.0


def test_random_search_covers_the_space_without_repeats(bench):
    result = run_once(bench, SearchSpec(bench.name, "random", queries=len(bench)), 0)
    assert sorted(s.index for s in result.steps) == list(range(len(bench)))


def test_guided_evolution_with_xgb_and_a_zero_cost_prefilter(bench):
    if "xgb" not in available() or "flops" not in available():
        pytest.skip("xgb / flops predictors not registered")
    spec = SearchSpec(bench.name, "evolution", "xgb", 60,
                      predictor_params={"num_boost_round": 30}, prefilter="flops")
    result = run_once(bench, spec, 0)
    assert found_at(result, optimum_row(bench)) is not None


def test_guided_methods_beat_random_search(bench):
    """On a learnable landscape, the surrogate must help: fewer queries to the optimum."""
    def median_hits(spec: SearchSpec) -> float:
        hits = [found_at(run_once(bench, spec, r), optimum_row(bench)) for r in range(5)]
        return float(np.median([h if h is not None else np.inf for h in hits]))

    random_hits = median_hits(SearchSpec(bench.name, "random", queries=len(bench)))
    guided_hits = median_hits(SearchSpec(bench.name, "evolution", RIDGE, 100))
    assert guided_hits * 3 < random_hits


def test_trajectory_bookkeeping(bench):
    spec = SearchSpec(bench.name, "bo", RIDGE, 40)
    steps = run_once(bench, spec, 0).steps
    acc = bench.final()
    rows = [s.index for s in steps]
    assert [s.accuracy for s in steps] == pytest.approx(acc[rows].tolist())
    assert [s.best for s in steps] == pytest.approx(np.maximum.accumulate(acc[rows]).tolist())
    assert [s.regret for s in steps] == pytest.approx((acc.max() - np.maximum.accumulate(
        acc[rows])).tolist(), abs=1e-9)
    assert [s.sim_time for s in steps] == pytest.approx(np.cumsum(bench.train_cost(rows)))
    assert all(b >= a for a, b in zip([s.predictor_s for s in steps],
                                      [s.predictor_s for s in steps][1:], strict=False))
    assert steps[-1].predictor_s > 0


def test_time_budget_stops_before_exceeding(bench):
    spec = SearchSpec(bench.name, "rea", queries=500, time_budget=1000.0)
    steps = run_once(bench, spec, 0).steps
    assert steps[-1].sim_time <= 1000.0
    assert len(steps) < 500
    assert steps[-1].sim_time > 1000.0 - bench.train_cost(np.arange(len(bench))).max()


def test_runs_are_reproducible_and_independent_of_order(bench, tmp_path):
    spec = SearchSpec(bench.name, "bo", RIDGE, 30)
    a, b = run_once(bench, spec, 1), run_once(bench, spec, 1)
    assert [s.index for s in a.steps] == [s.index for s in b.steps]
    assert a.seed == spec.seed(1) and a.seed != spec.seed(0)
    assert [s.index for s in run_once(bench, spec, 0).steps] != [s.index for s in a.steps]
    with SearchStore(tmp_path / "s.sqlite") as db:
        key = execute(spec, 3, db, bench=bench)
        stored = {t.run_index: t.arch_index.tolist() for t in db.trajectories(key)}
    assert stored[1] == [s.index for s in a.steps]


def test_seed_ignores_budgets_but_key_does_not(bench):
    small, large = SearchSpec(bench.name, "rea", queries=10), SearchSpec(bench.name, "rea",
                                                                        queries=20)
    assert small.seed(3) == large.seed(3)
    assert small.key != large.key
    short = run_once(bench, small, 3).steps
    long = run_once(bench, large, 3).steps
    assert [s.index for s in long[:10]] == [s.index for s in short]


KILL_SCRIPT = """
import os, signal, sys
import benchmarks.search.oracle as oracle
from benchmarks.search import SearchSpec, SearchStore, execute
from benchmarks.tabular import load_benchmark

bench = load_benchmark(sys.argv[1])
done = []
original = oracle.Oracle.query

def query(self, index):
    if len(done) == 2 and self.n == 25:  # midway through the third run
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, index)

oracle.Oracle.query = query
with SearchStore(sys.argv[2]) as db:
    execute(SearchSpec(bench.name, "rea", queries=40), 4, db, bench=bench, on_run=done.append)
"""


def test_search_killed_midway_resumes_identically(tmp_path):
    bench = make_bench(tmp_path / "bench")
    script = tmp_path / "killed.py"
    script.write_text(KILL_SCRIPT)
    db_path = tmp_path / "killed.sqlite"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, str(script), str(bench.path), str(db_path)], env=env,
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    spec = SearchSpec(bench.name, "rea", queries=40)
    with sqlite3.connect(db_path) as conn:
        runs = conn.execute("SELECT run_index FROM search_runs").fetchall()
        partial = conn.execute("SELECT COUNT(*) FROM search_steps WHERE run_index=2").fetchone()
    assert sorted(r[0] for r in runs) == [0, 1]
    assert partial[0] == 0, "a killed run left steps behind"

    resumed: list[int] = []
    with SearchStore(db_path) as db:
        key = execute(spec, 4, db, bench=bench, on_run=lambda r: resumed.append(r.run_index))
        after = db.trajectories(key)
    assert resumed == [2, 3]
    with SearchStore(tmp_path / "clean.sqlite") as db:
        clean = db.trajectories(execute(spec, 4, db, bench=bench))
    assert len(after) == len(clean) == 4
    for x, y in zip(after, clean, strict=True):
        assert x.arch_index.tolist() == y.arch_index.tolist()
        assert x.regret.tolist() == y.regret.tolist()
        assert x.sim_time.tolist() == y.sim_time.tolist()


def test_simulated_crash_between_runs_resumes(bench, tmp_path):
    spec = SearchSpec(bench.name, "local", queries=50)

    def crash(result) -> None:
        if result.run_index == 1:
            raise KeyboardInterrupt

    with SearchStore(tmp_path / "s.sqlite") as db:
        with pytest.raises(KeyboardInterrupt):
            execute(spec, 3, db, bench=bench, on_run=crash)
        assert db.finished_runs(spec.key) == {0, 1}
        execute(spec, 3, db, bench=bench)
        assert db.finished_runs(spec.key) == {0, 1, 2}


def test_search_runs_again_what_ran_on_other_data(bench, tmp_path, caplog):
    """A rebuilt benchmark (here: every accuracy shifted) makes its stored runs run again; runs
    stored before versions were kept stand; the report warns about runs it cannot redo."""
    spec = SearchSpec(bench.name, "rea", queries=20)
    rebuilt = TabularBenchmark(bench.metadata, bench.archs, bench.values + 1.0, bench.static)
    assert rebuilt.data_version != bench.data_version
    with SearchStore(tmp_path / "s.sqlite") as db:
        execute(spec, 2, db, bench=bench)
        legacy = run_once(bench, spec, 2)
        db.write_run(spec.key, 2, legacy.seed, legacy.steps, legacy.arch_strings, 0.0)
        assert db.stale_runs(spec.key, rebuilt.data_version) == {0, 1}
        with caplog.at_level("WARNING", logger="benchmarks.search.cli"):
            write_reports(db, rebuilt, tmp_path / "report")
        assert "2 run(s) of" in caplog.text
        redone: list[int] = []
        execute(spec, 3, db, bench=rebuilt, on_run=lambda r: redone.append(r.run_index))
        assert redone == [0, 1]
        assert not db.stale_runs(spec.key, rebuilt.data_version)
        best = {t.run_index: t.best[-1] for t in db.trajectories(spec.key)}
    for run in (0, 1):  # found on the rebuilt data
        assert best[run] == run_once(rebuilt, spec, run).steps[-1].best
    assert best[2] == legacy.steps[-1].best  # the unversioned run stands
    assert run_once(rebuilt, spec, 2).steps[-1].best != best[2]


def test_bootstrap_ensemble_gives_std(bench):
    from benchmarks.search.runner import landscape
    from benchmarks.search.surrogate import Surrogate

    land = landscape(bench)
    rng = np.random.default_rng(0)
    rows = np.random.default_rng(1).choice(len(bench), 60, replace=False).tolist()
    single = Surrogate(land, RIDGE, ensemble=0)
    single.fit(rows, land.scores[rows], rng)
    assert single.predict(rows[:5], rng)[1] is None
    auto = Surrogate(land, RIDGE, ensemble="auto")
    auto.fit(rows, land.scores[rows], rng)
    mean, std = auto.predict(list(range(len(bench))), rng)
    assert len(auto._members) == auto.auto_size
    assert std is not None and np.all(std >= 0) and np.any(std > 0)
    assert np.corrcoef(mean, land.scores)[0, 1] > 0.9


def test_prefilter_keeps_the_best_proxy_scores(bench):
    if "flops" not in available():
        pytest.skip("flops predictor not registered")
    from benchmarks.search.runner import landscape
    from benchmarks.search.surrogate import Prefilter

    land = landscape(bench)
    rows = list(range(40))
    kept = Prefilter(land, "flops", keep=0.25).apply(rows, np.random.default_rng(0))
    flops = bench.static_value("flops", rows)
    assert len(kept) == 10
    assert min(flops[kept]) >= np.sort(flops)[::-1][9]


def test_acquisitions():
    from benchmarks.search.acquisition import expected_improvement, thompson, top_k, ucb

    rng = np.random.default_rng(0)
    mean, std = np.array([1.0, 0.0, 0.5]), np.array([0.1, 2.0, 0.0])
    draws = rng.normal(mean[1], std[1], 200_000)
    ei = expected_improvement(mean, std, 1.0, rng)
    assert ei[1] == pytest.approx(np.maximum(draws - 1.0, 0).mean(), rel=0.02)
    assert ei[2] == pytest.approx(0.0, abs=1e-9)
    assert ucb(mean, std, 0.0, rng, beta=1.0).tolist() == [1.1, 2.0, 0.5]
    a = thompson(mean, std, 0.0, np.random.default_rng(1))
    b = thompson(mean, std, 0.0, np.random.default_rng(1))
    assert a.tolist() == b.tolist() and a[2] == 0.5
    assert top_k(np.array([0.2, np.nan, 0.9, 0.2]), 3).tolist() == [2, 0, 3]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (dict(method="nope"), "unknown search method"),
        (dict(method="bo"), "needs --predictor|predictor-guided"),
        (dict(method="rea", predictor=RIDGE), "uses no predictor"),
        (dict(method="rea", method_params={"k": 3}), "no parameter"),
        (dict(method="rea", queries=10_000), "exceeds the 729"),
        (dict(method="evolution", predictor="flops"), "zero-cost|needs no labels"),
        (dict(method="evolution", predictor=RIDGE, prefilter=RIDGE), "needs labels"),
        (dict(method="rea", warmup_pool=100), "pass --prefilter"),
        (dict(method="local", prefilter="flops", warmup_pool=100), "no initial population"),
    ],
)
def test_user_errors_are_clear(bench, spec, match, tmp_path):
    if "flops" in str(spec) and "flops" not in available():
        pytest.skip("flops predictor not registered")
    with pytest.raises(ValueError, match=match):
        with SearchStore(tmp_path / "s.sqlite") as db:
            execute(SearchSpec(bench.name, **spec), 1, db, bench=bench)


def test_time_budget_needs_costs(tmp_path):
    bench = make_bench()
    bench.metadata["static"] = ["cost", "flops"]
    with pytest.raises(SearchSetupError, match="no training times"):
        run_once(bench, SearchSpec(bench.name, "rea", queries=10, time_budget=100.0), 0)


def test_search_command_writes_report_and_resumes(tmp_path, monkeypatch):
    bench_dir = make_bench(tmp_path / "bench").path
    store, out = tmp_path / "runs.sqlite", tmp_path / "out"
    args = dict(benchmark=str(bench_dir), method="random,rea,bo", predictor=RIDGE, runs=3,
                queries=60, time_budget=None, store=store, out=out, param=["k=5"],
                acquisition="its,ei")
    paths = search_command(**args)
    names = sorted(p.name for p in paths)
    assert names == ["synthetic-search-search-regret.png", "synthetic-search-search-table.csv",
                     "synthetic-search-search-table.md"]
    assert (out / names[0]).stat().st_size > 10_000
    rows = (out / "synthetic-search-search-table.csv").read_text().splitlines()
    assert len(rows) == 1 + 4  # random, rea, bo/its, bo/ei
    assert rows[0].startswith("method,runs,queries,final_regret")
    import benchmarks.search.runner as runner

    def fail(*a, **k):
        raise AssertionError("finished runs were recomputed")

    monkeypatch.setattr(runner, "run_once", fail)
    search_command(**args)  # everything is in the store: only the report is rewritten
    search_command(**{**args, "method": "random", "param": None})  # report keeps every config
    assert len((out / "synthetic-search-search-table.csv").read_text().splitlines()) == 5


def test_tabulated_prefilter_is_charged_the_scores_compute_time(bench):
    from benchmarks.search.runner import landscape
    from benchmarks.search.surrogate import Prefilter

    table = TabularBenchmark(
        {**bench.metadata, "name": "synthetic-search-zc",
         "static": [*bench.metadata["static"], "zc_jacov", "zc_jacov_time"]},
        bench.archs, bench.values,
        np.concatenate([bench.static, bench.static[:, 1:2], np.full((len(bench), 1), 0.25)],
                       axis=1))
    pre = Prefilter(landscape(table), "zc_table", params={"measure": "jacov"}, keep=0.5)
    rng = np.random.default_rng(0)
    pre.apply(list(range(40)), rng)
    pre.apply(list(range(20, 60)), rng)  # 20 rows already scored: charged once
    assert pre.tabulated_s == pytest.approx(60 * 0.25)
    result = run_once(table, SearchSpec(table.name, "rea", queries=20, prefilter="zc_table",
                                        prefilter_params={"measure": "jacov"},
                                        prefilter_keep=1.0, warmup_pool=100), 0)
    assert result.steps[-1].predictor_s >= 100 * 0.25  # the warm-up pool's scores


def test_zero_cost_warmup_starts_from_the_proxys_best(bench):
    if "flops" not in available():
        pytest.skip("flops predictor not registered")
    flops = bench.static_value("flops", np.arange(len(bench)))
    plain = run_once(bench, SearchSpec(bench.name, "rea", queries=20), 0)
    warm_spec = SearchSpec(bench.name, "rea", queries=20, prefilter="flops",
                           prefilter_keep=1.0, warmup_pool=300)
    warm = run_once(bench, warm_spec, 0)
    first = [s.index for s in warm.steps]
    assert min(flops[first]) >= 3, "the warm-up kept a cell the proxy ranks low"
    assert flops[first].mean() > flops[[s.index for s in plain.steps]].mean()
    assert warm_spec.label == "rea/warm:flops@300"
    assert SearchSpec(bench.name, "rea", method_params={"population": 10}).label == \
        "rea/population=10"
    assert "warmup_pool" not in SearchSpec(bench.name, "rea").config()  # old keys unchanged


def test_report_helpers():
    from benchmarks.search.report import median_or_none, queries_to_reach, regret_by_query
    from benchmarks.search.store import Trajectory

    def traj(regret):
        n = len(regret)
        return Trajectory(0, 0, np.arange(n), np.zeros(n), np.zeros(n), np.arange(1.0, n + 1),
                          np.array(regret, float), np.zeros(n))

    t = traj([3.0, 2.0, 0.5, 0.0])
    assert queries_to_reach(t, 0.5) == 3 and queries_to_reach(t, -1) is None
    assert median_or_none([1, 3, None]) == 3 and median_or_none([1, None, None]) is None
    m = regret_by_query([t, traj([1.0])], 5)
    assert m[1].tolist() == [1.0] * 5 and m[0, -1] == 0.0


@pytest.mark.parametrize("acquisition", ["botorch:logei", "botorch:qlognei"])
def test_bo_with_botorch_acquisitions_on_a_gp_finds_the_optimum(bench, acquisition):
    spec = SearchSpec(bench.name, "bo", "gp", 80, predictor_params={"train_iters": 30},
                      method_params={"acquisition": acquisition, "init": 20})
    first = run_once(bench, spec, 0)
    assert found_at(first, optimum_row(bench)) is not None
    assert len({s.index for s in first.steps}) == 80, "a cell was queried twice"
    again = run_once(bench, spec, 0)
    assert [s.index for s in again.steps] == [s.index for s in first.steps]


@pytest.mark.parametrize(
    ("predictor", "acquisition", "message"),
    [(RIDGE, "botorch:qlognei", "gpytorch GP"), ("gp", "botorch:nope", "unknown BoTorch")],
)
def test_botorch_acquisition_setup_errors(bench, predictor, acquisition, message):
    spec = SearchSpec(bench.name, "bo", predictor, 30,
                      method_params={"acquisition": acquisition})
    with pytest.raises(SearchSetupError, match=message):
        run_once(bench, spec, 0)


def test_search_observes_one_run_and_is_judged_by_the_other():
    """With two seeds a search sees seed 0; the independent regret follows its incumbent (the
    first query of the best observed value) into seed 1."""
    from benchmarks.search.oracle import Landscape
    from benchmarks.synthetic import make_synthetic_benchmark

    bench = make_synthetic_benchmark(n=50, seeds=2, epochs=3)
    bench.values[40:, 1] = np.nan  # no second run for the last ten cells
    land = Landscape(bench)
    m = bench.metric_index(bench.objective)
    assert np.allclose(land.values, bench.values[:, 0, -1, m])
    rows = np.array([3, 7, 45, 7, 12])
    observed = bench.values[rows, 0, -1, m]
    best_second = np.nanmax(bench.values[:, 1, -1, m])
    regret = land.independent_regret(rows)
    for i in range(len(rows)):
        incumbent = rows[int(np.argmax(observed[: i + 1]))]
        expected = best_second - bench.values[incumbent, 1, -1, m]
        if incumbent >= 40:
            assert np.isnan(regret[i])
        else:
            assert regret[i] == pytest.approx(expected)
    one_seed = make_synthetic_benchmark(n=20, seeds=1, epochs=3)
    assert Landscape(one_seed).independent_regret(np.array([1, 2])) is None
