"""Run a search configuration many times, each run seeded from its identity, into the store.

A configuration (``SearchSpec``) is plain data; its key hashes everything that shapes the
results. Run ``i``'s seed hashes (benchmark, method, predictor, i) only, so seeds never depend on
execution order, and a run recomputed after a crash is identical to the one that was lost.

Runs are jobs of a ``benchmarks.jobs`` runner: in this process, or in worker processes where a
run that kills its worker runs again alone and one past the time limit is stopped. A failed run
is not stored (a later call runs it again); the other runs go on.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from benchmarks.jobs import JobsSummary, job_runner
from benchmarks.progress import Progress
from benchmarks.search.botorch_acq import check_botorch, is_botorch
from benchmarks.search.context import RunContext
from benchmarks.search.fidelity import FidelityOracle
from benchmarks.search.multifidelity import CurveRanker, rung_epochs
from benchmarks.search.multiobjective import MOBO_ACQUISITIONS
from benchmarks.search.optimizers import METHODS, get_method
from benchmarks.search.oracle import BudgetExhausted, Landscape, Oracle, SearchSetupError, Step
from benchmarks.search.pareto import ParetoOracle, objectives_for
from benchmarks.search.store import SearchStore
from benchmarks.search.surrogate import Prefilter, Surrogate
from benchmarks.tabular import TabularBenchmark, load_benchmark
from benchmarks.threads import limit_threads
from predictors.params import check_params
from predictors.registry import get, make

log = logging.getLogger(__name__)


#: Methods that start from an initial population a zero-cost warm-up can choose.
WARMUP_METHODS = ("rea", "evolution", "bo")


@dataclass(frozen=True)
class SearchSpec:
    """Everything that defines a search configuration (not the number of runs)."""

    benchmark: str
    method: str
    predictor: str | None = None
    queries: int = 100
    time_budget: float | None = None
    method_params: dict[str, Any] = field(default_factory=dict)
    predictor_params: dict[str, Any] = field(default_factory=dict)
    prefilter: str | None = None
    prefilter_keep: float = 0.5
    ensemble: int | str | None = None  # None: the method's default
    metric: str | None = None
    #: Zero-cost warm-up: the initial architectures are the ``prefilter``'s best of this many
    #: random draws (0: plain random initial architectures).
    warmup_pool: int = 0
    prefilter_params: dict[str, Any] = field(default_factory=dict)
    #: A second objective (metric or tabulated property): the search is judged by hypervolume.
    objectives: tuple[str, ...] = ()

    def validate(self) -> None:
        method = get_method(self.method)
        if self.objectives and method.objectives == "single":
            multi = [n for n, m in METHODS.items() if m.objectives != "single"]
            raise SearchSetupError(
                f"method {self.method!r} searches one objective; with --objectives use "
                f"{', '.join(multi)}")
        if not self.objectives and method.objectives == "multi":
            raise SearchSetupError(
                f"method {self.method!r} searches two objectives: pass --objectives "
                "(e.g. latency_cpu, params or ptq_accuracy)")
        if len(self.objectives) > 1:
            raise SearchSetupError(
                f"--objectives names one objective beside the metric, got {len(self.objectives)}"
                f" ({', '.join(self.objectives)}); hypervolumes here are two-dimensional")
        if method.uses_predictor and not self.predictor:
            raise SearchSetupError(
                f"method {self.method!r} is predictor-guided: pass --predictor (e.g. xgb)"
            )
        if not method.uses_predictor and self.predictor:
            raise SearchSetupError(
                f"method {self.method!r} uses no predictor; drop --predictor {self.predictor!r}"
            )
        if self.warmup_pool and not self.prefilter:
            raise SearchSetupError(
                "a zero-cost warm-up ranks its pool with a proxy: pass --prefilter (e.g. params)"
            )
        if self.warmup_pool and self.method not in WARMUP_METHODS:
            raise SearchSetupError(
                f"method {self.method!r} has no initial population to warm up; "
                f"warm-up applies to {', '.join(WARMUP_METHODS)}"
            )
        acquisition = str(self.resolved_params().get("acquisition", ""))
        if is_botorch(acquisition):
            try:
                check_botorch(acquisition, make(self.predictor, **self.predictor_params),
                              self.predictor)
            except ValueError as err:
                raise SearchSetupError(str(err)) from None
            if isinstance(self.ensemble, int) and self.ensemble > 1:
                raise SearchSetupError(
                    f"acquisition {acquisition!r} works on one GP's joint posterior: drop the "
                    f"{self.ensemble}-member ensemble"
                )
        hvi = self.resolved_params().get("hvi")
        if hvi is not None and hvi not in MOBO_ACQUISITIONS:
            raise SearchSetupError(f"--param hvi={hvi!r} is unknown; use one of "
                                   f"{', '.join(MOBO_ACQUISITIONS)}")
        fraction = self.resolved_params().get("random_fraction")
        if fraction is not None and not 0 <= fraction <= 1:
            raise SearchSetupError(f"--param random_fraction={fraction} must lie in [0, 1]")
        unknown = set(self.method_params) - set(method.defaults)
        if unknown:
            raise SearchSetupError(
                f"method {self.method!r} has no parameter(s) {sorted(unknown)}; "
                f"it takes {sorted(method.defaults)}"
            )

    def resolved_params(self) -> dict[str, Any]:
        return {**get_method(self.method).defaults, **self.method_params}

    def resolved_ensemble(self) -> int | str:
        return get_method(self.method).ensemble if self.ensemble is None else self.ensemble

    def config(self) -> dict[str, Any]:
        """Plain-data description with defaults filled in (what the key hashes)."""
        data = asdict(self)
        data["method_params"] = self.resolved_params()
        data["ensemble"] = self.resolved_ensemble() if self.predictor else None
        for late in ("warmup_pool", "prefilter_params", "objectives"):  # keep older keys
            if not data[late]:
                del data[late]
        return data

    @property
    def key(self) -> str:
        text = json.dumps(self.config(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        parts = [self.method]
        if self.predictor:
            parts.append(self.predictor)
        if self.method == "bo":
            parts.append(str(self.resolved_params()["acquisition"]))
        defaults = get_method(self.method).defaults
        changed = [f"{k}={v}" for k, v in sorted(self.method_params.items())
                   if k != "acquisition" and defaults.get(k) != v]
        if changed:
            parts.append(",".join(changed))
        if self.prefilter and self.prefilter_keep < 1:
            parts.append(f"pre:{self.prefilter}")
        if self.warmup_pool:
            parts.append(f"warm:{self.prefilter}@{self.warmup_pool}")
        if self.objectives:
            parts.append("vs:" + ",".join(self.objectives))
        return "/".join(parts)

    def seed(self, run_index: int) -> int:
        """Seed of run ``run_index``: a hash of (benchmark, method, predictor, run index)."""
        ident = f"{self.benchmark}|{self.method}|{self.predictor or '-'}|{run_index}"
        return int.from_bytes(hashlib.sha256(ident.encode()).digest()[:8], "little") >> 1


@dataclass
class RunResult:
    run_index: int
    seed: int
    steps: list[Step]
    arch_strings: list[str]
    wall_s: float


_LANDSCAPES: dict[tuple[int, str | None], Landscape] = {}


def landscape(bench: TabularBenchmark, metric: str | None = None) -> Landscape:
    """One cached ``Landscape`` per benchmark object and metric."""
    key = (id(bench), metric)
    if key not in _LANDSCAPES:
        _LANDSCAPES.clear()  # keep one benchmark's neighbour cache at a time
        _LANDSCAPES[key] = Landscape(bench, metric)
    return _LANDSCAPES[key]


def run_once(bench: TabularBenchmark, spec: SearchSpec, run_index: int,
             device: str = "cpu", threads: int = 1) -> RunResult:
    """One independent run of ``spec``, deterministic in its seed.

    Native thread pools (OpenMP/BLAS of xgboost, scikit-learn, torch) are limited to ``threads``
    during the run: runs are parallel across processes, and oversubscribed pools slow tiny
    surrogate fits by orders of magnitude on a shared machine.
    """
    with limit_threads(threads):
        return _run_once(bench, spec, run_index, device, threads)


def make_oracle(spec: SearchSpec, land: Landscape) -> Oracle:
    """The oracle a run of ``spec`` queries: Pareto (two objectives), partial training
    (multi-fidelity methods) or plain."""
    if spec.objectives:
        return ParetoOracle(land, spec.queries, spec.time_budget,
                            objectives=objectives_for(land, spec.objectives[0]))
    if get_method(spec.method).fidelity:
        return FidelityOracle(land, spec.queries, spec.time_budget)
    return Oracle(land, spec.queries, spec.time_budget)


def make_models(spec: SearchSpec, land: Landscape, device: str, threads: int | None = 1
                ) -> tuple[Surrogate | None, CurveRanker | None]:
    """The run's surrogate, or the curve predictor ranking partly trained cells."""
    if not spec.predictor:
        return None, None
    if get_method(spec.method).curve_predictor:
        return None, CurveRanker(land, spec.predictor, dict(spec.predictor_params), device,
                                 threads)
    return Surrogate(land, spec.predictor, dict(spec.predictor_params),
                     spec.resolved_ensemble(), device, threads=threads), None


