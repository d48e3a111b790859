"""Two-objective search: fronts, hypervolume, NSGA-style evolution, multi-objective BO, and a
run killed midway that resumes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.search import SearchSpec, SearchStore, execute, run_once, search_command
from benchmarks.search.oracle import Landscape, SearchSetupError
from benchmarks.search.pareto import (
    Objectives,
    crowding_distance,
    hypervolume_2d,
    nondominated_ranks,
    pareto_mask,
)
from benchmarks.synthetic import make_synthetic_benchmark

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    return make_synthetic_benchmark(n=60, seeds=1, epochs=4, seed=5, name="synthetic-mo")


def test_hypervolume_against_a_hand_computed_value():
    points = np.array([[0.2, 0.9], [0.5, 0.6], [0.8, 0.3], [0.4, 0.4], [0.5, 0.6]])
    # strips from the right: 0.8*0.3 + 0.5*(0.6-0.3) + 0.2*(0.9-0.6); (0.4, 0.4) is dominated
    assert hypervolume_2d(points) == pytest.approx(0.24 + 0.15 + 0.06)
    assert hypervolume_2d(points, ref=(0.1, 0.2)) == pytest.approx(
        0.7 * 0.1 + 0.4 * 0.3 + 0.1 * 0.3)
    assert hypervolume_2d(np.zeros((0, 2))) == 0.0
    assert pareto_mask(points).tolist() == [True, True, True, False, False]


def test_hypervolume_agrees_with_botorch():
    import torch
    from botorch.utils.multi_objective.box_decompositions.dominated import (
        DominatedPartitioning,
    )

    rng = np.random.default_rng(0)
    for _ in range(5):
        points = rng.random((30, 2))
        theirs = DominatedPartitioning(ref_point=torch.zeros(2, dtype=torch.float64),
                                       Y=torch.as_tensor(points)).compute_hypervolume()
        assert hypervolume_2d(points) == pytest.approx(float(theirs), rel=1e-9)


def test_nondominated_sorting_and_crowding():
    points = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.4, 0.4], [0.1, 0.1]])
    assert nondominated_ranks(points).tolist() == [0, 0, 0, 1, 2]
    crowd = crowding_distance(points[:3])
    assert np.isinf(crowd[:2]).all() and crowd[2] == pytest.approx(2.0)


def test_true_front_and_regret(bench):
    land = Landscape(bench)
    objectives = Objectives(land, "params")
    values = objectives.values[land.members]
    assert values.min() == 0.0 and values.max() == 1.0
    front = objectives.true_front
    for row in land.members:  # nothing dominates a front cell
        assert not any((objectives.values[row] >= objectives.values[f]).all()
                       and (objectives.values[row] > objectives.values[f]).any() for f in front)
    everything = run_once(bench, SearchSpec(bench.name, "random", queries=60,
                                            objectives=("params",)), 0)
    regrets = [s.regret for s in everything.steps]
    assert all(b <= a + 1e-12 for a, b in zip(regrets, regrets[1:], strict=False))
    assert regrets[-1] == pytest.approx(0.0, abs=1e-12)  # every cell queried: the true front
    assert everything.steps[-1].best == pytest.approx(objectives.true_hv)


@pytest.mark.parametrize("method,params", [
    ("nsga", {}),
    ("mobo", {"init": 6, "k": 4, "mutations": 10, "random": 4, "mc_samples": 8}),
    ("mobo", {"init": 6, "k": 4, "mutations": 10, "random": 4, "mc_samples": 8,
              "hvi": "qnehvi"}),
])
def test_multi_objective_methods_beat_nothing_and_repeat(bench, method, params):
    queries = 20 if method == "nsga" else 14
    spec = SearchSpec(bench.name, method, queries=queries, method_params=params,
                      objectives=("test_acc" if method == "nsga" else "flops",))
    a, b = run_once(bench, spec, 0), run_once(bench, spec, 0)
    assert [s.index for s in a.steps] == [s.index for s in b.steps]
    assert len({s.index for s in a.steps}) == queries
    assert a.steps[-1].regret < a.steps[0].regret
    if method == "mobo":
        assert a.steps[-1].predictor_s > 0


@pytest.mark.parametrize("spec,match", [
    (dict(method="rea", objectives=("params",)), "searches one objective"),
    (dict(method="nsga"), "pass --objectives"),
    (dict(method="nsga", objectives=("epoch_time",)), "no objective"),
    (dict(method="nsga", objectives=("val_acc",)), "search's own metric"),
    (dict(method="mobo", objectives=("params",), method_params={"hvi": "ehvi"}), "hvi"),
    (dict(method="nsga", objectives=("params", "flops")), "one objective beside"),
])
def test_multi_objective_setup_errors(bench, tmp_path, spec, match):
    with pytest.raises(SearchSetupError, match=match):
        with SearchStore(tmp_path / "s.db") as db:
            execute(SearchSpec(bench.name, queries=10, **spec), 1, db, bench=bench)


KILL_SCRIPT = """
import os, signal, sys
import benchmarks.search.pareto as pareto
from benchmarks.search import SearchSpec, SearchStore, execute
from benchmarks.tabular import load_benchmark

bench = load_benchmark(sys.argv[1])
done = []
original = pareto.ParetoOracle.query

def query(self, index):
    if len(done) == 1 and self.n == 15:  # midway through the second run
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, index)

pareto.ParetoOracle.query = query
spec = SearchSpec(bench.name, "nsga", queries=30, objectives=("params",))
with SearchStore(sys.argv[2]) as db:
    execute(spec, 3, db, bench=bench, on_run=done.append)
"""


def test_multi_objective_search_killed_midway_resumes(tmp_path):
    bench = make_synthetic_benchmark(n=60, seeds=1, epochs=4, seed=5, name="synthetic-mo")
    bench.save(tmp_path / "bench")
    script = tmp_path / "killed.py"
    script.write_text(KILL_SCRIPT)
    db_path = tmp_path / "killed.db"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "bench"), str(db_path)],
                          env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT run_index FROM search_runs").fetchall() == [(0,)]
        assert conn.execute("SELECT COUNT(*) FROM search_steps WHERE run_index=1"
                            ).fetchone() == (0,)
    spec = SearchSpec(bench.name, "nsga", queries=30, objectives=("params",))
    resumed: list[int] = []
    with SearchStore(db_path) as db:
        after = db.trajectories(execute(spec, 3, db, bench=bench,
                                        on_run=lambda r: resumed.append(r.run_index)))
    assert resumed == [1, 2]
    with SearchStore(tmp_path / "clean.db") as db:
        clean = db.trajectories(execute(spec, 3, db, bench=bench))
    for x, y in zip(after, clean, strict=True):
        assert x.arch_index.tolist() == y.arch_index.tolist()
        assert x.regret.tolist() == y.regret.tolist()


def test_search_command_writes_the_pareto_report(bench, tmp_path):
    bench.save(tmp_path / "bench")
    paths = search_command(benchmark=str(tmp_path / "bench"), method="random,nsga", runs=2,
                           queries=20, store=tmp_path / "s.db", out=tmp_path / "out",
                           objectives="params", task_timeout=0)
    names = sorted(p.name for p in paths)
    assert names == ["synthetic-mo-val_acc-vs-params-fronts.png",
                     "synthetic-mo-val_acc-vs-params-hv-regret.png",
                     "synthetic-mo-val_acc-vs-params-hv-table.md"]
    table = (tmp_path / "out" / names[2]).read_text()
    assert "random/vs:params (n=2)" in table and "nsga/vs:params (n=2)" in table
