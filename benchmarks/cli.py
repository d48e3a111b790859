"""The ``predbench`` command line."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from benchmarks.checks import OptionError, output_dir, output_file
from benchmarks.checks import names as split_names
from benchmarks.harness import EvalTask, TaskError, prepare
from benchmarks.jobs import ADDRESS_HELP, EXECUTOR_HELP
from benchmarks.keyvalue import parse_key_values
from benchmarks.live import LiveSourceError
from benchmarks.protocol import unique_count
from benchmarks.snapshot import SnapshotError
from benchmarks.storefile import StoreError
from benchmarks.tabular import BenchmarkFormatError, benchmark_names, load_benchmark, resolve
from predictors.params import ParamError, check_params
from predictors.registry import UnknownPredictorError, families, get
from predictors.spaces import ArchError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Benchmark neural-architecture performance predictors.")
console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 150)

#: Worker processes of `reproduce` unless told otherwise: one per core.
DEFAULT_WORKERS = max(1, os.cpu_count() or 1)

#: Default benchmarks of `reproduce`, in order of preference.
PREFERRED_BENCHMARKS = ("fmnist-nb201", "nasbench-graph-cora")
DEFAULT_STORE = Path("runs/predbench.db")
USER_ERRORS = (TaskError, BenchmarkFormatError, UnknownPredictorError, ArchError,
               LiveSourceError, SnapshotError, StoreError, ParamError, OptionError)


class UsageError(ValueError):
    """A command-line value is wrong."""


def _guard(fn: Callable) -> Callable:
    """Turn user errors into one clear line on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (*USER_ERRORS, UsageError) as exc:
            err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


@app.callback()
def _setup(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``k=v`` pairs; values are JSON when they parse as JSON, else strings."""
    return parse_key_values(items, lambda item: UsageError(
        f"--param {item!r} must read key=value (e.g. --param n_estimators=50)"))


def _check_params(predictor: str, params: dict[str, Any]) -> None:
    """Names, types and ranges of ``params`` against the predictor's constructor."""
    check_params(get(predictor), params)


def _validate(tasks: list[EvalTask]) -> None:
    """Check each distinct budget once before anything runs (user errors surface early)."""
    seen = set()
    for task in tasks:
        sig = (task.predictor, json.dumps(task.params, sort_keys=True), task.train_size,
               task.fidelity)
        if sig not in seen:
            seen.add(sig)
            prepare(task)


def _executor(workers: int, threads: int | None = None, task_timeout: float = 0.0,
              executor: str = "process", address: str | None = None):
    """Worker processes, with the time limit (``0``: none; one worker then runs in-process),
    or tasks of a Ray cluster."""
    from benchmarks.checks import executor as check_executor
    from benchmarks.executor import make_executor

    if workers < 1:
        raise UsageError("--workers must be at least 1")
    if threads is not None and threads < 1:
        raise UsageError("--threads must be at least 1")
    if not task_timeout >= 0:
        raise UsageError("--task-timeout must be a number of seconds, or 0 for no limit")
    return make_executor(workers, threads, task_timeout, check_executor(executor), address)


ThreadsOpt = typer.Option(None, "--threads",
                          help="Torch threads per worker (default: cores / workers).")
ExecutorOpt = typer.Option("process", "--executor", help=EXECUTOR_HELP)
AddressOpt = typer.Option(None, "--address", envvar="RAY_ADDRESS", help=ADDRESS_HELP)
#: Seconds an evaluation may run in a sweep unless told otherwise.
DEFAULT_TASK_TIMEOUT = 3600.0
TaskTimeoutOpt = typer.Option(
    DEFAULT_TASK_TIMEOUT, "--task-timeout",
    help="Seconds one evaluation may run; past it its worker process is stopped and it is "
         "recorded as timed out (skipped on resume unless --retry-failed). 0: no limit, and "
         "with --workers 1 evaluations then run in this process (no protection from a "
         "predictor that crashes it).")


LabelsOpt = typer.Option(
    "independent", "--labels",
    help="independent: where a benchmark has two or more seeds, test labels come from runs "
         "other than the curve a predictor reads (test pool: architectures with two or more "
         "runs); same-run: the study's setting (an architecture's curve and label come from one "
         "run, seed 0 where present).")
DistributionOpt = typer.Option(
    "cells", "--test-distribution",
    help="cells: test architectures uniform over the benchmark's cells (the study's sampling); "
         "forms: uniform over canonical forms; mutations[:d=1,2][:top=0.01]: the benchmark's "
         "cells within those edit distances of its top fraction of cells (NB201 only).")


def _summary_table(records: list[dict[str, Any]], title: str) -> Table:
    import numpy as np

    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["predictor"], r.get("train_size"), r.get("fidelity")), []).append(r)
    table = Table(title=title)
    for col in ("predictor", "train", "fidelity", "ok", "failed", "kendall", "spearman",
                "init s", "query s/arch"):
        table.add_column(col, justify="left" if col == "predictor" else "right")

    def stat(rows: list[dict[str, Any]], key: str, fmt: str) -> str:
        vals = np.array([r[key] for r in rows if r.get(key) is not None], dtype=float)
        if not len(vals):
            return "n/a"
        std = vals.std(ddof=1) if len(vals) > 1 else 0.0  # as in the written tables
        return f"{vals.mean():{fmt}} ± {std:{fmt}}"

    def order(item: tuple) -> tuple:
        pred, train, fid = item[0]
        return (pred, train if train is not None else -1, fid if fid is not None else -1)

    for (pred, train, fid), rows in sorted(groups.items(), key=order):
        ok = [r for r in rows if r["status"] == "ok"]
        table.add_row(pred, str(train), "-" if fid is None else str(fid), str(len(ok)),
                      str(len(rows) - len(ok)), stat(ok, "kendall", ".3f"),
                      stat(ok, "spearman", ".3f"), stat(ok, "init_time_s", ".3g"),
                      stat(ok, "query_time_s", ".3g"))
    return table


