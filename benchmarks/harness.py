"""One evaluation: (benchmark, predictor, train size, fidelity, trial) -> a record.

Randomness: the train/test split is drawn from a seed derived from the *split key* (benchmark,
metric, trial, test size, label mode, test distribution; not the train size), so every predictor,
train size and fidelity of one trial is judged on the same test architectures against the same
labels, with nested train sets (``benchmarks.protocol``); the predictor's own generators
(network initialization, batches, training, sampling) derive from the full task key, so they vary
with the trial. Nothing depends on execution order.

Time accounting (DESIGN.md): initialization = simulated full-training cost of the labeled
architectures + measured ``fit`` wall time; query time per architecture = simulated partial-training
cost up to the fidelity (only for predictors that read curves) + measured ``query`` wall time / n.
Every component is kept as its own field.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from benchmarks.calibration import CALIBRATION_NAMES, calibration_metrics
from benchmarks.contexts import TaskError, build_contexts, check_compatible
from benchmarks.metrics import compute_metrics
from benchmarks.protocol import (
    SplitSummary,
    check_protocol,
    check_sizes,
    make_split,
)
from benchmarks.tabular import TabularBenchmark, load_benchmark
from predictors.base import DataNeeds, Predictor
from predictors.registry import get as get_predictor_class
from predictors.registry import make

log = logging.getLogger(__name__)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _hash(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def seed_from(text: str) -> int:
    """A 63-bit seed from a hex digest."""
    return int(text[:16], 16) >> 1


@dataclass(frozen=True)
class EvalTask:
    """A fully data-described evaluation. ``benchmark`` is a name or a directory path."""

    benchmark: str
    predictor: str
    params: dict[str, Any] = field(default_factory=dict)
    train_size: int = 0
    fidelity: int | None = None
    trial: int = 0
    test_size: int = 200
    experiment: str = "single"
    metric: str | None = None
    labels: str = "independent"
    test_distribution: str = "cells"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalTask:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})

    def key(self) -> str:
        """Stable identifier: hash of the canonical JSON of every field."""
        return _hash(self.to_dict())[:24]

    def split_key(self) -> str:
        """Identifies a trial's split, shared by every predictor, train size and fidelity."""
        return _hash([self.benchmark, self.metric, self.trial, self.test_size, self.labels,
                      self.test_distribution])[:24]


def resolve_fidelity(task: EvalTask, bench: TabularBenchmark, needs: DataNeeds) -> int | None:
    """Check the task's fidelity against the benchmark (whose curves the predictor can read);
    ``None`` for predictors without curves."""
    if not needs.curve_metrics:
        return None
    if task.fidelity is None:
        raise TaskError(f"predictor {task.predictor!r} reads learning curves: give a fidelity "
                        f"(--fidelity) in 1..{bench.epochs}")
    if not 1 <= task.fidelity <= bench.epochs:
        raise TaskError(f"fidelity {task.fidelity} outside 1..{bench.epochs} (the epochs of "
                        f"benchmark {bench.name!r}); pick a fidelity in that range")
    return int(task.fidelity)


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(0)
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")),
                         model)
    except OSError:
        pass
    return f"cpu ({model or platform.machine()})"


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _timed(device: str, fn, *args):
    _sync(device)
    start = time.perf_counter()
    result = fn(*args)
    _sync(device)
    return result, time.perf_counter() - start


def _sum_cost(fn, *args) -> float | None:
    try:
        return float(np.sum(fn(*args)))
    except KeyError:  # the benchmark tabulates no per-epoch cost
        return None


def tabulated_cost(bench: TabularBenchmark, names: Sequence[str], rows: np.ndarray
                   ) -> tuple[float, list[str]]:
    """Summed seconds of the cost properties ``names`` over ``rows``, and the names the
    benchmark does not tabulate (charged as zero). A NaN entry (a score never computed)
    costs nothing."""
    total, missing = 0.0, []
    for name in names:
        if name not in bench.static_names:
            missing.append(name)
        elif len(rows):
            total += float(np.nansum(bench.static_value(name, rows)))
    return total, missing


def sparse_decimals(bench: TabularBenchmark, metric: str) -> int:
    """Decimals for sparse Kendall tau: 0.1 percentage points of accuracy.

    ``metadata.metrics[metric].unit`` ("percent" or "fraction") decides; without it, values
    above 1.5 are taken as percent.
    """
    unit = bench.metadata["metrics"].get(metric, {}).get("unit")
    if unit is None:
        finite = bench.final(metric)
        unit = "percent" if np.nanmax(np.abs(finite)) > 1.5 else "fraction"
    return 1 if unit == "percent" else 3