def _run_once(bench: TabularBenchmark, spec: SearchSpec, run_index: int,
              device: str, threads: int) -> RunResult:
    spec.validate()
    land = landscape(bench, spec.metric)
    seed = spec.seed(run_index)
    rng = np.random.default_rng(seed)
    oracle = make_oracle(spec, land)
    surrogate, ranker = make_models(spec, land, device, threads)
    prefilter = None
    if spec.prefilter:
        prefilter = Prefilter(land, spec.prefilter, spec.prefilter_keep,
                              dict(spec.prefilter_params), device=device,
                              threads=threads)
    ctx = RunContext(oracle, rng, surrogate, prefilter, spec.warmup_pool, ranker)
    start = time.perf_counter()
    try:
        get_method(spec.method).fn(ctx, **spec.resolved_params())
    except BudgetExhausted:
        pass
    wall = time.perf_counter() - start
    strings = [land.space.to_string(land.arch(s.index)) for s in oracle.steps]
    return RunResult(run_index, seed, oracle.steps, strings, wall)


def preflight(specs: Sequence[SearchSpec], bench: TabularBenchmark, device: str) -> None:
    """Every check a run would make, for every configuration, before any run starts."""
    for spec in specs:
        spec.validate()
        land = landscape(bench, spec.metric)
        make_oracle(spec, land)
        params = spec.resolved_params()
        if get_method(spec.method).fidelity:
            rung_epochs(bench.epochs, int(params["eta"]), int(params["min_epoch"]))
        if spec.predictor:
            check_params(get(spec.predictor), spec.predictor_params)
            make_models(spec, land, device)
        if spec.prefilter:
            check_params(get(spec.prefilter), spec.prefilter_params)
            Prefilter(land, spec.prefilter, spec.prefilter_keep, dict(spec.prefilter_params),
                      device=device)