def _sweep(tasks: list[EvalTask], store_path: Path, workers: int, retry_failed: bool,
           threads: int | None = None, task_timeout: float = 0.0, where: str = "process",
           address: str | None = None) -> list:
    """Run the tasks into the store, print a one-line summary; the tasks' records."""
    from benchmarks.experiments import run_sweep
    from benchmarks.store import ResultStore

    executor = _executor(workers, threads, task_timeout, where, address)
    _validate(tasks)
    with ResultStore(store_path) as store:
        summary = run_sweep(tasks, store, executor, progress=True, retry_failed=retry_failed)
        records = [store.get(t.key()) for t in tasks]
    console.print(f"{summary.ok} done, {summary.failed} failed, {summary.timed_out} timed out, "
                  f"{summary.skipped} already in {store_path}", markup=False, highlight=False)
    failed = [r for r in records if r and r["status"] != "ok"]
    for r in failed[:5]:
        err_console.print(f"{r['status']}: {r['predictor']} (train {r['train_size']}, fidelity "
                          f"{r['fidelity']}, trial {r['trial']}): {r['error']}", markup=False)
    return [r for r in records if r]


def _exit_unless_any_ok(records: list[dict[str, Any]]) -> None:
    """Exit with status 1 when no requested evaluation succeeded (now or earlier)."""
    if not any(r["status"] == "ok" for r in records):
        err_console.print("error: no evaluation succeeded; see the errors above (run failed "
                          "ones again with --retry-failed)", markup=False, highlight=False)
        raise typer.Exit(1)


@app.command("list")
@_guard
def list_predictors() -> None:
    """Registered predictors: one `name<TAB>family` per line."""
    for name, family in families().items():
        typer.echo(f"{name}\t{family}")