def prepare(task: EvalTask) -> tuple[TabularBenchmark, Predictor, DataNeeds, int | None]:
    """Load the benchmark, build the predictor and check the task; user errors raise early."""
    bench = load_benchmark(task.benchmark)
    metric = task.metric or bench.objective
    bench.metric_index(metric)
    check_protocol(task.labels, task.test_distribution)
    predictor = make(task.predictor, **task.params)
    needs = predictor.data_needs()
    check_compatible(bench, needs, task.predictor)
    fidelity = resolve_fidelity(task, bench, needs)
    train_size = task.train_size if (needs.labels or needs.curves_for_train) else 0
    check_sizes(bench, train_size, task.test_size, metric, task.labels)
    if needs.labels and task.train_size < 2:
        raise TaskError(f"predictor {task.predictor!r} fits on labeled architectures: give a "
                        f"train size of at least 2 (got {task.train_size})")
    return bench, predictor, needs, fidelity


def evaluate(task: EvalTask, device: str | None = None) -> dict[str, Any]:
    """Run one evaluation and return its record (raises on any error)."""
    started = time.perf_counter()
    bench, predictor, needs, fidelity = prepare(task)
    metric = task.metric or bench.objective
    device = device or default_device()
    uses_train = needs.labels or needs.curves_for_train
    train_size = task.train_size if uses_train else 0
    split_seed = seed_from(task.split_key())
    split_rng = np.random.default_rng(split_seed)
    split = make_split(bench, train_size, task.test_size,
                       needs.unlabeled_factor * train_size, split_rng, metric,
                       labels=task.labels, distribution=task.test_distribution)
    seed = seed_from(task.key())
    fit_ctx, query_ctx, test_archs = build_contexts(bench, needs, split, fidelity, seed, device,
                                                    metric)

    _, fit_s = _timed(device, predictor.fit, fit_ctx)
    prediction, query_s = _timed(device, predictor.query, test_archs, query_ctx)

    truth = split.test_labels
    metrics = compute_metrics(truth, prediction.mean,
                              sparse_decimals=sparse_decimals(bench, metric))
    calibration: dict[str, float | None] = dict.fromkeys(CALIBRATION_NAMES)
    if prediction.std is not None:
        scored = calibration_metrics(truth, prediction.mean, prediction.std)
        calibration = scored.values
        metrics.missing.update(scored.missing)
    n_test = len(test_archs)
    sim_train = _sum_cost(bench.train_cost, split.train) if uses_train and needs.labels else 0.0
    sim_partial = (
        _sum_cost(bench.partial_cost, split.test, fidelity) if fidelity is not None else 0.0
    )
    sim_partial_per_arch = None if sim_partial is None else sim_partial / n_test
    fit_rows = split.train if uses_train else split.train[:0]
    tab_init, missing = tabulated_cost(bench, needs.cost_properties, fit_rows)
    tab_query, _ = tabulated_cost(bench, needs.cost_properties, split.test)
    tab_query /= n_test
    cls = get_predictor_class(task.predictor)
    record: dict[str, Any] = {
        "key": task.key(),
        **task.to_dict(),
        # A non-default objective is its own benchmark in summaries and plots.
        "benchmark_name": bench.name if metric == bench.objective else f"{bench.name}:{metric}",
        "data_version": bench.data_version,
        "family": cls.family,
        "objective": metric,
        "fidelity": fidelity,
        "train_size": train_size,
        "n_train": int(len(fit_ctx.archs)),
        "n_test": n_test,
        "n_unlabeled": int(len(fit_ctx.unlabeled)),
        "split_seed": split_seed,
        **asdict(SplitSummary.of(bench, metric, split)),
        "predictor_seed": seed,
        "epochs": bench.epochs,
        "device": device,
        "device_name": device_name(device),
        "cost_estimated": bench.cost_estimated,
        "cost_available": sim_train is not None and sim_partial is not None,
        "init_sim_train_s": sim_train,
        "init_sim_tabulated_s": tab_init,
        "init_fit_s": fit_s,
        "init_time_s": (sim_train or 0.0) + tab_init + fit_s,
        "query_sim_partial_s": sim_partial_per_arch,
        "query_sim_tabulated_s": tab_query,
        "query_measured_s": query_s / n_test,
        "query_time_s": (sim_partial_per_arch or 0.0) + tab_query + query_s / n_test,
        "tabulated_cost_missing": missing or None,
        "query_total_measured_s": query_s,
        **metrics.values,
        **calibration,
        "metric_missing": metrics.missing,
        "error_metrics_meaningful": cls.predicts_objective,
        "has_std": prediction.std is not None,
        "live_source": fit_ctx.live.name if fit_ctx.live is not None else None,
        "status": "ok",
        "error": None,
        "wall_s": time.perf_counter() - started,
    }
    return record
