"""What the calibration and surrogate-vs-search analyses measure: offline harness metrics of
search surrogates and the outcomes of the searches they guide, on one benchmark.

Offline: each surrogate is evaluated by the harness at the train sizes a search reaches (labels
10-150 in a 150-query run; default 20, 50, 100), with the settings it runs with in the searches
(``benchmarks.search.cli.build_specs``: the sweep settings plus ``--predictor-params``), into a
resumable results store, on the benchmark's uniform test sets (``cells``) and, for
mutation-test tau, on test sets of the cells near its best ones (``--mutation-test``, default
``mutations:d=1,2:top=0.01``, ``benchmarks.mutations``: the cells a search's mutations reach).

Search: runs ``0..runs-1`` of each (method, surrogate) configuration. Configurations already in
a reference snapshot of searches (default: the committed ``results/search/<benchmark>.jsonl.gz``,
restored into its own store beside ours) are read from it; the others run into the analysis's
own resumable search store. Each store is first filled from its snapshot beside it
(``predbench store snapshot``), so a fresh checkout resumes from the committed results.
Outcomes per run: the queries to reach the top 1% / 0.1% of the
benchmark (``benchmarks.search.report.queries_to_reach``); per configuration their median
(unreached counted as never, as the search report does), the number of runs reaching, and the
*restricted mean* (unreached counted as the budget), which stays defined when fewer than half
the runs reach and is what the correlations use.

Correlations across surrogates (``rank_correlation``): Spearman and Kendall with a percentile
bootstrap interval over surrogates (resampled with replacement).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer

from benchmarks.calibration import COVERAGE_NAMES, LEVELS
from benchmarks.checks import OptionError
from benchmarks.executor import make_executor
from benchmarks.experiments import build_tasks, run_sweep
from benchmarks.harness import EvalTask
from benchmarks.search.report import TOP_FRACTIONS, mean_band, queries_to_reach
from benchmarks.search.runner import SearchSpec, execute_all, landscape
from benchmarks.search.store import SearchStore
from benchmarks.store import ResultStore
from benchmarks.tabular import TabularBenchmark
from predictors.ranking import kendall_tau

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: Surrogates of the study's searches: the five of the committed searches (xgb, gp, bananas,
#: gcn, seminas) and six more, the model-based predictors with a std of their own that fit in
#: seconds on a CPU.
SURROGATES = ("xgb", "gp", "bananas", "gcn", "seminas", "rf", "ngb", "bohamiann", "dngo",
              "bayes_lin_reg", "gpwl")
#: Per-surrogate settings added to the sweep settings, as the committed searches ran them.
PREDICTOR_PARAMS = {"xgb": {"num_boost_round": 100}}
#: Offline metrics and whether higher is better.
OFFLINE = {"kendall": True, "spearman": True, "precision@10": True, "precision@50": True,
           "mutation_kendall": True, "nll": False, "crps": False, "calibration_error": False,
           "coverage@0.68": None, "coverage@0.95": None, "mean_std": None}


#: ``(method, surrogate) -> SearchSpec`` of one study.
Specs = dict[tuple[str, str], SearchSpec]


@dataclass(frozen=True)
class Setup:
    """One study: benchmark, surrogates and the scale of its harness and search runs."""

    benchmark: str
    surrogates: tuple[str, ...]
    predictor_params: dict[str, dict[str, Any]]
    train_sizes: tuple[int, ...] = (20, 50, 100)
    trials: int = 3
    test_size: int = 200
    #: Test distribution of mutation-test tau (None: not measured) and its test size.
    mutation: str | None = "mutations:d=1,2:top=0.01"
    mutation_test_size: int = 50
    methods: tuple[str, ...] = ("bo",)
    acquisition: str = "its"
    runs: int = 10
    queries: int = 150


def parse_predictor_params(text: str, surrogates: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``--predictor-params``: a JSON object of surrogate name -> hyperparameters."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OptionError(f"--predictor-params {text!r} is not JSON ({exc})") from None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise OptionError("--predictor-params must map surrogate names to JSON objects, e.g. "
                          '\'{"xgb": {"num_boost_round": 100}}\'')
    unknown = set(value) - set(surrogates)
    if unknown:
        raise OptionError(f"--predictor-params names {sorted(unknown)}, not among the "
                          f"surrogates {list(surrogates)}; add them to --surrogates or drop them")
    return value


def search_specs(setup: Setup, bench: TabularBenchmark) -> Specs:
    """Each (method, surrogate)'s configuration, built as ``predbench search`` builds them."""
    from benchmarks.search.cli import build_specs

    out = {}
    for name in setup.surrogates:
        acqs = [setup.acquisition] if "bo" in setup.methods else []
        specs = build_specs(bench.name, list(setup.methods), [name], setup.queries, None, {},
                            setup.predictor_params.get(name, {}), None, 0.5, acqs)
        for spec in specs:
            out[(spec.method, name)] = spec
    return out