@app.command("benchmarks")
@_guard
def list_benchmarks() -> None:
    """Available benchmarks: name, space, #archs, #unique, epochs, metrics.

    Each one is checked cheaply (metadata, array headers against it and the file sizes, the
    architecture count); a broken one is listed as `NAME BROKEN: reason` and the listing goes on.
    The exit status is 0 whenever the listing itself worked.
    """
    from benchmarks.tabular import check_benchmark

    for name in benchmark_names():
        try:
            meta = check_benchmark(resolve(name))
            if "unique_canonical" not in meta:
                bench = load_benchmark(name)  # older metadata: count from the data itself
                meta = {**meta, "unique_canonical": unique_count(bench)}
        except BenchmarkFormatError as exc:
            typer.echo(f"{name} BROKEN: {exc}")
            continue
        curves = "final-only" if meta.get("final_only") else "curves"
        typer.echo(f"{name} space={meta['space']} archs={meta['num_archs']} "
                   f"unique={meta['unique_canonical']} epochs={meta['epochs']} ({curves}) "
                   f"metrics={','.join(meta['metrics'])}")


@app.command("run")
@_guard
def run(
    benchmark: str = typer.Option(..., "--benchmark", "-b", help="Benchmark name or directory."),
    predictor: str = typer.Option(..., "--predictor", "-p", help="Registered predictor name."),
    param: list[str] = typer.Option(None, "--param", help="Hyperparameter key=value (repeat)."),
    train_size: int | None = typer.Option(None, help="Labeled architectures (default: grid)."),
    fidelity: int | None = typer.Option(None, help="Epochs of partial curves (default: grid)."),
    trials: int = typer.Option(3, help="Trials per budget."),
    test_size: int = typer.Option(200, help="Test architectures per trial."),
    store: Path = typer.Option(DEFAULT_STORE, help="SQLite results store."),
    workers: int = typer.Option(1, help="Worker processes."),
    threads: int | None = ThreadsOpt,
    full: bool = typer.Option(False, help="Full budget grid instead of the quick one."),
    retry_failed: bool = typer.Option(False, help="Run failed and timed-out evaluations again."),
    metric: str | None = typer.Option(None, help="Objective metric (default: the benchmark's)."),
    labels: str = LabelsOpt,
    test_distribution: str = DistributionOpt,
    task_timeout: float = TaskTimeoutOpt,
    executor: str = ExecutorOpt,
    address: str | None = AddressOpt,
) -> None:
    """Evaluate one predictor; records go into the store; prints a summary table.

    Exit status: 0 when at least one requested evaluation succeeded (now or in an earlier
    run), 1 when none did, 2 on a usage error.
    """
    from benchmarks.experiments import build_tasks

    params = parse_params(param)
    _check_params(predictor, params)
    if trials < 1:
        raise UsageError("--trials must be at least 1")
    tasks = build_tasks(benchmark, predictor, params, trials=trials, test_size=test_size,
                        full=full, train_sizes=None if train_size is None else [train_size],
                        fidelities=None if fidelity is None else [fidelity])
    tasks = _with_task_options(tasks, benchmark, metric, labels, test_distribution, test_size)
    records = _sweep(tasks, store, workers, retry_failed, threads, task_timeout, executor,
                     address)
    console.print(_summary_table(records, f"{predictor} on {benchmark}"))
    _exit_unless_any_ok(records)


def _with_task_options(tasks: list[EvalTask], benchmark: str, metric: str | None,
                       labels: str, distribution: str, test_size: int) -> list[EvalTask]:
    """Point every task at another objective metric (``--metric``) and the chosen protocol
    (``--labels``, ``--test-distribution``); a test set the protocol cannot fill fails here."""
    from benchmarks.mutations import canonical
    from benchmarks.protocol import check_protocol, check_sizes

    check_protocol(labels, distribution)
    distribution = canonical(distribution)
    bench = load_benchmark(benchmark)
    if metric is not None and metric not in bench.metric_names:
        raise UsageError(f"benchmark {benchmark!r} has no metric {metric!r}; it has "
                         f"{', '.join(bench.metric_names)}")
    check_sizes(bench, 0, test_size, metric, labels, distribution)
    return [dataclasses.replace(task, metric=metric, labels=labels,
                                test_distribution=distribution) for task in tasks]


def default_benchmark() -> str:
    names = benchmark_names()
    for name in PREFERRED_BENCHMARKS:
        if name in names:
            return name
    if names:
        return names[0]
    raise UsageError("no benchmark found in the data directories; add one under data/ or set "
                     "$PREDBENCH_DATA, or pass --benchmark PATH")


