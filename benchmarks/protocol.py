"""The evaluation protocol: which architectures a trial tests on, and which run gives what.

One trial fixes one :class:`Split` for every predictor, train size and fidelity (the split seed
hashes neither): the test set is the same, and train sets are nested prefixes of one order (the
24 labeled architectures are part of the 121, which are part of the 589).

**Test distribution** (``distribution``): ``"cells"`` draws test architectures uniformly over the
benchmark's cells, as the study samples its search spaces (a canonical form is drawn in proportion
to its isomorphic copies); ``"forms"`` draws uniformly over canonical forms; ``"mutations"``
(``mutations:d=1,2:top=0.01``) draws the test set from the benchmark's cells within the given edit
distances of its top cells, parents excluded (``benchmarks.mutations``), and the train order as
``"cells"`` does. Either way the test set holds one cell per form and no train or unlabeled cell
shares a test form. On NB201 benchmarks each record carries the test set's mean pairwise edit
distance (``test_pairwise_distance``) and, for mutations, its mean distance to the nearest parent
(``test_parent_distance``) and the number of top cells (``mutation_parents``).

**Labels** (``labels``): on a benchmark with learning curves and two or more training seeds,
``"independent"`` (the default) reads each test architecture's partial curve from one run (the
trial's *curve seed*) and judges every predictor against the mean final value of the *other*
runs, so a learning-curve predictor never reads the run that made its label. The test pool is
then the architectures with at least two runs. Training data (labels and curves of the labeled
architectures) come from one run each, as a practitioner has them. ``"same-run"`` keeps the
study's setting (curves of seed 0, labels the mean over the seeds present, so for single-seed
architectures the label is the last point of the curve read). The record's ``label_source`` says
which applied: ``other-seed``, ``same-run`` (asked for, or only one seed exists) or
``no-curves`` (a benchmark of final values, where nothing reads a run's curve; labels are the
mean over seeds).

Under ``other-seed`` each record also carries the test set's ``seed_to_seed_kendall`` (the tau
of the curve run's own final value against the labels: what reading a complete run reaches) and
``noise_ceiling_kendall`` (what a perfect predictor of the expected score reaches against labels
this noisy, ``benchmarks.statistics.label_ceiling``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from benchmarks.contexts import Split, TaskError, oriented
from benchmarks.mutations import Mutations, is_mutations, mean_pairwise_distance, parse
from benchmarks.statistics import label_ceiling
from benchmarks.tabular import TabularBenchmark
from predictors.ranking import kendall_tau

#: Where labels come from relative to the curves read (``EvalTask.labels``).
LABEL_MODES = ("independent", "same-run")
#: How test (and train) architectures are drawn (``EvalTask.test_distribution``); a mutation
#: spec (``benchmarks.mutations``) is accepted besides.
DISTRIBUTIONS = ("cells", "forms")
OTHER_SEED, SAME_RUN, NO_CURVES = "other-seed", "same-run", "no-curves"


def check_protocol(labels: str, distribution: str) -> None:
    """Raise ``TaskError`` for an unknown label mode or test distribution."""
    if labels not in LABEL_MODES:
        raise TaskError(f"unknown label mode {labels!r}; use one of {', '.join(LABEL_MODES)}")
    if is_mutations(distribution):
        parse(distribution)
    elif distribution not in DISTRIBUTIONS:
        raise TaskError(f"unknown test distribution {distribution!r}; use one of "
                        f"{', '.join(DISTRIBUTIONS)} or mutations[:d=1,2][:top=0.01]")


def describe_distribution(distribution: str) -> str:
    """Words for titles: ``uniform over forms``, ``mutations at edit distance 1,2 of the top
    1%``."""
    if is_mutations(distribution):
        return parse(distribution).describe()
    return f"uniform over {distribution}"


def runs_present(bench: TabularBenchmark, metric: str) -> np.ndarray:
    """``[arch, seed]``: whether that run has a final value of ``metric``."""
    return np.isfinite(bench.values[:, :, -1, bench.metric_index(metric)])


def label_source(bench: TabularBenchmark, metric: str, labels: str = "independent") -> str:
    """Which labels an evaluation under ``labels`` gets on ``bench`` (see the module doc)."""
    if not bench.has_curves:
        return NO_CURVES
    if labels == "same-run" or runs_present(bench, metric).sum(axis=1).max(initial=0) < 2:
        return SAME_RUN
    return OTHER_SEED


def test_pool(bench: TabularBenchmark, metric: str, source: str) -> np.ndarray:
    """Rows that may be tested: two or more runs under ``other-seed``, else any final value."""
    counts = runs_present(bench, metric).sum(axis=1)
    return np.flatnonzero(counts >= (2 if source == OTHER_SEED else 1))


def unique_count(bench: TabularBenchmark, metric: str | None = None,
                 rows: np.ndarray | None = None) -> int:
    """Distinct canonical forms among ``rows`` (default: architectures with a final value)."""
    if rows is None:
        rows = np.flatnonzero(np.isfinite(bench.final(metric or bench.objective)))
    keys = bench.canonical_keys
    return len({keys[i] for i in rows})


def check_sizes(bench: TabularBenchmark, train_size: int, test_size: int,
                metric: str | None = None, labels: str = "independent",
                distribution: str = "cells") -> int:
    """Raise ``TaskError`` unless the test set fits the test pool (and, for mutations, the
    mutation pool) and train + test fit the unique architectures; return the number of unique
    architectures."""
    metric = metric or bench.objective
    n_unique = unique_count(bench, metric)
    if train_size < 0 or test_size < 2:
        raise TaskError(f"train size must be >= 0 and test size >= 2 (got {train_size}, "
                        f"{test_size})")
    source = label_source(bench, metric, labels)
    if source == OTHER_SEED:
        n_pool = unique_count(bench, metric, test_pool(bench, metric, source))
        if test_size > n_pool:
            raise TaskError(
                f"test size {test_size} exceeds the {n_pool} architectures of benchmark "
                f"{bench.name!r} trained with two or more seeds (test labels come from a run "
                f"other than the curve read); lower --test-size to at most {n_pool}, or pass "
                "--labels same-run to test on every architecture as the study did")
    if train_size + test_size > n_unique:
        raise TaskError(
            f"train size {train_size} + test size {test_size} = {train_size + test_size} exceeds "
            f"the {n_unique} unique architectures of benchmark {bench.name!r}; lower --train-size "
            f"(at most {max(n_unique - test_size, 0)} with this test size) or --test-size"
        )
    if is_mutations(distribution):
        Mutations.of(bench, metric, parse(distribution)).check_pool(
            bench, test_pool(bench, metric, source), test_size, source == OTHER_SEED)
    return n_unique


def _order(bench: TabularBenchmark, rows: np.ndarray, rng: np.random.Generator,
           distribution: str) -> list[int]:
    """``rows`` in random order, one per canonical form: uniform over cells (a form's place is
    that of its first copy in a random permutation) or uniform over forms."""
    keys = bench.canonical_keys
    first: dict[Hashable, int] = {}
    for i in rng.permutation(rows):
        first.setdefault(keys[i], int(i))
    reps = list(first.values())
    if distribution == "forms":
        reps = [reps[j] for j in rng.permutation(len(reps))]
    return reps


def _run_of(present: np.ndarray, rows: np.ndarray, preferred: int) -> np.ndarray:
    """Per row: ``preferred`` where that run exists, else the row's first run."""
    sub = present[rows]
    return np.where(sub[:, preferred], preferred, np.argmax(sub, axis=1))


