"""The evaluation protocol: paired nested splits, independent-seed labels, test distributions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.contexts import TaskError
from benchmarks.harness import EvalTask, evaluate, seed_from
from benchmarks.protocol import make_split, runs_present, unique_count
from benchmarks.synthetic import make_synthetic_benchmark, write_synthetic_benchmark


@pytest.fixture(scope="module")
def two_seed_dir(tmp_path_factory):
    return write_synthetic_benchmark(tmp_path_factory.mktemp("two-seed"), n=260, seeds=2,
                                     epochs=6)


def split_of(bench, task: EvalTask, unlabeled: int = 0):
    rng = np.random.default_rng(seed_from(task.split_key()))
    return make_split(bench, task.train_size, task.test_size, unlabeled, rng,
                      labels=task.labels, distribution=task.test_distribution)


def test_one_test_set_per_trial_and_nested_train_sets(two_seed_dir):
    bench = make_synthetic_benchmark(n=260, seeds=2, epochs=6)
    base = EvalTask(benchmark=str(two_seed_dir), predictor="example-ridge", test_size=50)
    splits = {n: split_of(bench, dataclasses.replace(base, train_size=n)) for n in (5, 24, 121)}
    tests = {tuple(s.test) for s in splits.values()}
    assert len(tests) == 1
    assert list(splits[5].train) == list(splits[24].train[:5])
    assert list(splits[24].train) == list(splits[121].train[:24])
    other_trial = split_of(bench, dataclasses.replace(base, train_size=24, trial=1))
    assert set(other_trial.test) != set(splits[24].test)

    records = [evaluate(dataclasses.replace(base, **kw), device="cpu") for kw in (
        {"train_size": 24}, {"train_size": 121},
        {"predictor": "example-last-epoch", "fidelity": 2},
        {"predictor": "example-last-epoch", "fidelity": 5})]
    assert len({r["test_set_id"] for r in records}) == 1
    assert all(r["label_source"] == "other-seed" for r in records)
    trial1 = evaluate(dataclasses.replace(base, train_size=24, trial=1), device="cpu")
    assert trial1["test_set_id"] != records[0]["test_set_id"]


def test_reading_the_labels_run_scores_one_only_under_same_run(two_seed_dir):
    """Labels equal the last point of the curve read under ``same-run``: a predictor reading that
    point is perfect there, and lands on the seed-to-seed ceiling under independent labels."""
    task = EvalTask(benchmark=str(two_seed_dir), predictor="example-last-epoch", fidelity=6,
                    test_size=80)
    old = evaluate(dataclasses.replace(task, labels="same-run"), device="cpu")
    new = evaluate(task, device="cpu")
    assert old["kendall"] == pytest.approx(1.0)
    assert old["label_source"] == "same-run" and old["noise_ceiling_kendall"] is None
    assert new["label_source"] == "other-seed" and new["curve_seed"] in (0, 1)
    assert new["kendall"] == pytest.approx(new["seed_to_seed_kendall"])
    assert 0.3 < new["kendall"] < 0.95
    # A perfect predictor of the expected score beats one run's noisy final value.
    assert new["seed_to_seed_kendall"] < new["noise_ceiling_kendall"] < 1


def test_independent_labels_are_the_other_runs(two_seed_dir):
    bench = make_synthetic_benchmark(n=260, seeds=2, epochs=6)
    task = EvalTask(benchmark=str(two_seed_dir), predictor="example-ridge", train_size=30,
                    test_size=40)
    split = split_of(bench, task)
    m = bench.metric_index(bench.objective)
    other = 1 - split.test_runs
    assert np.all(split.test_runs == split.curve_seed)
    assert np.allclose(split.test_labels, bench.values[split.test, other, -1, m])
    # Training pairs come from one run per architecture.
    assert np.allclose(split.train_labels, bench.values[split.train, split.train_runs, -1, m])
    curve_seeds = {split_of(bench, dataclasses.replace(task, trial=t)).curve_seed
                   for t in range(8)}
    assert curve_seeds == {0, 1}  # the run read varies with the trial


def test_test_pool_is_the_architectures_with_two_runs():
    bench = make_synthetic_benchmark(n=260, seeds=2, epochs=6)
    bench.values[100:, 1] = np.nan  # a second seed for the first 100 cells only
    split = make_split(bench, 60, 50, 0, np.random.default_rng(0))
    assert runs_present(bench, bench.objective)[split.test].all()
    assert split.pool_size == 100
    assert not runs_present(bench, bench.objective)[split.train, 1].all()  # train uses all
    with pytest.raises(TaskError, match="--labels same-run"):
        make_split(bench, 0, 120, 0, np.random.default_rng(0))
    same = make_split(bench, 0, 120, 0, np.random.default_rng(0), labels="same-run")
    assert same.label_source == "same-run" and len(same.test) == 120


def test_one_seed_benchmark_says_same_run():
    bench = make_synthetic_benchmark(n=120, seeds=1, epochs=6)
    split = make_split(bench, 10, 30, 0, np.random.default_rng(0))
    assert split.label_source == "same-run" and split.noise_ceiling is None


@pytest.mark.parametrize("distribution", ["cells", "forms"])
def test_test_distributions_hold_one_cell_per_form(distribution):
    bench = make_synthetic_benchmark(n=260, seeds=2, epochs=6)
    keys = bench.canonical_keys
    n_unique = unique_count(bench)
    split = make_split(bench, n_unique - 60, 60, 0, np.random.default_rng(3),
                       distribution=distribution)
    test_forms = [keys[i] for i in split.test]
    assert len(set(test_forms)) == 60
    assert not set(test_forms) & {keys[i] for i in split.train}
    assert split.distribution == distribution


def test_forms_distribution_weighs_forms_equally():
    """On a space with many isomorphic copies, uniform over cells favours forms with many
    copies; uniform over forms does not."""
    bench = make_synthetic_benchmark(n=600, seeds=1, epochs=3)
    keys = bench.canonical_keys
    copies: dict = {}
    for k in keys:
        copies[k] = copies.get(k, 0) + 1
    if max(copies.values()) == 1:
        pytest.skip("no isomorphic copies among these synthetic cells")

    def mean_copies(distribution: str) -> float:
        means = []
        for seed in range(30):
            split = make_split(bench, 0, 20, 0, np.random.default_rng(seed),
                               distribution=distribution)
            means.append(np.mean([copies[keys[i]] for i in split.test]))
        return float(np.mean(means))

    assert mean_copies("cells") > mean_copies("forms")


def test_unknown_protocol_options_are_refused(two_seed_dir):
    with pytest.raises(TaskError, match="label mode"):
        evaluate(EvalTask(benchmark=str(two_seed_dir), predictor="example-ridge", train_size=10,
                          labels="cheat"), device="cpu")
    with pytest.raises(TaskError, match="test distribution"):
        evaluate(EvalTask(benchmark=str(two_seed_dir), predictor="example-ridge", train_size=10,
                          test_distribution="best"), device="cpu")
