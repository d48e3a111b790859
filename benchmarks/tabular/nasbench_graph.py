"""Converter: NAS-Bench-Graph (the ``nas-bench-graph`` PyPI package) into the tabular format.

The package ships one pickled ``dict`` per dataset (``light/<dataset>.bench``): integer
architecture key -> ``{"valid_perf", "perf", "latency", "para"}``. It holds final values only
(no curves, no training times), so each benchmark has one "epoch" and a documented cost model:

- ``epoch_time`` = 3 x the tabulated inference latency (a full-batch training epoch is one
  forward and one backward pass, the backward costing about two forwards); estimated.
- ``epochs``: the package does not record which epoch budget each dataset used (its
  hyper-parameter search drew from 200-500); the lower end, 200, is assumed.

The files are read through the restricted unpickler: only numpy's dtype and scalar
reconstructors are resolved.

Errors: a missing package or file, an unreadable, truncated or corrupt file, a refused global or
malformed records raise ``ConverterError`` (``benchmarks.tabular.source``); nothing else escapes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
from pathlib import Path

import numpy as np

from benchmarks.tabular.format import EPOCH_COST, TabularBenchmark
from benchmarks.tabular.safe_pickle import numpy_globals, restricted_load
from benchmarks.tabular.source import ConverterError, layout_errors
from predictors.ranking import kendall_tau
from predictors.spaces import get_space

log = logging.getLogger(__name__)

DATASETS: tuple[str, ...] = (
    "cora",
    "citeseer",
    "pubmed",
    "cs",
    "physics",
    "photo",
    "computers",
    "arxiv",
    "proteins",
)
ASSUMED_EPOCHS = 200
BACKWARD_FACTOR = 3.0
CITATION = (
    "Qin, Zhang, Wang, Zhang, Zhu. NAS-Bench-Graph: Benchmarking Graph Neural Architecture "
    "Search. NeurIPS 2022 Datasets and Benchmarks."
)


ALLOWED = numpy_globals(arrays=False)


def package_dir() -> Path:
    """Directory of the installed ``nas_bench_graph`` package (located, not imported)."""
    spec = importlib.util.find_spec("nas_bench_graph")
    if spec is None or not spec.submodule_search_locations:
        raise ConverterError(
            "the package 'nas-bench-graph' is not installed; pip install nas-bench-graph"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def read_bench(path: str | Path) -> dict[int, dict[str, float]]:
    """Load one ``.bench`` table safely and check its records."""
    path = Path(path)
    if not path.is_file():
        raise ConverterError(f"{path} does not exist; expected a NAS-Bench-Graph .bench file")
    table = restricted_load(path, ALLOWED)
    if not isinstance(table, dict) or not table:
        raise ConverterError(f"{path} does not hold a non-empty dict of architecture records")
    out: dict[int, dict[str, float]] = {}
    for key, rec in table.items():
        with layout_errors(path, f"a valid record under key {key!r:.40} (valid_perf, perf, "
                           "latency, para)"):
            out[int(key)] = {k: float(rec[k]) for k in ("valid_perf", "perf", "latency", "para")}
    if len(out) != len(table):
        raise ConverterError(f"{path}: two keys name the same architecture")
    return out


def convert_dataset(
    dataset: str, out: str | Path, source: str | Path | None = None
) -> TabularBenchmark:
    """Convert one dataset's table into ``out`` (a benchmark directory); returns it."""
    if dataset not in DATASETS:
        raise ConverterError(f"unknown NAS-Bench-Graph dataset {dataset!r}; known: {DATASETS}")
    src = Path(source) if source is not None else package_dir() / "light" / f"{dataset}.bench"
    records = read_bench(src)
    space = get_space("nbgraph-proteins" if dataset == "proteins" else "nbgraph")
    keys = sorted(records)
    with layout_errors(src, "NAS-Bench-Graph architecture keys"):
        archs = [space.from_key(k) for k in keys]
    if len(set(archs)) != len(archs):
        raise ConverterError(f"{src}: two keys name the same architecture")
    valid = np.array([records[k]["valid_perf"] for k in keys]) * 100.0
    test = np.array([records[k]["perf"] for k in keys]) * 100.0
    latency = np.array([records[k]["latency"] for k in keys])
    params = np.array([records[k]["para"] for k in keys]) * 1e6
    tau = kendall_tau(valid, test)
    values = np.stack([valid, test], axis=1)[:, None, None, :].astype(np.float32)
    static = np.stack([params, latency, BACKWARD_FACTOR * latency], axis=1).astype(np.float32)
    metadata = {
        "name": f"nasbench-graph-{dataset}",
        "space": space.name,
        "dataset": dataset,
        "description": (
            f"NAS-Bench-Graph on {dataset}: final validation and test accuracy, "
            "parameters and inference latency of every tabulated GNN; final "
            "values only, no learning curves."
        ),
        "metrics": {
            "valid_acc": {"direction": "max", "unit": "%", "objective": True},
            "test_acc": {"direction": "max", "unit": "%", "objective": False},
        },
        "objective": "valid_acc",
        "epochs": ASSUMED_EPOCHS,
        "final_only": True,
        "seeds": 1,
        "static": ["params", "latency", EPOCH_COST],
        "static_meta": {
            "params": {"unit": "count", "description": "trainable parameters (package 'para')"},
            "latency": {"unit": "s", "description": "inference latency tabulated by the package"},
            EPOCH_COST: {"unit": "s", "estimated": True,
                         "description": "estimated seconds per training epoch (see cost)"},
        },
        "num_archs": len(archs),
        "unique_canonical": len({space.canonical(a) for a in archs}),
        "valid_test_kendall_tau": tau,
        "cost": {
            "estimated": True,
            "model": (
                f"epoch_time = {BACKWARD_FACTOR:g} x inference latency (one forward plus a "
                "backward of about two forwards per full-batch epoch); the package records no "
                "training time"
            ),
            "epochs_assumed": True,
            "epochs_note": (
                "the package does not record each dataset's epoch budget; its hyper-parameter "
                f"search drew 200-500 epochs, the lower end {ASSUMED_EPOCHS} is assumed"
            ),
        },
        "source": {
            "package": "nas-bench-graph",
            "version": _version(),
            "file": f"nas_bench_graph/light/{dataset}.bench",
            "sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
            "converter": "benchmarks.tabular.nasbench_graph",
        },
        "citation": CITATION,
    }
    bench = TabularBenchmark(metadata, archs, values, static)
    bench.save(out)
    log.info("%s: %d archs, valid-vs-test Kendall tau %.3f", dataset, len(archs), tau)
    return bench


def convert_all(
    data_dir: str | Path, datasets: tuple[str, ...] = DATASETS
) -> dict[str, TabularBenchmark]:
    """Convert every dataset into ``data_dir/nasbench-graph-<dataset>``."""
    data_dir = Path(data_dir)
    return {d: convert_dataset(d, data_dir / f"nasbench-graph-{d}") for d in datasets}


def _version() -> str | None:
    try:
        return importlib.metadata.version("nas-bench-graph")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return None
