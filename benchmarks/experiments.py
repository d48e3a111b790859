"""Budget grids, experiment types and sweeps (lists of tasks run by an executor into a store)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.contexts import TaskError, check_compatible, incompatibilities
from benchmarks.executor import TIMEOUT, Executor, SerialExecutor
from benchmarks.harness import EvalTask
from benchmarks.progress import Progress
from benchmarks.protocol import unique_count
from benchmarks.store import ResultStore
from benchmarks.tabular import BenchmarkFormatError, TabularBenchmark, load_benchmark
from predictors.registry import available, get, make, preset_params

log = logging.getLogger(__name__)

#: Initialization budgets of the study (number of labeled architectures).
TRAIN_SIZES = (5, 8, 14, 24, 42, 71, 121, 205, 347, 589, 1000)
#: Query budgets of the study on NAS-Bench-201 (epochs out of ``REFERENCE_EPOCHS``).
NB201_FIDELITIES = (1, 2, 3, 5, 7, 9, 13, 19, 26, 37, 52, 73, 102, 142, 199)
REFERENCE_EPOCHS = 200
#: The quick default grid of ``reproduce`` (full grid with ``full=True``).
QUICK_TRAIN_SIZES = (24, 121, 589)
QUICK_FIDELITY_FRACTIONS = (0.05, 0.25, 0.5)
#: Fixed budgets where an experiment type does not vary one.
DEFAULT_TRAIN_SIZE = 100
DEFAULT_FIDELITY_FRACTION = 0.25

#: Experiment types (a predictor declares its own as ``Predictor.experiment``).
EXPERIMENTS = ("single", "vary_train_size", "vary_fidelity", "vary_both")


def last_partial_epoch(epochs: int) -> int:
    """The highest fidelity a grid uses: below the benchmark's epochs, since reading the last
    epoch is not a prediction (a one-epoch benchmark keeps its one)."""
    return max(1, epochs - 1)


def scaled_fidelities(epochs: int) -> list[int]:
    """The study's fidelity grid scaled from 200 epochs to ``epochs`` (deduplicated), strictly
    below ``epochs``."""
    top = last_partial_epoch(epochs)
    return sorted({min(top, max(1, round(f * epochs / REFERENCE_EPOCHS)))
                   for f in NB201_FIDELITIES})


def quick_fidelities(epochs: int) -> list[int]:
    top = last_partial_epoch(epochs)
    return sorted({min(top, max(1, round(f * epochs))) for f in QUICK_FIDELITY_FRACTIONS})


def max_train_size(bench: TabularBenchmark, test_size: int) -> int:
    return max(unique_count(bench) - test_size, 0)


def train_size_grid(bench: TabularBenchmark, test_size: int, full: bool) -> list[int]:
    """Grid train sizes that fit beside the test set; the cap itself if none does."""
    cap = max_train_size(bench, test_size)
    sizes = [s for s in (TRAIN_SIZES if full else QUICK_TRAIN_SIZES) if s <= cap]
    if not sizes:
        smaller = [s for s in TRAIN_SIZES if s <= cap]
        sizes = [smaller[-1]] if smaller else []
    if not sizes:
        raise TaskError(
            f"benchmark {bench.name!r} has {unique_count(bench)} unique architectures: too few "
            f"for a test set of {test_size} plus training data; lower --test-size"
        )
    return sizes


@dataclass(frozen=True)
class Budget:
    train_size: int
    fidelity: int | None


def budgets(bench: TabularBenchmark, predictor: str, params: dict[str, Any] | None = None,
            *, experiment: str | None = None, test_size: int = 200, full: bool = False,
            train_sizes: Sequence[int] | None = None,
            fidelities: Sequence[int] | None = None) -> tuple[str, list[Budget]]:
    """The experiment type of ``predictor`` and its (train size, fidelity) grid on ``bench``."""
    needs = make(predictor, **(params or {})).data_needs()
    experiment = experiment or get(predictor).experiment
    if experiment not in EXPERIMENTS:
        raise TaskError(f"unknown experiment type {experiment!r}; use one of {EXPERIMENTS}")
    check_compatible(bench, needs, predictor)
    uses_train = needs.labels or needs.curves_for_train
    uses_curves = bool(needs.curve_metrics)

    cap = max_train_size(bench, test_size)
    if train_sizes is not None:
        sizes = list(train_sizes)
    elif not uses_train:
        sizes = [0]
    elif experiment in ("vary_train_size", "vary_both"):
        sizes = train_size_grid(bench, test_size, full)
    else:
        sizes = [min(DEFAULT_TRAIN_SIZE, cap)]
    if fidelities is not None:
        fids: list[int | None] = list(fidelities)
    elif not uses_curves:
        fids = [None]
    elif experiment in ("vary_fidelity", "vary_both"):
        fids = list(scaled_fidelities(bench.epochs) if full else quick_fidelities(bench.epochs))
    else:
        fids = [min(last_partial_epoch(bench.epochs),
                    max(1, round(DEFAULT_FIDELITY_FRACTION * bench.epochs)))]
    if not uses_curves:
        fids = [None]
    if not uses_train:
        sizes = [0]
    return experiment, [Budget(s, f) for s in sizes for f in fids]


def build_tasks(benchmark: str | TabularBenchmark, predictor: str,
                params: dict[str, Any] | None = None, *, trials: int = 3, test_size: int = 200,
                full: bool = False, experiment: str | None = None,
                train_sizes: Sequence[int] | None = None,
                fidelities: Sequence[int] | None = None,
                benchmark_ref: str | None = None, first_trial: int = 0) -> list[EvalTask]:
    """Tasks for one predictor over its experiment's grid and ``trials`` trials.

    ``benchmark_ref`` is what tasks record as the benchmark (default: its name, or the path given).
    Trials are numbered from ``first_trial``; each trial number fixes its own train/test split.
    """
    bench = benchmark if isinstance(benchmark, TabularBenchmark) else load_benchmark(benchmark)
    ref = benchmark_ref or (benchmark if isinstance(benchmark, str) else bench.name)
    experiment, grid = budgets(bench, predictor, params, experiment=experiment,
                               test_size=test_size, full=full, train_sizes=train_sizes,
                               fidelities=fidelities)
    return [
        EvalTask(benchmark=str(ref), predictor=predictor, params=dict(params or {}),
                 train_size=b.train_size, fidelity=b.fidelity, trial=t, test_size=test_size,
                 experiment=experiment)
        for b in grid for t in range(first_trial, first_trial + trials)
    ]


def build_reproduce_tasks(benchmark: str, *, predictors: Iterable[str] | None = None,
                          trials: int = 3, test_size: int = 200,
                          preset: str = "standard") -> list[EvalTask]:
    """Tasks of every registered (or listed) predictor, each over its own experiment's grid.

    ``preset`` (``predictors.registry.PRESETS``) picks the settings: ``full`` the study's grids
    and defaults, the others the quick grid with each predictor's lighter settings. A quick
    setting this benchmark cannot serve (e.g. tabulated proxy scores it does not have) is
    dropped (``_servable_quick``). Predictors that cannot run on this benchmark (e.g.
    learning-curve ones without curves, or live ones without a live source) are skipped with a
    warning naming the reasons.
    """
    bench = load_benchmark(benchmark)
    names = list(predictors) if predictors is not None else list(available())
    full = preset == "full"
    tasks: list[EvalTask] = []
    skipped: dict[str, list[str]] = {}
    for name in names:
        params = preset_params(name, preset)
        if preset == "quick":
            params = _servable_quick(bench, name)
        try:
            tasks += build_tasks(bench, name, params, trials=trials, test_size=test_size,
                                 full=full, benchmark_ref=benchmark)
        except TaskError as exc:
            if predictors is not None:
                raise
            reasons = incompatibilities(bench, make(name, **params).data_needs()) or [str(exc)]
            skipped.setdefault("; ".join(reasons), []).append(name)
    for reason, skipped_names in skipped.items():
        log.warning("%s: skipping %s (%s)", bench.name, ", ".join(skipped_names), reason)
    return tasks


def _servable_quick(bench: TabularBenchmark, name: str) -> dict[str, Any]:
    """``name``'s quick settings, less those this benchmark cannot serve: all of them, else
    all but one (each tried in turn), else the standard ones."""
    standard = preset_params(name, "standard")
    quick = preset_params(name, "quick")
    candidates = [quick]
    for key in get(name).quick_params:
        reverted = {k: v for k, v in quick.items() if k != key}
        if key in standard:
            reverted[key] = standard[key]
        candidates.append(reverted)
    for params in candidates:
        if not incompatibilities(bench, make(name, **params).data_needs()):
            return params
    return standard


def quick_settings(tasks: Sequence[EvalTask]) -> dict[str, dict[str, Any]]:
    """Per predictor, the settings its tasks run that differ from the ``standard`` preset's
    (what a quick run states it made lighter)."""
    lighter: dict[str, dict[str, Any]] = {}
    for task in tasks:
        standard = preset_params(task.predictor, "standard")
        changed = {k: v for k, v in task.params.items() if standard.get(k, _UNSET) != v}
        if changed:
            lighter[task.predictor] = changed
    return lighter


_UNSET = object()


@dataclass
class SweepSummary:
    """Counts of a sweep's distinct tasks: already in the store, and run now by outcome."""

    total: int
    skipped: int
    ok: int = 0
    failed: int = 0
    timed_out: int = 0