@dataclass(frozen=True)
class RunJob:
    """Run ``run_index`` of ``spec``, and the modules of its predictors (plug-ins included)."""

    spec: SearchSpec
    run_index: int
    modules: tuple[str, ...] = ()

    def label(self) -> str:
        return f"{self.spec.label} run {self.run_index}"


def _init_worker(path: str | None = None) -> None:
    """Set up a search worker: every built-in predictor imported once, and the benchmark at
    ``path`` loaded (a benchmark missing on a worker is a setup error)."""
    from predictors.registry import load_all

    load_all()
    if path is not None:
        _load(path)


@functools.lru_cache(maxsize=2)
def _load(path: str) -> TabularBenchmark:
    return load_benchmark(path)


def _run_job(job: RunJob, path: str, device: str, threads: int) -> RunResult:
    """One run in a worker process, on the benchmark it loads once."""
    for module in job.modules:
        importlib.import_module(module)
    return run_once(_load(path), job.spec, job.run_index, device, threads)


def execute(
    spec: SearchSpec,
    runs: int,
    store: SearchStore,
    bench: TabularBenchmark | None = None,
    jobs: int = 1,
    device: str = "cpu",
    threads: int = 1,
    on_run: Callable[[RunResult], None] | None = None,
    task_timeout: float | None = None,
) -> str:
    """Run the missing runs ``0..runs-1`` of ``spec``, recording each as it finishes.

    Returns the config key; raises ``JobsFailed`` once the others are stored when a run failed.
    See ``execute_all``.
    """
    execute_all([spec], runs, store, bench, jobs, device, threads, on_run,
                task_timeout).check("runs", str(store.path))
    return spec.key


