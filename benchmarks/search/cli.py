"""``predbench search``: run searches into the store, then write regret plots and tables.

``search_command`` is a plain typed function with typer option metadata, so the project CLI
mounts it with ``app.command("search")(search_command)``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from benchmarks import checks
from benchmarks.jobs import ADDRESS_HELP, EXECUTOR_HELP
from benchmarks.keyvalue import parse_key_values
from benchmarks.search.acquisition import ACQUISITIONS
from benchmarks.search.botorch_acq import ANALYTIC, BATCH, PREFIX
from benchmarks.search.optimizers import METHODS, get_method
from benchmarks.search.oracle import SearchSetupError
from benchmarks.search.pareto import objectives_for
from benchmarks.search.report import write_report
from benchmarks.search.report_time import write_pareto_report, write_time_report
from benchmarks.search.runner import (
    WARMUP_METHODS,
    RunJob,
    SearchSpec,
    execute_all,
    landscape,
    preflight,
)
from benchmarks.search.store import SearchStore
from benchmarks.tabular import TabularBenchmark, load_benchmark
from predictors.params import matches
from predictors.registry import get, sweep_params

log = logging.getLogger(__name__)

DEFAULT_STORE = Path("results/search/search.db")
DEFAULT_OUT = Path("results/search")
#: Seconds one search run may take unless told otherwise.
DEFAULT_TASK_TIMEOUT = 3600.0
#: Errors of this command that the project CLI reports as one line (exit status 2).
USER_ERRORS = (SearchSetupError,)
#: Every acquisition ``--acquisition`` and ``--param acquisition=`` accept.
ACQUISITION_NAMES = (*ACQUISITIONS, *(PREFIX + k for k in ANALYTIC + BATCH))


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SearchSetupError(f"{option} {text!r} is not JSON ({exc}); pass an object, "
                               f"e.g. '{{\"n\": 5}}'") from None
    if not isinstance(value, dict):
        raise SearchSetupError(f"{option} {text!r} must be a JSON object, e.g. '{{\"n\": 5}}'")
    return value


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``["k=10", "acquisition=ei"]`` -> ``{"k": 10, "acquisition": "ei"}`` (JSON values)."""
    parsed = parse_key_values(items, lambda item: SearchSetupError(
        f"parameter {item!r} must read NAME=VALUE, e.g. k=10"))
    return {name.strip(): value for name, value in parsed.items()}


def build_specs(benchmark: str, methods: list[str], predictors: list[str], queries: int,
                time_budget: float | None, params: dict[str, Any],
                predictor_params: dict[str, Any], prefilter: str | None,
                prefilter_keep: float, acquisitions: list[str], warmup_pool: int = 0,
                full_predictors: bool = False,
                prefilter_params: dict[str, Any] | None = None,
                objectives: tuple[str, ...] = ()) -> list[SearchSpec]:
    """The cross product: predictor-free methods once, guided ones per predictor (and
    acquisition, for BO).

    Predictors run with their sweep settings (``sweep_params``) under ``predictor_params``
    unless ``full_predictors``. A zero-cost warm-up (``warmup_pool``) applies to every method
    with an initial population, predictor-free ones included.
    """
    pre = {"prefilter_params": dict(prefilter_params or {}), "warmup_pool": warmup_pool}
    more = {"objectives": tuple(objectives)}
    _check_method_params(methods, params)
    for acq in acquisitions:
        _check_acquisition(acq)
    specs = []
    for name in methods:
        method = get_method(name)
        own = {k: v for k, v in params.items() if k in method.defaults}
        if not method.uses_predictor:
            warm = warmup_pool if name in WARMUP_METHODS else 0
            specs.append(SearchSpec(benchmark, name, None, queries, time_budget, own,
                                    prefilter=prefilter if warm else None, prefilter_keep=1.0,
                                    **(pre if warm else {}), **more))
            continue
        if not predictors:
            raise SearchSetupError(f"method {name!r} needs --predictor (e.g. --predictor xgb)")
        acqs = acquisitions if name == "bo" and acquisitions else [None]
        for pred in predictors:
            for acq in acqs:
                mp = dict(own) if acq is None else {**own, "acquisition": acq}
                pp = {**sweep_params(pred, full_predictors), **predictor_params}
                specs.append(SearchSpec(benchmark, name, pred, queries, time_budget, mp, pp,
                                        prefilter, prefilter_keep, **pre, **more))
    unused = set(params) - {k for m in methods for k in get_method(m).defaults}
    if unused:
        raise SearchSetupError(f"no chosen method takes parameter(s) {sorted(unused)}")
    return specs