def _data_version(benchmark: str) -> str | None:
    """The benchmark's ``data_version``; None where it cannot be read (its tasks then fail and
    are recorded as failed, as before)."""
    try:
        return load_benchmark(benchmark).data_version
    except BenchmarkFormatError:
        return None


def _stale_keys(stored: dict[str, str | None], current: dict[str, str | None]) -> set[str]:
    """Keys of ``current`` (key -> the benchmark's data version now) whose ``stored`` record
    (key -> version) was made on another version. Records from before versions were kept have
    none and stand."""
    return {k for k, version in current.items() if stored.get(k) not in (None, version)}


def run_sweep(tasks: Sequence[EvalTask], store: ResultStore, executor: Executor | None = None,
              progress: bool = True, retry_failed: bool = False) -> SweepSummary:
    """Run the tasks whose keys are not in the store yet; the caller's process writes the store.

    Finished evaluations (ok, and failed or timed out unless ``retry_failed``) are skipped, so a
    killed sweep resumes where it stopped; those made on an earlier build of their benchmark's
    data (another ``data_version``, which every record carries) run again. A predictor that
    raises, kills its worker or runs past the executor's time limit is recorded as such and the
    sweep goes on.
    """
    executor = executor or SerialExecutor()
    stored = store.data_versions("ok" if retry_failed else None)  # one scan of the store
    done = stored.keys()
    unique: dict[str, EvalTask] = {}
    for task in tasks:
        unique.setdefault(task.key(), task)
    versions = {name: _data_version(name) for name in {t.benchmark for t in unique.values()}}
    stale = _stale_keys(stored,
                        {k: versions[t.benchmark] for k, t in unique.items() if k in done})
    if stale:
        log.warning("%d evaluation(s) in %s were made on other data of their benchmark (it has "
                    "been rebuilt since); running them again", len(stale), store.path)
    pending = [t for k, t in unique.items() if k not in done or k in stale]
    summary = SweepSummary(total=len(unique), skipped=len(unique) - len(pending))

    def record(task: EvalTask, outcome: dict[str, Any]) -> None:
        # evaluations say which data they read; failures get the version the sweep saw
        store.put({"data_version": versions[task.benchmark], **outcome})
        if outcome["status"] == "ok":
            summary.ok += 1
            return
        if outcome["status"] == TIMEOUT:
            summary.timed_out += 1
        else:
            summary.failed += 1
        log.warning("%s %s: %s", outcome.get("predictor"), outcome["status"], outcome.get("error"))

    with Progress(len(pending), "evaluations", enabled=progress) as bar:
        for task, outcome in executor.map(pending):
            record(task, outcome)
            bar.done(task.predictor, outcome["status"])
    return summary