def execute_all(
    specs: Sequence[SearchSpec],
    runs: int,
    store: SearchStore,
    bench: TabularBenchmark | None = None,
    jobs: int = 1,
    device: str = "cpu",
    threads: int = 1,
    on_run: Callable[[RunResult], None] | None = None,
    task_timeout: float | None = None,
    start_method: str = "spawn",
    executor: str = "process",
    address: str | None = None,
    progress: bool = False,
) -> JobsSummary:
    """Run the missing runs ``0..runs-1`` of every spec (one benchmark) into the store.

    Finished runs already in the store are skipped, so calling this again after an interruption
    or a failure completes the search; those made on an earlier build of the benchmark (another
    ``data_version``, kept with each run) run again. ``on_run`` is called after each record.
    ``jobs`` worker processes share the runs; each may take ``task_timeout`` seconds (``None``
    or ``0``: no limit; one job and no limit run in this process). With ``executor="ray"`` the
    runs are tasks of the Ray cluster at ``address`` (``jobs`` at a time, each asking for
    ``threads`` CPUs and, on cuda, a GPU). ``progress`` reports finished runs
    (``benchmarks.progress``). Returns what became of the runs.
    """
    if runs < 1:
        raise SearchSetupError(f"runs must be at least 1, got {runs}")
    specs[0].validate()
    bench = bench if bench is not None else load_benchmark(specs[0].benchmark)
    preflight(specs, bench, device)
    summary, todo = JobsSummary(), []
    version = bench.data_version
    for spec in specs:
        store.add_config(spec.key, spec.config(), spec.label)
        stale = store.stale_runs(spec.key, version)
        if stale:
            log.warning("%s: %d run(s) in %s were made on other data of %s (it has been rebuilt "
                        "since); running them again", spec.label, len(stale), store.path,
                        bench.name)
        done = store.finished_runs(spec.key) - stale
        modules = tuple(get(n).__module__ for n in (spec.predictor, spec.prefilter) if n)
        todo += [RunJob(spec, i, modules) for i in range(runs) if i not in done]
        skipped = sum(i in done for i in range(runs))
        summary.skipped += skipped
        if skipped:
            log.info("%s: %d of %d runs already in the store", spec.label, skipped, runs)
    if not todo:
        return summary
    on_gpu = device.startswith("cuda")
    if executor == "ray" and on_gpu:
        device = "cuda"  # the GPU Ray gives the task
    path = None if bench.path is None else str(bench.path)
    runner = job_runner(max(1, min(jobs, len(todo))), task_timeout, _init_worker, (path,),
                        start_method=start_method, executor=executor, address=address,
                        cpus=threads, gpus=1.0 if executor == "ray" and on_gpu else 0.0)
    if runner.in_process:
        def run(job: RunJob) -> RunResult:
            return run_once(bench, job.spec, job.run_index, device, threads)
    elif path is None:
        raise SearchSetupError("parallel runs (jobs > 1), a time limit and Ray need a "
                               "benchmark loaded from disk")
    else:
        run = functools.partial(_run_job, path=path, device=device, threads=threads)
    with Progress(len(todo), "search runs", enabled=progress) as bar:
        for job, outcome in runner.map(run, todo, label=RunJob.label):
            if not summary.add(job, outcome):
                log.warning("%s failed, not stored: %s", job.label(), outcome.error)
                bar.done(job.label(), "failed")
                continue
            result: RunResult = outcome
            store.write_run(job.spec.key, result.run_index, result.seed, result.steps,
                            result.arch_strings, result.wall_s, version)
            log.info("%s run %d: %d queries, regret %.4f", job.spec.label, result.run_index,
                     len(result.steps), result.steps[-1].regret)
            bar.done(job.label())
            if on_run is not None:
                on_run(result)
    return summary