def harness_tasks(setup: Setup, bench: TabularBenchmark,
                  specs: Specs) -> tuple[list[EvalTask], dict[str, str]]:
    """Harness tasks of every surrogate with its search settings (on uniform test sets and, with
    ``setup.mutation``, on mutation test sets), and each key's surrogate."""
    tasks, names = [], {}
    for name in setup.surrogates:
        params = next(s.predictor_params for (_, n), s in specs.items() if n == name)
        for task in build_tasks(bench, name, params, trials=setup.trials,
                                test_size=setup.test_size, train_sizes=list(setup.train_sizes),
                                benchmark_ref=setup.benchmark):
            variants = [task]
            if setup.mutation:
                variants.append(dataclasses.replace(task, test_distribution=setup.mutation,
                                                    test_size=setup.mutation_test_size))
            for one in variants:
                tasks.append(one)
                names[one.key()] = name
    return tasks, names


def uniform(records: pd.DataFrame) -> pd.DataFrame:
    """The records on the benchmark's uniform test sets (``test_distribution`` cells)."""
    return records[records["test_distribution"] == "cells"]


def harness_records(setup: Setup, bench: TabularBenchmark,
                    specs: Specs, store: Path, workers: int,
                    threads: int, task_timeout: float) -> pd.DataFrame:
    """Run the missing harness evaluations into ``store``; the study's successful records."""
    tasks, names = harness_tasks(setup, bench, specs)
    executor = make_executor(workers, threads, task_timeout, "process", None)
    with ResultStore(store) as results:
        summary = run_sweep(tasks, results, executor, progress=True)
        log.info("harness: %d evaluations, %d run now, %d ok, %d failed, %d timed out",
                 summary.total, summary.total - summary.skipped, summary.ok, summary.failed,
                 summary.timed_out)
        frame = results.to_frame(status="ok")
    frame = frame[frame["key"].isin(names)].copy()
    if frame.empty:
        raise RuntimeError(f"no successful harness evaluations in {store}; see its failed rows")
    frame["surrogate"] = frame["key"].map(names)
    return frame


def calibration_error(frame: pd.DataFrame) -> pd.Series:
    """Per record: mean absolute gap between observed and nominal coverage over ``LEVELS``."""
    import pandas as pd

    cols = [c for c in COVERAGE_NAMES if c in frame]
    if not cols:
        return pd.Series(np.nan, index=frame.index)
    observed = frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    nominal = np.array([lvl for lvl, c in zip(LEVELS, COVERAGE_NAMES, strict=True) if c in cols])
    return pd.Series(np.abs(observed - nominal).mean(axis=1), index=frame.index)