def _mean_of_others(last: np.ndarray, rows: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """Per row: the mean final value over its runs other than ``exclude`` (``last``:
    ``[arch, seed]`` final values)."""
    values = last[rows].astype(float)
    values[np.arange(len(rows)), exclude] = np.nan
    return np.nanmean(values, axis=1)


def test_set_id(bench: TabularBenchmark, metric: str, split: Split) -> str:
    """A short identifier of a trial's test set and its labels' source."""
    text = f"{bench.name}|{metric}|{split.label_source}|{split.curve_seed}|" + ",".join(
        map(str, split.test.tolist()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_split(bench: TabularBenchmark, train_size: int, test_size: int, unlabeled_size: int,
               rng: np.random.Generator, metric: str | None = None, *,
               labels: str = "independent", distribution: str = "cells") -> Split:
    """One trial's split: the test set, the first ``train_size`` of the trial's train order,
    the next ``unlabeled_size`` as unlabeled, with the runs and labels each side reads.

    The result depends on ``rng``, the pool and the distribution only, never on the sizes asked
    for beyond taking prefixes: splits of one trial are paired and nested.
    """
    metric = metric or bench.objective
    check_protocol(labels, distribution)
    check_sizes(bench, train_size, test_size, metric, labels)
    source = label_source(bench, metric, labels)
    present = runs_present(bench, metric)
    finite = np.flatnonzero(present.any(axis=1))
    curve_seed = int(rng.integers(bench.values.shape[1])) if source == OTHER_SEED else 0
    pool = set(test_pool(bench, metric, source).tolist())
    mutations = is_mutations(distribution)
    order = _order(bench, finite, rng, "cells" if mutations else distribution)
    keys = bench.canonical_keys
    if mutations:
        # Within the mutation pool, drawn as "cells" draws (benchmarks.mutations).
        pool = set(Mutations.of(bench, metric, parse(distribution)).check_pool(
            bench, np.asarray(sorted(pool), dtype=int), test_size,
            source == OTHER_SEED).tolist())
        pool_order = _order(bench, np.asarray(sorted(pool), dtype=int), rng, "cells")
    elif source == OTHER_SEED:
        # The test set is drawn within the pool with the same rule, from the same generator.
        pool_order = _order(bench, np.asarray(sorted(pool), dtype=int), rng, distribution)
    else:
        pool_order = order
    test = np.asarray(pool_order[:test_size], dtype=int)
    test_forms = {keys[i] for i in test}
    rest = np.asarray([i for i in order if keys[i] not in test_forms], dtype=int)
    train = rest[:train_size]
    unlabeled = rest[train_size:train_size + unlabeled_size]

    last = bench.values[:, :, -1, bench.metric_index(metric)]  # [arch, seed] final values
    ceiling = seed_to_seed = None
    if source == OTHER_SEED:
        test_runs = _run_of(present, test, curve_seed)
        test_labels = _mean_of_others(last, test, test_runs)
        train_runs = _run_of(present, train, curve_seed)
        train_labels = last[train, train_runs]
        curve_final = last[test, test_runs].astype(float)
        seed_to_seed = kendall_tau(curve_final, test_labels)
        others = present[test] & (np.arange(present.shape[1]) != test_runs[:, None])
        pair_tau = kendall_tau(curve_final, last[test, np.argmax(others, axis=1)].astype(float))
        label_runs = int(np.median(others.sum(axis=1)))
        ceiling = label_ceiling(pair_tau, label_runs) if np.isfinite(pair_tau) else None
    elif source == SAME_RUN:
        test_runs, train_runs = _run_of(present, test, 0), _run_of(present, train, 0)
        test_labels, train_labels = last[test, test_runs], last[train, train_runs]
    else:
        test_runs = np.zeros(len(test), dtype=int)
        train_runs = np.zeros(len(train), dtype=int)
        test_labels, train_labels = bench.final(metric)[test], bench.final(metric)[train]
    return Split(
        train=train, test=test, unlabeled=unlabeled,
        train_runs=train_runs, test_runs=test_runs,
        train_labels=oriented(bench, metric, train_labels),
        test_labels=oriented(bench, metric, test_labels),
        label_source=source, curve_seed=curve_seed if source != NO_CURVES else None,
        distribution=distribution, noise_ceiling=ceiling, seed_to_seed=seed_to_seed,
        pool_size=len(pool),
    )


@dataclass(frozen=True)
class SplitSummary:
    """What a record says about its split."""

    test_set_id: str
    label_source: str
    curve_seed: int | None
    noise_ceiling_kendall: float | None
    seed_to_seed_kendall: float | None
    n_test_pool: int
    test_pairwise_distance: float | None = None
    test_parent_distance: float | None = None
    mutation_parents: int | None = None

    @classmethod
    def of(cls, bench: TabularBenchmark, metric: str, split: Split) -> SplitSummary:
        parent_distance = parents = None
        if is_mutations(split.distribution):
            found = Mutations.of(bench, metric, parse(split.distribution))
            parent_distance = float(found.distance[split.test].mean())
            parents = len(found.top_cells)
        return cls(test_set_id=test_set_id(bench, metric, split), label_source=split.label_source,
                   curve_seed=split.curve_seed,
                   noise_ceiling_kendall=_finite(split.noise_ceiling),
                   seed_to_seed_kendall=_finite(split.seed_to_seed),
                   n_test_pool=split.pool_size,
                   test_pairwise_distance=mean_pairwise_distance(bench, split.test),
                   test_parent_distance=parent_distance, mutation_parents=parents)


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)