def _check_acquisition(name: Any) -> None:
    if name not in ACQUISITION_NAMES:
        raise SearchSetupError(f"unknown acquisition {name!r}; use one of "
                               f"{', '.join(ACQUISITION_NAMES)}")


def _check_method_params(methods: list[str], params: dict[str, Any]) -> None:
    """Known methods, and method parameters of their defaults' types (counts at least 1)."""
    for name in methods:
        if name not in METHODS:
            raise SearchSetupError(f"--method {name!r} is unknown; use one of "
                                   f"{', '.join(METHODS)}")
    defaults = {k: v for m in methods for k, v in get_method(m).defaults.items()}
    for key, value in params.items():
        if key == "acquisition":
            _check_acquisition(value)
        elif key in defaults and not matches(value, type(defaults[key])):
            raise SearchSetupError(f"--param {key}={json.dumps(value)} must be of the type of "
                                   f"its default (e.g. {key}={json.dumps(defaults[key])})")
        elif isinstance(defaults.get(key), int) and value < (0 if key == "random" else 1):
            raise SearchSetupError(f"--param {key}={value} must be at least "
                                   f"{0 if key == 'random' else 1}")
        elif isinstance(defaults.get(key), float) and value < 0:
            raise SearchSetupError(f"--param {key}={value} must not be negative")


def _check_counts(runs: int, queries: int, time_budget: float | None, prefilter_keep: float,
                  warmup_pool: int, jobs: int, threads: int, task_timeout: float = 0.0) -> None:
    for option, value in (("--runs", runs), ("--queries", queries), ("--jobs", jobs),
                          ("--threads", threads)):
        checks.at_least(option, value)
    if time_budget is not None and not time_budget > 0:
        raise SearchSetupError(f"--time-budget must be positive seconds, got {time_budget}")
    if not 0 < prefilter_keep <= 1:
        raise SearchSetupError(f"--prefilter-keep must lie in (0, 1], got {prefilter_keep}")
    checks.at_least("--warmup-pool", warmup_pool, 0)
    checks.at_least("--task-timeout", task_timeout, 0)


def write_reports(db: SearchStore, bench: TabularBenchmark, out: Path) -> list[Path]:
    """Reports of every configuration stored for ``bench``: the query-budget report of the
    full-fidelity single-objective ones, a time report of all single-objective ones run under
    a time budget where multi-fidelity methods are among them, and a hypervolume report per
    second objective."""
    keys = db.config_keys(bench.name)
    configs = {k: db.config(k) for k in keys}
    for key in keys:
        if stale := db.stale_runs(key, bench.data_version):
            log.warning("the report includes %d run(s) of %s made on other data of %s (it has "
                        "been rebuilt since); run `predbench search` with that configuration "
                        "again to redo them", len(stale), db.label(key), bench.name)
    single = [k for k in keys if not configs[k].get("objectives")]
    full = [k for k in single if not get_method(configs[k]["method"]).fidelity]
    land = landscape(bench, None)
    paths = write_report(db, full, land, out) if full else []
    timed = [k for k in single if configs[k].get("time_budget")]
    if any(get_method(configs[k]["method"]).fidelity for k in timed):
        paths += write_time_report(db, timed, land, out, bench.name)
    by_objective: dict[str, list[str]] = {}
    for k in keys:
        if configs[k].get("objectives"):
            by_objective.setdefault(configs[k]["objectives"][0], []).append(k)
    for second, group in by_objective.items():
        paths += write_pareto_report(db, group, objectives_for(land, second), out)
    return paths