def offline_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per surrogate: each offline metric's mean over train sizes and trials on the uniform test
    sets (NaN where the surrogate has no std), ``mutation_kendall`` the mean Kendall tau on the
    mutation test sets (NaN without them), and the uniform records averaged."""
    import pandas as pd

    frame = frame.copy()
    if "test_distribution" not in frame:
        frame["test_distribution"] = "cells"
    frame["calibration_error"] = calibration_error(frame)
    cols = [m for m in OFFLINE if m in frame and m != "mutation_kendall"]
    frame[cols] = frame[cols].apply(pd.to_numeric, errors="coerce")
    cells = uniform(frame)
    table = cells.groupby("surrogate")[cols].mean()
    mutated = frame[frame["test_distribution"] != "cells"]
    table["mutation_kendall"] = mutated.groupby("surrogate")["kendall"].mean()
    table["records"] = cells.groupby("surrogate").size()
    return table


def check_mutation(distribution: str, bench: TabularBenchmark, test_size: int) -> str:
    """The canonical mutation test distribution, checked against the benchmark."""
    from benchmarks.mutations import canonical, is_mutations
    from benchmarks.protocol import check_protocol, check_sizes

    if not is_mutations(distribution):
        raise OptionError(f"--mutation-test {distribution!r}: give a mutation test "
                          "distribution such as mutations:d=1,2:top=0.01, or 'none'")
    check_protocol("independent", distribution)
    spec = canonical(distribution)
    check_sizes(bench, 0, test_size, bench.objective, "independent", spec)
    return spec


def restore_snapshot(db: Path) -> None:
    """Fill ``db`` from its snapshot (``DB-STEM.jsonl.gz`` beside it) where one exists; rows
    the store already has are kept."""
    from benchmarks.snapshot import restore, snapshot_path

    if snapshot_path(db).is_file():
        _, added = restore(snapshot_path(db), db)
        log.info("restored %s rows from %s", sum(added.values()), snapshot_path(db))


def restore_reference(snapshot: Path | None, db: Path) -> SearchStore | None:
    """The reference searches, restored from ``snapshot`` into ``db`` (None: no reference)."""
    if snapshot is None:
        return None
    from benchmarks.snapshot import restore

    restore(snapshot, db)
    return SearchStore(db)


def run_searches(setup: Setup, bench: TabularBenchmark,
                 specs: Specs, own: SearchStore,
                 reference: SearchStore | None, jobs: int, threads: int,
                 task_timeout: float) -> dict[tuple[str, str], SearchStore]:
    """Run the configurations the reference lacks (or holds too few runs of) into ``own``;
    which store holds each configuration's runs."""
    where: dict[tuple[str, str], SearchStore] = {}
    todo = []
    for ident, spec in specs.items():
        have = reference.finished_runs(spec.key) if reference is not None else set()
        if set(range(setup.runs)) <= have:
            where[ident] = reference
        else:
            where[ident] = own
            todo.append(spec)
    if todo:
        log.info("searches: %d configurations x %d runs x %d queries into %s (%s)", len(todo),
                 setup.runs, setup.queries, own.path, ", ".join(s.label for s in todo))
        summary = execute_all(todo, setup.runs, own, bench=bench, jobs=jobs, threads=threads,
                              task_timeout=task_timeout)
        summary.check("runs", str(own.path))
    return where