@app.command("reproduce")
@_guard
def reproduce(
    benchmark: str | None = typer.Option(None, "--benchmark", "-b",
                                         help="Benchmark (default: the embedded one)."),
    trials: int = typer.Option(3, help="Trials per budget."),
    store: Path | None = typer.Option(None, help="Store (default: OUT/predbench.db)."),
    out: Path = typer.Option(Path("results"), help="Directory for plots and tables."),
    predictors: str | None = typer.Option(None, help="Comma-separated subset of predictors."),
    preset: str = typer.Option(
        "quick", help="Settings: quick (minutes: quick grid, lighter supernets, OMNI and "
        "tabulated proxy scores, each named in the output), standard (the quick grid with the "
        "sweep settings of RESULTS.md's main job; hours), full (the study's grids and "
        "defaults)."),
    full: bool = typer.Option(False, help="Same as --preset full."),
    test_size: int = typer.Option(200, help="Test architectures per trial."),
    workers: int = typer.Option(DEFAULT_WORKERS, help="Worker processes (default: all cores)."),
    threads: int | None = ThreadsOpt,
    retry_failed: bool = typer.Option(False, help="Run failed and timed-out evaluations again."),
    metric: str | None = typer.Option(None, help="Objective metric (default: the benchmark's)."),
    labels: str = LabelsOpt,
    test_distribution: str = DistributionOpt,
    task_timeout: float = TaskTimeoutOpt,
    executor: str = ExecutorOpt,
    address: str | None = AddressOpt,
) -> None:
    """The main job: every registered predictor over its grid; writes Pareto plots + tables.

    Exit status: 0 when at least one requested evaluation succeeded (now or in an earlier
    run), 1 when none did, 2 on a usage error.
    """
    from benchmarks.experiments import build_reproduce_tasks, quick_settings
    from benchmarks.plots import write_report
    from benchmarks.store import ResultStore
    from predictors.registry import PRESETS

    output_dir(out, "--out")
    benchmark = benchmark or default_benchmark()
    names = split_names(predictors) or None
    if trials < 1:
        raise UsageError("--trials must be at least 1")
    if preset not in PRESETS:
        raise UsageError(f"unknown --preset {preset!r}; use one of {', '.join(PRESETS)}")
    preset = "full" if full else preset
    tasks = build_reproduce_tasks(benchmark, predictors=names, trials=trials,
                                  test_size=test_size, preset=preset)
    tasks = _with_task_options(tasks, benchmark, metric, labels, test_distribution, test_size)
    if not tasks:
        raise UsageError(f"no predictor can run on {benchmark!r}; see `predbench list`")
    lighter = quick_settings(tasks) if preset == "quick" else {}
    for name, settings in sorted(lighter.items()):
        shown = ", ".join(f"{k}={v}" for k, v in sorted(settings.items()))
        console.print(f"quick setting: {name} {shown}")
    if lighter:
        console.print("(quick settings are lighter than the standard preset of RESULTS.md's "
                      "main job; --preset standard or --preset full to run without them)")
    store_path = store or out / "predbench.db"
    records = _sweep(tasks, store_path, workers, retry_failed, threads, task_timeout, executor,
                     address)
    console.print(_summary_table(records, f"reproduce on {benchmark}"))
    _exit_unless_any_ok(records)
    with ResultStore(store_path) as db:
        frame = db.to_frame()
    for path in [*write_report(frame, out), _html_report(frame, out, store_path)]:
        console.print(f"wrote {path}")


@app.command("plot")
@_guard
def plot(
    store: Path = typer.Option(DEFAULT_STORE, help="SQLite results store."),
    out: Path = typer.Option(Path("results"), help="Directory for plots and tables."),
) -> None:
    """Pareto plots and tables from an existing store, and the HTML report (printed last)."""
    from benchmarks.plots import write_report

    frame = _stored_records(store, snapshot=False, out=out)
    for path in [*write_report(frame, out), _html_report(frame, out, store)]:
        console.print(f"wrote {path}")


