"""Run a search configuration many times, each run seeded from its identity, into the store.

A configuration (``SearchSpec``) is plain data; its key hashes everything that shapes the
results. Run ``i``'s seed hashes (benchmark, method, predictor, i) only, so seeds never depend on
execution order, and a run recomputed after a crash is identical to the one that was lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from benchmarks.search.botorch_acq import check_botorch, is_botorch
from benchmarks.search.context import RunContext
from benchmarks.search.optimizers import get_method
from benchmarks.search.oracle import BudgetExhausted, Landscape, Oracle, SearchSetupError, Step
from benchmarks.search.store import SearchStore
from benchmarks.search.surrogate import Prefilter, Surrogate
from benchmarks.tabular import TabularBenchmark, load_benchmark
from benchmarks.threads import limit_threads
from predictors.registry import make

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

    def validate(self) -> None:
        method = get_method(self.method)
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
        for late in ("warmup_pool", "prefilter_params"):  # keep the keys of older configs
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


def _run_once(bench: TabularBenchmark, spec: SearchSpec, run_index: int,
              device: str, threads: int) -> RunResult:
    spec.validate()
    land = landscape(bench, spec.metric)
    seed = spec.seed(run_index)
    rng = np.random.default_rng(seed)
    oracle = Oracle(land, spec.queries, spec.time_budget)
    surrogate = None
    if spec.predictor:
        surrogate = Surrogate(land, spec.predictor, dict(spec.predictor_params),
                              spec.resolved_ensemble(), device,
                              threads=threads)
    prefilter = None
    if spec.prefilter:
        prefilter = Prefilter(land, spec.prefilter, spec.prefilter_keep,
                              dict(spec.prefilter_params), device=device,
                              threads=threads)
    ctx = RunContext(oracle, rng, surrogate, prefilter, spec.warmup_pool)
    start = time.perf_counter()
    try:
        get_method(spec.method).fn(ctx, **spec.resolved_params())
    except BudgetExhausted:
        pass
    wall = time.perf_counter() - start
    strings = [land.space.to_string(land.arch(s.index)) for s in oracle.steps]
    return RunResult(run_index, seed, oracle.steps, strings, wall)


def _worker(path: str, spec: SearchSpec, run_index: int, device: str,
            threads: int) -> RunResult:
    return run_once(load_benchmark(path), spec, run_index, device, threads)


def execute(
    spec: SearchSpec,
    runs: int,
    store: SearchStore,
    bench: TabularBenchmark | None = None,
    jobs: int = 1,
    device: str = "cpu",
    threads: int = 1,
    on_run: Callable[[RunResult], None] | None = None,
) -> str:
    """Run the missing runs ``0..runs-1`` of ``spec``, recording each as it finishes.

    Returns the config key. Finished runs already in the store are skipped, so calling this
    again after an interruption completes the search. ``on_run`` is called after each record.
    """
    spec.validate()
    if runs < 1:
        raise SearchSetupError(f"runs must be at least 1, got {runs}")
    bench = bench if bench is not None else load_benchmark(spec.benchmark)
    Oracle(landscape(bench, spec.metric), spec.queries, spec.time_budget)  # check budgets early
    key = spec.key
    store.add_config(key, spec.config(), spec.label)
    todo = [i for i in range(runs) if i not in store.finished_runs(key)]
    if len(todo) < runs:
        log.info("%s: %d of %d runs already in the store", spec.label, runs - len(todo), runs)

    def record(result: RunResult) -> None:
        store.write_run(key, result.run_index, result.seed, result.steps, result.arch_strings,
                        result.wall_s)
        log.info("%s run %d: %d queries, regret %.4f", spec.label, result.run_index,
                 len(result.steps), result.steps[-1].regret)
        if on_run is not None:
            on_run(result)

    if jobs <= 1 or len(todo) <= 1:
        for i in todo:
            record(run_once(bench, spec, i, device, threads))
        return key
    if bench.path is None:
        raise SearchSetupError("parallel runs (jobs > 1) need a benchmark loaded from disk")
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_worker, str(bench.path), spec, i, device, threads) for i in todo]
        for fut in futures:
            record(fut.result())
    return key