def search_outcomes(setup: Setup, bench: TabularBenchmark,
                    specs: Specs,
                    where: dict[tuple[str, str], SearchStore],
                    reference: SearchStore | None) -> pd.DataFrame:
    """Per (method, surrogate): runs, source, and per top fraction the median queries to reach
    (NaN: not reached by half the runs), the runs reaching, and the restricted mean with the
    half-width of its 95% t-interval over runs."""
    import pandas as pd

    land = landscape(bench, None)
    rows = []
    for (method, name), spec in specs.items():
        store = where[(method, name)]
        trajs = store.trajectories(spec.key, runs=range(setup.runs))
        row: dict[str, Any] = {"method": method, "surrogate": name, "label": spec.label,
                               "runs": len(trajs), "budget": spec.queries,
                               "source": "reference" if store is reference else "new"}
        for frac in TOP_FRACTIONS:
            reached = [queries_to_reach(t, land.best_score - land.top_threshold(frac))
                       for t in trajs]
            counted = np.array([spec.queries if r is None else r for r in reached], dtype=float)
            with_inf = np.array([np.inf if r is None else r for r in reached], dtype=float)
            median = float(np.median(with_inf))
            tag = f"top{frac * 100:g}%"
            row[f"median_queries_{tag}"] = median if np.isfinite(median) else np.nan
            row[f"reached_{tag}"] = int(np.sum(np.isfinite(with_inf)))
            row[f"queries_{tag}"] = counted.tolist()
            row[f"mean_queries_{tag}"] = float(counted.mean())
            _, low, high = mean_band(counted.reshape(-1, 1))
            row[f"ci95_{tag}"] = float(high[0] - low[0]) / 2
        row["final_regret"] = float(np.mean([t.regret[-1] for t in trajs]))
        rows.append(row)
    return pd.DataFrame(rows)