def _stored_records(path: Path, snapshot: bool, out: Path) -> Any:
    """The records of a store (or a snapshot) that holds successful ones, once ``--out`` is
    known to be writable."""
    from benchmarks.html_report import records_frame

    if not path.is_file():
        raise UsageError(f"no results {'snapshot' if snapshot else 'store'} at {path}; run "
                         "`predbench run` or `reproduce` first")
    output_dir(out, "--out")
    frame = records_frame(path, snapshot)
    if frame.empty or not (frame["status"] == "ok").any():
        raise UsageError(f"{path} holds no successful evaluations to plot")
    return frame


def _html_report(frame: Any, out: Path, path: Path, snapshot: bool = False) -> Path:
    """``out/report.html`` of the records read from ``path`` (a store, or a snapshot)."""
    from benchmarks.html_report import write_html_report

    return write_html_report(frame, out, path, snapshot)


@app.command("report")
@_guard
def report(
    store: Path | None = typer.Option(None, help=f"SQLite results store (default: "
                                      f"{DEFAULT_STORE})."),
    snapshot: Path | None = typer.Option(
        None, help="A store snapshot (*.jsonl.gz, `predbench store snapshot`) instead of a store."),
    out: Path = typer.Option(Path("results"), help="Directory for report.html."),
) -> None:
    """One self-contained interactive HTML report (OUT/report.html, opens offline): Pareto
    plots, budget map, noise ceiling, summary table, commands and environment."""
    if store is not None and snapshot is not None:
        raise UsageError("--store and --snapshot both given; pass one of them")
    path = snapshot or store or DEFAULT_STORE
    frame = _stored_records(path, snapshot is not None, out)
    console.print(f"wrote {_html_report(frame, out, path, snapshot is not None)}")


store_app = typer.Typer(no_args_is_help=True,
                        help="Snapshot a results store to text (to commit it) and restore it.")
app.add_typer(store_app, name="store")


def _row_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{table}: {n}" for table, n in counts.items()) or "no tables"


@store_app.command("snapshot")
@_guard
def store_snapshot(
    db: Path = typer.Argument(..., help="SQLite store, e.g. results/NAME/predbench.db."),
    out: Path | None = typer.Option(None, help="Snapshot file (default: DB's stem + .jsonl.gz)."),
) -> None:
    """Write a store's rows into a gzipped JSON-lines snapshot (byte-stable when unchanged)."""
    from benchmarks.snapshot import dump

    if out is not None:
        output_file(out, "--out")
    path, counts = dump(db, out)
    console.print(f"wrote {path} ({_row_counts(counts)} rows)")


@store_app.command("restore")
@_guard
def store_restore(
    snapshot: Path = typer.Argument(..., help="Snapshot written by `predbench store snapshot`."),
    db: Path | None = typer.Option(None, help="Store to fill (default: snapshot stem + .db)."),
) -> None:
    """Insert a snapshot's rows that the store lacks; a sweep run afterwards skips them."""
    from benchmarks.snapshot import restore

    path, added = restore(snapshot, db)
    console.print(f"restored into {path} ({_row_counts(added)} rows added)")


def _optional(module: str) -> Any | None:
    """Import an optional sub-command module; only its own absence is tolerated."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        parts = module.split(".")
        if exc.name in {".".join(parts[:i]) for i in range(1, len(parts) + 1)}:
            return None
        raise


def _mount_group(module: Any, name: str, help: str, parent: typer.Typer = app) -> None:
    """Mount a module's ``app`` (a command group) as ``NAME`` of ``parent``, commands guarded."""
    if module is not None and hasattr(module, "app"):
        for command in module.app.registered_commands:
            command.callback = _guard(command.callback)
        parent.add_typer(module.app, name=name, help=help)


