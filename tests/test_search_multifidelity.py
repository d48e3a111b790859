"""Multi-fidelity search: partial training charged by the epoch, successive halving's rule,
Hyperband's brackets, BOHB-style proposals and predictor-guided early stopping."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.search import SearchSpec, SearchStore, execute, run_once, search_command
from benchmarks.search.context import RunContext
from benchmarks.search.fidelity import FidelityOracle
from benchmarks.search.multifidelity import bracket_sizes, promote, run_bracket, rung_epochs
from benchmarks.search.oracle import BudgetExhausted, Landscape, SearchSetupError
from benchmarks.search.report import independent_regret
from benchmarks.snapshot import dump, restore
from benchmarks.synthetic import make_synthetic_benchmark


@pytest.fixture(scope="module")
def bench():
    return make_synthetic_benchmark(n=80, seeds=2, epochs=8, seed=3, name="synthetic-mf")


def oracle_of(bench, time_budget=None, queries=80) -> FidelityOracle:
    return FidelityOracle(Landscape(bench), queries, time_budget)


def curve(bench, row: int, epoch: int) -> float:
    return float(bench.values[row, 0, epoch - 1, bench.metric_index("val_acc")])


def test_rungs_and_hyperband_brackets():
    assert rung_epochs(8, 2) == [1, 2, 4, 8]
    assert rung_epochs(8, 3) == [1, 3, 8]
    assert rung_epochs(8, 2, min_epoch=3) == [3, 6, 8]
    assert bracket_sizes([1, 2, 4, 8], 2) == [(8, [1, 2, 4, 8]), (6, [2, 4, 8]), (4, [4, 8]),
                                              (4, [8])]
    with pytest.raises(SearchSetupError, match="eta"):
        rung_epochs(8, 1)
    assert promote([5, 6, 7, 8, 9], np.array([1.0, 3.0, 2.0, 3.0, 0.0]), 2) == [6, 8]


def test_successive_halving_promotes_the_best_and_charges_the_epochs_run(bench):
    oracle = oracle_of(bench)
    rows = [int(r) for r in np.random.default_rng(0).choice(len(bench), 16, replace=False)]
    survivors = run_bracket(RunContext(oracle, np.random.default_rng(1)), rows, [1, 2, 4, 8],
                            eta=2)
    alive, expected_epochs = list(rows), {}
    for epoch, keep in ((1, 8), (2, 4), (4, 2)):
        for r in alive:
            expected_epochs[r] = epoch
        order = sorted(alive, key=lambda r: -curve(bench, r, epoch))  # by the rule, by hand
        alive = order[:keep]
    for r in alive:
        expected_epochs[r] = 8
    assert sorted(survivors) == sorted(alive)
    assert oracle.paid == expected_epochs
    per_epoch = bench.epoch_cost(np.arange(len(bench)))
    charged = sum(per_epoch[r] * e for r, e in expected_epochs.items())
    assert oracle.sim_time == pytest.approx(charged, rel=1e-12)
    assert len(oracle.steps) == 16 + 8 + 4 + 2
    # the incumbent is the best of the two fully trained cells, its final value recorded
    best = max(alive, key=lambda r: curve(bench, r, 8))
    assert oracle.steps[-1].incumbent == best
    assert oracle.steps[-1].regret == pytest.approx(
        oracle.land.best_score - oracle.land.scores[best])


def test_continuing_a_cell_pays_only_the_further_epochs(bench):
    oracle = oracle_of(bench)
    cost = float(bench.epoch_cost([7])[0])
    assert oracle.train(7, 2) == curve(bench, 7, 2)
    assert oracle.sim_time == pytest.approx(2 * cost)
    assert oracle.train(7, 5) == curve(bench, 7, 5)
    assert oracle.sim_time == pytest.approx(5 * cost)
    assert oracle.train(7, 3) == curve(bench, 7, 3)  # already trained that far: free
    assert oracle.sim_time == pytest.approx(5 * cost) and len(oracle.steps) == 2
    assert oracle.query(7) == oracle.land.scores[7]  # a full query is training to the end
    assert oracle.sim_time == pytest.approx(8 * cost)


def test_partial_training_stops_before_the_budget(bench):
    cost = float(bench.epoch_cost([3])[0])
    oracle = oracle_of(bench, time_budget=3.5 * cost)
    oracle.train(3, 3)
    with pytest.raises(BudgetExhausted):
        oracle.train(3, 4)
    assert oracle.sim_time == pytest.approx(3 * cost) and oracle.paid == {3: 3}
    capped = oracle_of(bench, queries=1)
    capped.train(1, 1)
    capped.train(1, 2)  # the same cell again: not a new query
    with pytest.raises(BudgetExhausted):
        capped.train(2, 1)


def test_incumbent_is_the_best_at_the_highest_fidelity(bench):
    oracle = oracle_of(bench)
    low, high = sorted(range(4), key=lambda r: curve(bench, r, 2))[:2]
    oracle.train(high, 2)
    oracle.train(low, 2)
    assert oracle.incumbent == high
    oracle.train(low, 3)  # a higher fidelity wins whatever its value
    assert oracle.incumbent == low


def test_a_benchmark_without_curves_is_refused():
    flat = make_synthetic_benchmark(n=30, epochs=1, name="synthetic-flat")
    with pytest.raises(SearchSetupError, match="no learning curves"):
        run_once(flat, SearchSpec(flat.name, "sh", queries=30, time_budget=100.0), 0)


@pytest.mark.parametrize("method,predictor,params", [
    ("sh", None, {}),
    ("hyperband", None, {"eta": 3}),
    ("bohb", "xgb", {"min_points": 5}),
    ("early_stop", "sotle", {}),
    ("early_stop", "lcsvr", {"min_labels": 4}),
])
def test_methods_run_within_budget_and_are_stored(bench, tmp_path, method, predictor, params):
    budget = float(bench.train_cost(np.arange(len(bench))).mean()) * 20
    pp = {"lcsvr": {"n_iter": 2}, "xgb": {"num_boost_round": 20}}.get(predictor or "", {})
    spec = SearchSpec(bench.name, method, predictor, queries=80, time_budget=budget,
                      method_params=params, predictor_params=pp)
    first = run_once(bench, spec, 0)
    assert first.steps[-1].sim_time <= budget
    assert [s.index for s in run_once(bench, spec, 0).steps] == [s.index for s in first.steps]
    assert max(s.epoch for s in first.steps) == bench.epochs
    if predictor == "lcsvr":
        assert first.steps[-1].predictor_s > 0
    with SearchStore(tmp_path / "s.db") as db:
        key = execute(spec, 2, db, bench=bench)
        (traj, _) = db.trajectories(key)
    assert traj.epoch.tolist() == [s.epoch for s in first.steps]
    assert traj.incumbent.tolist() == [s.incumbent for s in first.steps]
    land = Landscape(bench)
    assert independent_regret(land, traj).tolist() == pytest.approx(
        (land.independent.max() - land.independent[traj.incumbent]).tolist())
    snap, counts = dump(tmp_path / "s.db")
    assert counts["search_fidelity"] == sum(len(t.epoch) for t in [traj]) + len(
        run_once(bench, spec, 1).steps)
    _, added = restore(snap, tmp_path / "copy.db")
    assert added["search_fidelity"] == counts["search_fidelity"]


def test_early_stopping_refuses_a_predictor_without_curves(bench, tmp_path):
    spec = SearchSpec(bench.name, "early_stop", "xgb", queries=40, time_budget=1000.0)
    with pytest.raises(SearchSetupError, match="reads no learning curves"):
        with SearchStore(tmp_path / "s.db") as db:
            execute(spec, 1, db, bench=bench)


def test_search_command_writes_the_time_report(bench, tmp_path):
    bench.save(tmp_path / "bench")
    budget = float(bench.train_cost(np.arange(len(bench))).mean()) * 15
    paths = search_command(benchmark=str(tmp_path / "bench"), method="random,sh", runs=3,
                           queries=80, time_budget=budget, store=tmp_path / "s.db",
                           out=tmp_path / "out", task_timeout=0)
    names = sorted(p.name for p in paths)
    assert "synthetic-mf-time-table.md" in names and "synthetic-mf-time-regret.png" in names
    table = (tmp_path / "out" / "synthetic-mf-time-table.md").read_text()
    assert "| sh (n=3) |" in table and "second training seed" in table
    # the query-budget report holds the full-fidelity configuration only
    assert "sh" not in (tmp_path / "out" / "synthetic-mf-search-table.csv").read_text()