def rank_correlation(x: Sequence[float], y: Sequence[float], boot: int = 2000
                     ) -> dict[str, float | int]:
    """Spearman and Kendall tau of ``x`` with ``y`` over the pairs where both are finite, with
    95% percentile bootstrap intervals over the pairs (``proxy_report.bootstrap_interval``)."""
    from scipy import stats

    from benchmarks.analyses.proxy_report import bootstrap_interval

    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    out: dict[str, float | int] = {"n": int(len(xa))}
    if len(xa) < 3 or np.all(xa == xa[0]) or np.all(ya == ya[0]):
        return {**out, **dict.fromkeys(("spearman", "spearman_low", "spearman_high", "kendall",
                                        "kendall_low", "kendall_high"), np.nan)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # resamples with constant ranks give NaN, skipped
        ci = bootstrap_interval(xa, ya, boot)
    out["spearman"] = float(stats.spearmanr(xa, ya).statistic)
    out["spearman_low"], out["spearman_high"] = ci["spearman"]
    out["kendall"] = kendall_tau(xa, ya)
    out["kendall_low"], out["kendall_high"] = ci["kendall_tau"]
    return out


def run_noise_interval(x: Sequence[float], runs: Sequence[Sequence[float]], boot: int = 2000,
                       seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of Spearman between ``x`` and the mean of each item's ``runs``,
    resampling the items *and* each picked item's runs: the interval a search's run-to-run
    noise leaves on top of the choice of surrogates."""
    from scipy import stats

    xa = np.asarray(x, dtype=float)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(boot):
        pick = rng.integers(len(xa), size=len(xa))
        means = [float(np.mean(rng.choice(runs[i], size=len(runs[i])))) for i in pick]
        if np.all(xa[pick] == xa[pick][0]) or np.all(np.array(means) == means[0]):
            continue
        draws.append(stats.spearmanr(xa[pick], means).statistic)
    if not draws:
        return np.nan, np.nan
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def correlation_table(offline: pd.DataFrame, outcomes: pd.DataFrame, metrics: Sequence[str],
                      targets: Sequence[str], boot: int = 2000) -> pd.DataFrame:
    """Per (method, offline metric, search outcome): the rank correlations across surrogates,
    and where the outcome's per-run values are at hand (``queries_<top>`` beside
    ``mean_queries_<top>``) the Spearman interval with the runs resampled too."""
    import pandas as pd

    rows = []
    for method, part in outcomes.groupby("method", sort=False):
        joined = part.set_index("surrogate").join(offline, how="inner")
        for metric in metrics:
            for target in targets:
                corr = rank_correlation(joined[metric], joined[target], boot=boot)
                per_run = target.removeprefix("mean_")
                ok = joined[metric].notna()
                corr.update(spearman_runs_low=np.nan, spearman_runs_high=np.nan)
                if per_run in joined and corr["n"] >= 3:
                    low, high = run_noise_interval(joined.loc[ok, metric].to_numpy(),
                                                   list(joined.loc[ok, per_run]), boot)
                    corr.update(spearman_runs_low=low, spearman_runs_high=high)
                rows.append({"method": method, "offline_metric": metric, "outcome": target,
                             "higher_is_better": OFFLINE.get(metric), **corr})
    return pd.DataFrame(rows)


def format_interval(row: pd.Series, name: str) -> str:
    """``rho [low, high]`` of a correlation row, ``n/a`` where undefined."""
    import pandas as pd

    if pd.isna(row[name]):
        return "n/a"
    return f"{row[name]:+.2f} [{row[f'{name}_low']:+.2f}, {row[f'{name}_high']:+.2f}]"


def markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A plain markdown table of ``frame`` (index dropped), floats to ``digits`` decimals."""
    import pandas as pd

    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        cells = [("" if pd.isna(v) else f"{v:.{digits}f}") if isinstance(v, float) else str(v)
                 for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --- the options both analyses take, and the measurements they share ---------------------------
BenchmarkOpt = Annotated[str, typer.Option(help="Benchmark name or directory.")]
SurrogatesOpt = Annotated[str, typer.Option(help="Comma-separated surrogates (registered "
                                                 "predictors that fit on labels).")]
ParamsOpt = Annotated[str, typer.Option(help="JSON object: surrogate -> hyperparameters added "
                                             "to its sweep settings (as the searches ran it).")]
TrainSizesOpt = Annotated[str, typer.Option(help="Comma-separated harness train sizes (labels "
                                                 "a search has seen).")]
TrialsOpt = Annotated[int, typer.Option(help="Harness trials (train/test splits) per size.")]
TestSizeOpt = Annotated[int, typer.Option(help="Harness test architectures per trial.")]
MutationOpt = Annotated[str, typer.Option(
    help="Test distribution of mutation-test tau (benchmarks.mutations syntax, e.g. "
         "mutations:d=1,2:top=0.01); 'none' to leave it out.")]
MutationSizeOpt = Annotated[int, typer.Option(help="Test architectures per mutation test set.")]
RunsOpt = Annotated[int, typer.Option(help="Search runs per configuration (runs 0..RUNS-1).")]
QueriesOpt = Annotated[int, typer.Option(help="Query budget of each search run.")]
AcquisitionOpt = Annotated[str, typer.Option(help="BO acquisition (its, ucb, ei, mean).")]
StoreOpt = Annotated[Path, typer.Option(help="Resumable results store of the harness runs.")]
SearchStoreOpt = Annotated[Path, typer.Option(help="Resumable store of the new search runs.")]
ReferenceOpt = Annotated[str, typer.Option(
    help="Snapshot of stored searches to read configurations from before running them "
         "(default: results/search/BENCHMARK.jsonl.gz; 'none': run every configuration).")]
WorkersOpt = Annotated[int, typer.Option(help="Worker processes for harness and search runs.")]
ThreadsOpt = Annotated[int, typer.Option(help="Native threads per worker.")]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds one evaluation or search run may take "
                                                "before its worker is stopped (0: no limit, "
                                                "in this process with one worker).")]
BootOpt = Annotated[int, typer.Option(help="Bootstrap resamples of each correlation.")]
DEFAULT_STORE = Path("results/calibration/surrogates.db")
DEFAULT_SEARCH_STORE = Path("results/surrogate-vs-search/search.db")


@dataclass
class Evidence:
    """The study's setup, its harness records and each search configuration's outcomes."""

    setup: Setup
    bench: TabularBenchmark
    records: pd.DataFrame
    outcomes: pd.DataFrame


