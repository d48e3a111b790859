"""Mutation test sets: spec, edit distances, parents, disjointness, records, CLI and analysis."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import benchmarks.tabular as tabular
from benchmarks.analyses.mutation_tau import side_by_side
from benchmarks.cli import app
from benchmarks.contexts import TaskError
from benchmarks.harness import EvalTask, evaluate, seed_from
from benchmarks.mutations import Mutations, canonical, parse
from benchmarks.protocol import check_protocol, make_split, runs_present
from benchmarks.store import ResultStore
from benchmarks.synthetic import make_synthetic_benchmark, write_synthetic_benchmark

SPEC = "mutations:d=1,2:top=0.01"
runner = CliRunner()


@pytest.fixture(scope="module")
def dense_dir(tmp_path_factory):
    """2,000 of the 15,625 cells, two seeds: enough neighbours of the top cells to test on."""
    return write_synthetic_benchmark(tmp_path_factory.mktemp("dense") / "synthetic-dense",
                                     n=2000, seeds=2, epochs=4, name="synthetic-dense")


@pytest.fixture(scope="module")
def dense(dense_dir):
    return tabular.load_benchmark(dense_dir)


def hamming(a, b) -> int:
    return sum(x != y for x, y in zip(a.spec, b.spec, strict=True))


def parent_rows(bench, top: float) -> list[int]:
    """Top cells by mean final value and every cell sharing their canonical form."""
    final = bench.final()
    finite = [i for i in range(len(bench.archs)) if np.isfinite(final[i])]
    n_top = math.ceil(round(top * len(finite), 9))
    best = sorted(finite, key=lambda i: -final[i])[:n_top]
    keys = bench.canonical_keys
    forms = {keys[i] for i in best}
    return [i for i in finite if keys[i] in forms]


def split_of(bench, task: EvalTask, unlabeled: int = 0):
    rng = np.random.default_rng(seed_from(task.split_key()))
    return make_split(bench, task.train_size, task.test_size, unlabeled, rng,
                      labels=task.labels, distribution=task.test_distribution)


def test_spec_has_one_spelling_and_refuses_bad_ones():
    assert canonical("mutations") == SPEC
    assert canonical("mutations:top=0.05:d=2,1") == "mutations:d=1,2:top=0.05"
    assert canonical("forms") == "forms"
    assert parse("mutations:d=3").distances == (3,)
    for bad, fragment in (("mutations:d=0", "at least 1"), ("mutations:top=2", "fraction"),
                          ("mutations:d=x", "'d=x'"), ("mutations:k=1", "'k=1'"),
                          ("mutationsx", "unknown test distribution")):
        with pytest.raises(TaskError, match=fragment):
            check_protocol("independent", bad)


def test_distance_one_is_one_step_of_the_space(dense):
    """An edit distance of 1 is exactly one ``NB201Space.neighbours`` step."""
    found = Mutations.of(dense, dense.objective, parse(SPEC))
    parent = dense.archs[found.top_cells[0]]
    neighbours = {a for a in dense.space.neighbours(parent)}
    rows = np.arange(len(dense.archs))
    from benchmarks.mutations import edit_distances

    dist = edit_distances(dense, [found.top_cells[0]], rows)[0]
    assert {dense.archs[i] for i in rows[dist == 1]} == neighbours & set(dense.archs)
    assert all(dist[i] == hamming(parent, dense.archs[i]) for i in range(0, 2000, 97))


@pytest.mark.parametrize("distribution", [SPEC, "mutations:d=1:top=0.02"])
def test_mutation_test_set_distances_parents_and_disjointness(dense_dir, dense, distribution):
    spec = parse(distribution)
    parents = parent_rows(dense, spec.top)
    keys = dense.canonical_keys
    parent_forms = {keys[i] for i in parents}
    base = EvalTask(benchmark=str(dense_dir), predictor="example-ridge", test_size=40,
                    test_distribution=distribution)
    splits = {n: split_of(dense, dataclasses.replace(base, train_size=n), unlabeled=20)
              for n in (10, 60)}
    split = splits[60]
    assert list(splits[10].test) == list(split.test)          # one test set per trial
    assert list(splits[10].train) == list(split.train[:10])  # nested train sets
    for i in split.test:
        nearest = min(hamming(dense.archs[i], dense.archs[p]) for p in parents)
        assert nearest in spec.distances
        assert keys[i] not in parent_forms                   # parents are never tested
    test_forms = [keys[i] for i in split.test]
    assert len(set(test_forms)) == len(test_forms) == 40
    assert not set(test_forms) & {keys[i] for i in (*split.train, *split.unlabeled)}
    assert runs_present(dense, dense.objective)[split.test].sum(axis=1).min() >= 2
    other = split_of(dense, dataclasses.replace(base, train_size=60, trial=1))
    assert set(other.test) != set(split.test)


def test_records_carry_the_distances_and_the_pool(dense_dir, dense):
    task = EvalTask(benchmark=str(dense_dir), predictor="example-ridge", train_size=30,
                    test_size=40, test_distribution=SPEC)
    record = evaluate(task, device="cpu")
    split = split_of(dense, task)
    parents = parent_rows(dense, 0.01)
    nearest = [min(hamming(dense.archs[i], dense.archs[p]) for p in parents) for i in split.test]
    assert record["test_distribution"] == SPEC and record["status"] == "ok"
    assert record["test_parent_distance"] == pytest.approx(np.mean(nearest))
    assert record["mutation_parents"] == 20
    pairs = [hamming(dense.archs[a], dense.archs[b]) for k, a in enumerate(split.test)
             for b in split.test[k + 1:]]
    assert record["test_pairwise_distance"] == pytest.approx(np.mean(pairs))
    uniform = evaluate(dataclasses.replace(task, test_distribution="cells"), device="cpu")
    assert uniform["test_parent_distance"] is None and uniform["mutation_parents"] is None
    assert uniform["n_test_pool"] > record["n_test_pool"]


def test_small_pool_names_its_size_and_the_fix():
    bench = make_synthetic_benchmark(n=300, seeds=2, epochs=4)
    found = Mutations.of(bench, bench.objective, parse(SPEC))
    n_forms = len({bench.canonical_keys[i] for i in found.pool(bench, np.arange(300))})
    with pytest.raises(TaskError, match=f"lower --test-size to at most {n_forms}"):
        make_split(bench, 10, n_forms + 1, 0, np.random.default_rng(0), labels="same-run",
                   distribution=SPEC)
    split = make_split(bench, 10, n_forms, 0, np.random.default_rng(0), labels="same-run",
                       distribution=SPEC)
    assert split.pool_size == len(found.pool(bench, np.arange(300)))


def test_default_task_keys_are_unchanged():
    """Records stored before mutation test sets keep their keys."""
    assert EvalTask(benchmark="b", predictor="p").key() == "7e9c659ba3de98fc7b345865"


@pytest.fixture()
def dense_by_name(dense_dir, monkeypatch):
    monkeypatch.setattr(tabular, "data_dirs", lambda: [dense_dir.parent])
    monkeypatch.setenv(tabular.DATA_PATH_ENV, str(dense_dir.parent))


@pytest.mark.parametrize("args, fragment", [
    (("run", "-b", "synthetic-dense", "-p", "example-ridge", "--test-distribution",
      "mutations:top=0"), "fraction"),
    (("run", "-b", "synthetic-dense", "-p", "example-ridge", "--test-distribution",
      "mutations:d=1:top=0.001", "--test-size", "50"), "lower --test-size"),
    (("analyze", "mutation-tau", "-b", "synthetic-dense", "--predictors", "example-ridge",
      "--mutations", "cells"), "--mutations"),
])
def test_bad_mutation_options_are_one_line(dense_by_name, tmp_path, args, fragment):
    result = runner.invoke(app, [*args, "--store" if args[0] == "run" else "--out",
                                 str(tmp_path / ("r.db" if args[0] == "run" else "o"))])
    assert result.exit_code == 2, result.output
    assert fragment in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_analysis_runs_both_distributions_and_resumes(dense_by_name, tmp_path):
    args = ["analyze", "mutation-tau", "-b", "synthetic-dense", "--predictors",
            "example-ridge,example-last-epoch", "--trials", "2", "--test-size", "30",
            "--train-sizes", "20", "--fidelities", "2",
            "--mutations", "mutations:d=1,2:top=0.01", "--task-timeout", "0",
            "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = (tmp_path / "mutation_tau_mutations-d1-2-top0.01.csv").read_text()
    assert "example-ridge" in table and "example-last-epoch" in table
    assert (tmp_path / "mutation_tau_mutations-d1-2-top0.01.png").stat().st_size > 0
    with ResultStore(tmp_path / "mutation.db") as store:
        frame = store.to_frame()
        created = sorted(frame["key"])
    assert sorted(frame["test_distribution"].unique()) == ["cells", SPEC]
    assert len(created) == 2 * 2 * 2
    assert runner.invoke(app, args).exit_code == 0
    with ResultStore(tmp_path / "mutation.db") as store:
        assert sorted(store.to_frame()["key"]) == created  # resumed: nothing ran twice


def test_side_by_side_pairs_trials():
    import pandas as pd

    rows = []
    for trial, (u, m) in enumerate([(0.5, 0.3), (0.6, 0.35), (0.55, 0.32)]):
        for dist, tau in (("cells", u), (SPEC, m)):
            rows.append({"name": "x", "family": "model_based", "train_size": 10, "fidelity": 0,
                         "trial": trial, "test_distribution": dist, "kendall": tau,
                         "noise_ceiling_kendall": np.nan, "test_pairwise_distance": 4.0,
                         "test_parent_distance": 1.5 if dist == SPEC else np.nan,
                         "n_test_pool": 100})
    table = side_by_side(pd.DataFrame(rows))
    row = table.iloc[0]
    assert row["diff"] == pytest.approx(np.mean([-0.2, -0.25, -0.23]))
    assert row["diff_high"] < 0 and row["trials"] == 3
    assert row["ratio"] == pytest.approx(row["mutation_kendall"] / row["uniform_kendall"])
    weak = pd.DataFrame(rows).assign(kendall=lambda f: f["kendall"] - 0.5)
    assert np.isnan(side_by_side(weak).iloc[0]["ratio"])  # no ratio of a near-zero tau


def test_plot_titles_name_the_mutation_spec():
    from benchmarks.plots import _protocol_title

    title = _protocol_title("b", "independent", SPEC, "")
    assert "test: mutations at edit distance 1,2 of the top 1%" in title
    assert "uniform over forms" in _protocol_title("b", "independent", "forms", "")