def search_command(
    benchmark: Annotated[str, typer.Option(help="benchmark name or directory")],
    method: Annotated[str, typer.Option(
        help=f"comma-separated methods: {', '.join(METHODS)}")] = "random,rea",
    predictor: Annotated[str | None, typer.Option(
        help="comma-separated registered predictors for evolution and bo")] = None,
    runs: Annotated[int, typer.Option(help="independent runs per configuration")] = 20,
    queries: Annotated[int, typer.Option(help="query budget per run")] = 100,
    time_budget: Annotated[float | None, typer.Option(
        help="simulated training-seconds budget per run (stops before exceeding it)")] = None,
    store: Annotated[Path, typer.Option(help="SQLite store (resumable)")] = DEFAULT_STORE,
    out: Annotated[Path, typer.Option(help="directory for plots and tables")] = DEFAULT_OUT,
    param: Annotated[list[str] | None, typer.Option(
        help="method parameter NAME=VALUE, repeatable (e.g. k=10, population=20)")] = None,
    predictor_params: Annotated[str, typer.Option(
        help="JSON object of predictor hyperparameters")] = "{}",
    acquisition: Annotated[str | None, typer.Option(
        help="comma-separated BO acquisitions: its, ucb, ei, mean; with a GP surrogate also "
             "BoTorch's botorch:logei, pi, ucb, qlogei, qlognei, qucb")] = None,
    prefilter: Annotated[str | None, typer.Option(
        help="zero-cost predictor that pre-filters candidate pools for free")] = None,
    prefilter_keep: Annotated[float, typer.Option(
        help="fraction of each candidate pool the pre-filter keeps (1: pools unfiltered)")] = 0.5,
    warmup_pool: Annotated[int, typer.Option(
        help="zero-cost warm-up: initial population = the pre-filter's best of this many "
             "random architectures (0: off)")] = 0,
    prefilter_params: Annotated[str, typer.Option(
        help="JSON object of pre-filter hyperparameters (e.g. '{\"source\": \"table\"}')")] = "{}",
    objectives: Annotated[str | None, typer.Option(
        help="a second objective beside the metric, for random, nsga and mobo: a tabulated "
             "property (params, flops, latency_cpu; lower is better) or a metric (e.g. "
             "ptq_accuracy); runs are judged by hypervolume")] = None,
    full_predictors: Annotated[bool, typer.Option(
        help="predictors at their full defaults instead of the sweep settings")] = False,
    jobs: Annotated[int, typer.Option(help="parallel worker processes")] = 1,
    threads: Annotated[int, typer.Option(help="native threads per run (xgboost, torch)")] = 1,
    device: Annotated[str, typer.Option(help="device for predictors")] = "cpu",
    task_timeout: Annotated[float, typer.Option(
        help="seconds one run may take; past it its worker process is stopped and the run is "
             "not stored (the next call runs it again). 0: no limit, and with --jobs 1 runs "
             "then go in this process (no protection from a predictor that crashes it)")
    ] = DEFAULT_TASK_TIMEOUT,
    executor: Annotated[str, typer.Option(help=EXECUTOR_HELP)] = "process",
    address: Annotated[str | None, typer.Option(envvar="RAY_ADDRESS", help=ADDRESS_HELP)
                       ] = None,
) -> list[Path]:
    """Run NAS methods on a tabular benchmark; write regret plots and a queries-to-top table.

    A run that fails (raises, kills its worker process twice, or passes --task-timeout) is not
    stored; the other runs go on, and the command exits with status 1 after its report.
    """
    _check_counts(runs, queries, time_budget, prefilter_keep, warmup_pool, jobs, threads,
                  task_timeout)
    checks.executor(executor)
    checks.device(device)
    checks.output_dir(out, "--out")
    pparams = _json_object(predictor_params, "--predictor-params")
    fparams = _json_object(prefilter_params, "--prefilter-params")
    for name in checks.names(predictor) + ([prefilter] if prefilter else []):
        get(name)
    bench = load_benchmark(benchmark)
    specs = build_specs(bench.name, checks.names(method), checks.names(predictor), queries,
                        time_budget, parse_params(param), pparams, prefilter, prefilter_keep,
                        checks.names(acquisition), warmup_pool, full_predictors, fparams,
                        tuple(checks.names(objectives)))
    if not specs:
        raise SearchSetupError("no method chosen: pass --method (e.g. random,rea,evolution)")
    preflight(specs, bench, device)
    with SearchStore(store) as db:
        for spec in specs:
            log.info("search %s on %s: %d runs x %d queries", spec.label, bench.name, runs,
                     queries)
        summary = execute_all(specs, runs, db, bench=bench, jobs=jobs, device=device,
                              threads=threads, task_timeout=task_timeout,
                              executor=executor, address=address, progress=True)
        # the report covers every configuration stored for this benchmark, not only this call's
        paths = write_reports(db, bench, out)
    for path in paths:
        if path.suffix == ".md":
            typer.echo(path.read_text())
    typer.echo(summary.line("runs", str(store)))
    if summary.failed:
        for line in summary.failure_lines(RunJob.label):
            typer.echo(line, err=True)
        typer.echo("error: the failed runs were not stored; the next call runs them again",
                   err=True)
        raise typer.Exit(1)
    return paths