def gather(benchmark: str, surrogates: str, predictor_params: str, train_sizes: str,
           trials: int, test_size: int, mutation: str, mutation_test_size: int,
           methods: Sequence[str], acquisition: str, runs: int, queries: int, store: Path,
           search_store: Path, reference_searches: str, workers: int, threads: int,
           task_timeout: float) -> Evidence:
    """Check every option, then run what the stores lack (harness evaluations, searches) and
    read the study back."""
    from benchmarks.checks import ints, names, output_file
    from benchmarks.search.acquisition import ACQUISITIONS
    from benchmarks.tabular import load_benchmark
    from predictors.registry import make

    chosen = names(surrogates)
    if not chosen:
        raise OptionError("--surrogates is empty; name registered predictors, e.g. gp,rf")
    label_free = [n for n in chosen if not make(n).data_needs().labels]
    if label_free:
        raise OptionError(f"--surrogates {','.join(label_free)}: needs no labels, so it cannot "
                          "guide a search; choose predictors that fit on labels (e.g. gp,rf)")
    if acquisition not in ACQUISITIONS:
        raise OptionError(f"--acquisition {acquisition!r} is not one of {sorted(ACQUISITIONS)}")
    for value, option in ((trials, "--trials"), (test_size, "--test-size"),
                          (mutation_test_size, "--mutation-test-size"), (runs, "--runs"),
                          (queries, "--queries"), (workers, "--workers"),
                          (threads, "--threads")):
        if value < 1:
            raise OptionError(f"{option} must be at least 1, got {value}")
    if not task_timeout >= 0:
        raise OptionError("--task-timeout must be a number of seconds, or 0 for no limit")
    sizes = ints(train_sizes, "--train-sizes")
    if not sizes or min(sizes) < 2:
        raise OptionError(f"--train-sizes {train_sizes!r}: give sizes of at least 2, e.g. "
                          "20,50,100")
    output_file(store, "--store")
    output_file(search_store, "--search-store")
    params = parse_predictor_params(predictor_params, chosen)
    bench = load_benchmark(benchmark)
    from benchmarks.protocol import check_sizes

    check_sizes(bench, max(sizes), test_size, bench.objective, "independent")
    mutation_spec = None if mutation == "none" else check_mutation(mutation, bench,
                                                                  mutation_test_size)
    ref_path = (None if reference_searches == "none"
                else Path(reference_searches or f"results/search/{bench.name}.jsonl.gz"))
    if ref_path is not None and not ref_path.is_file():
        if reference_searches:
            raise OptionError(f"--reference-searches {ref_path} is not a file; give a snapshot "
                              "written by `predbench store snapshot`, or 'none'")
        ref_path = None  # no committed searches of this benchmark: run every configuration
    for db in (store, search_store):  # a fresh checkout resumes from the committed snapshots
        restore_snapshot(db)
    setup = Setup(benchmark, tuple(chosen), params, tuple(sizes), trials, test_size,
                  mutation_spec, mutation_test_size, methods=tuple(methods),
                  acquisition=acquisition, runs=runs, queries=queries)
    specs = search_specs(setup, bench)
    records = harness_records(setup, bench, specs, store, workers, threads, task_timeout)
    reference = restore_reference(ref_path, search_store.with_name(
        search_store.stem + "-reference.db"))
    try:
        with SearchStore(search_store) as own:
            where = run_searches(setup, bench, specs, own, reference, workers, threads,
                                 task_timeout)
            outcomes = search_outcomes(setup, bench, specs, where, reference)
    finally:
        if reference is not None:
            reference.close()
    return Evidence(setup, bench, records, outcomes)


def scale_note(ev: Evidence) -> str:
    """One paragraph saying what was measured, at which scale."""
    s = ev.setup
    sources = ev.outcomes.groupby("source")["label"].agg(lambda v: ", ".join(v))
    return (f"Benchmark `{ev.bench.name}`. Harness: {len(s.surrogates)} surrogates x train sizes "
            f"{', '.join(map(str, s.train_sizes))} x {s.trials} trials, {s.test_size} test "
            f"architectures each, with the settings the searches use. Searches: runs 0-"
            f"{s.runs - 1} of each configuration, {s.queries} queries each"
            + "".join(f"; {src}: {labels}" for src, labels in sources.items()) + ".\n")