#: ``predbench analyze NAME``: the module of each analysis (a ``command``, or an ``app`` group).
ANALYSES = {
    "summary-table": "benchmarks.analyses.summary_table",
    "proxy-report": "benchmarks.analyses.proxy_report",
    "proxy-audit": "benchmarks.analyses.proxy_audit",
    "lc-report": "benchmarks.analyses.lc_report",
    "lc-extrapolation": "benchmarks.analyses.lc_extrapolation",
    "supernet": "benchmarks.analyses.supernet",
    "omni-vary-both": "benchmarks.analyses.omni_vary_both",
    "calibration": "benchmarks.analyses.calibration_report",
    "surrogate-vs-search": "benchmarks.analyses.surrogate_vs_search",
    "mutation-tau": "benchmarks.analyses.mutation_tau",
    "loss-comparison": "benchmarks.analyses.loss_comparison",
    "zc-augmented": "benchmarks.analyses.zc_augmented",
}
#: ``predbench bench NAME``: the module and command function of each timing.
TIMINGS = {
    "ngb-normal": ("benchmarks.timings.ngb_normal", "command"),
    "model-based": ("benchmarks.timings.model_based", "command"),
    "train-layout": ("benchmarks.timings.train_layout", "command"),
    "zero-cost-throughput": ("benchmarks.timings.zero_cost_throughput", "command"),
    "supernet": ("benchmarks.analyses.supernet", "timing_command"),
    "startup": ("benchmarks.timings.startup", "command"),
    "ray-overhead": ("benchmarks.timings.ray_overhead", "command"),
    "sweep-cost": ("benchmarks.timings.sweep_cost", "command"),
}
analyze_app = typer.Typer(no_args_is_help=True,
                          help="Analyses of results and benchmarks (tables, reports, plots).")
bench_app = typer.Typer(no_args_is_help=True,
                        help="Timings of predictors, training and scoring (printed).")
app.add_typer(analyze_app, name="analyze")
app.add_typer(bench_app, name="bench")


def _with_progress(fn: Callable) -> Callable:
    """Run ``fn`` with the project's progress lines (INFO logs) shown, as long analyses want."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        logging.getLogger("benchmarks").setLevel(logging.INFO)
        return fn(*args, **kwargs)

    return wrapper


def _mount_commands() -> None:
    """Mount every analysis under ``predbench analyze`` and every timing under ``bench``."""
    for name, path in ANALYSES.items():
        module = _optional(path)
        if module is not None and hasattr(module, "app"):
            for command in module.app.registered_commands:
                command.callback = _with_progress(command.callback)
            _mount_group(module, name, module.app.info.help, analyze_app)
        elif module is not None:
            analyze_app.command(name)(_guard(_with_progress(module.command)))
    for name, (path, attr) in TIMINGS.items():
        module = _optional(path)
        if module is not None:
            bench_app.command(name)(_guard(getattr(module, attr)))


def _mount_optional() -> None:
    """Mount the optional commands under ``_guard``; each module's ``USER_ERRORS`` join ours."""
    global USER_ERRORS
    build = _optional("benchmarks.builder.cli")
    _mount_group(build, "build", "Build a tabular benchmark by training.")
    _mount_group(_optional("benchmarks.tabular.convert_cli"), "convert",
                 "Convert a public benchmark's files into predbench's format.")
    score = _optional("benchmarks.score")
    if score is not None and hasattr(score, "score_command"):
        app.command("score")(_guard(score.score_command))
        app.command("score-join")(_guard(score.score_join_command))
        from benchmarks.score_compare import score_compare_command

        app.command("score-compare")(_guard(score_compare_command))
    search = _optional("benchmarks.search.cli")
    if search is not None and hasattr(search, "search_command"):
        app.command("search")(_guard(search.search_command))
    for module in (build, score, search):
        USER_ERRORS += tuple(getattr(module, "USER_ERRORS", ()))
    _mount_commands()


_mount_optional()


def _click_exceptions():
    """The parser's exception module (typer vendors click from 0.29 on)."""
    try:
        from typer._click import exceptions
    except ImportError:  # typer before 0.29 uses click itself
        from click import exceptions
    return exceptions


def main(argv: list[str] | None = None) -> None:
    """Run the command line; a mistyped command or option is one line and exit status 2."""
    exceptions = _click_exceptions()
    try:
        code = app(args=argv, prog_name="predbench", standalone_mode=False)
    except exceptions.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        sys.exit(exc.exit_code)
    except exceptions.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "predbench"
        message = " ".join(exc.format_message().split()).rstrip(".")
        err_console.print(f"error: {message}; see `{where} --help`", markup=False,
                          highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted", markup=False, highlight=False)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
