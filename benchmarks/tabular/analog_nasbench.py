"""Convert the ``analog-nasbench`` package's data into the tabular benchmark ``nb201-cifar10``.

The PyPI package ``analog-nasbench`` (AnalogNAS-Bench) holds, for every one of the 15,625
NAS-Bench-201 cells, a CIFAR-10 accuracy (``baseline_accuracy``), accuracies after post-training
quantization, quantization-aware training, noise injection and analog deployment, and accuracies
after conductance drift of 60 s, 1 h, 1 day and 30 days (value and uncertainty). Its data file is a
pickle of two classes of its own module, and that module does not import on current setuptools, so
this converter finds the file with ``importlib.util.find_spec`` (the package is never imported) and
reads it through ``restricted_load``, which maps exactly those two classes to plain data holders.

Keys are six op indices in NAS-Bench-Suite-Zero's order (``NB201Space.from_op_indices``).

Run once (needs ``pip install -e .[converters]``)::

    predbench convert analog-nasbench --out data/nb201-cifar10

Errors: a missing package, an unreadable, truncated or corrupt data file, a refused global or
unexpected records (and a malformed ``--timings`` or ``--check`` file) raise ``ConverterError``
(``benchmarks.tabular.source``); nothing else escapes. The command prints it as one line and
exits with status 2.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.tabular.cost_model import (
    COST_FEATURES,
    AdditiveCostTable,
    CostModel,
    cost_features,
    fit_cost_model,
    measure_step_times,
    reference_device,
)
from benchmarks.tabular.format import (
    EPOCH_COST,
    TabularBenchmark,
)
from benchmarks.tabular.safe_pickle import DataHolder, restricted_load
from benchmarks.tabular.source import ConverterError, layout_errors, read_json
from predictors.ranking import kendall_tau
from predictors.spaces.base import Arch
from predictors.spaces.nb201 import NB201Space

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

PACKAGE = "analognasbench"
DISTRIBUTION = "analog-nasbench"
DATA_FILE = "data.anb"
NAME = "nb201-cifar10"
#: The CIFAR network of NAS-Bench-201: ``to_network`` arguments plus the input shape.
NETWORK: dict[str, Any] = {
    "channels": 16,
    "cells_per_stage": 5,
    "in_channels": 3,
    "num_classes": 10,
    "input_shape": [3, 32, 32],
}
#: NAS-Bench-201's CIFAR-10 recipe: 200 epochs over the 50,000 training images.
EPOCHS = 200
IMAGES_PER_EPOCH = 50_000

ACCURACIES: dict[str, tuple[str, str]] = {
    "accuracy": ("baseline_accuracy", "CIFAR-10 accuracy of the trained network (digital)"),
    "ptq_accuracy": ("ptq_accuracy", "accuracy after post-training quantization"),
    "qat_accuracy": ("qat_accuracy", "accuracy after quantization-aware training"),
    "noisy_accuracy": ("noisy_accuracy", "accuracy under weight-noise injection"),
    "analog_accuracy": ("analog_accuracy", "accuracy deployed on simulated analog hardware"),
}
DRIFT_TIMES = {60: "60 s", 3600: "1 h", 86400: "1 day", 2592000: "30 days"}
DRIFTS: dict[str, tuple[str, str]] = {
    f"{kind}_drift_{t}": (
        f"{kind}_drift_{t}",
        f"accuracy of the package's {kind} network on analog hardware after {label} of "
        "conductance drift",
    )
    for kind in ("baseline", "analog")
    for t, label in DRIFT_TIMES.items()
}
CITATION = (
    "AnalogNAS-Bench: NAS-Bench-201 cells evaluated for analog in-memory computing (PyPI package "
    "analog-nasbench); Dong, X. and Yang, Y. NAS-Bench-201: Extending the Scope of Reproducible "
    "Neural Architecture Search. ICLR 2020."
)
LAYOUT = "a dict of op-index tuple -> Architecture record with accuracies and drifts"
TIMING_COLUMNS = ("arch", "flops", "seconds_per_image", "device")


class AnalogArchitecture(DataHolder):
    """Stands in for ``analognasbench.data.Architecture`` (attributes only)."""


class AnalogDrift(DataHolder):
    """Stands in for ``analognasbench.data.DriftMeasurement`` (``value``, ``uncertainty``)."""


ALLOWED = {
    ("analognasbench.data", "Architecture"): AnalogArchitecture,
    ("analognasbench.data", "DriftMeasurement"): AnalogDrift,
}


def locate_data_file() -> Path:
    """Path of the package's ``data.anb``, found without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConverterError(
            f"package {DISTRIBUTION!r} is not installed; install it with "
            "`pip install -e .[converters]`"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / DATA_FILE
        if path.is_file():
            return path
    raise ConverterError(f"{DISTRIBUTION} is installed but holds no {DATA_FILE}; reinstall it")


def load_records(path: Path) -> dict[tuple[int, ...], AnalogArchitecture]:
    """The package's ``{op-index tuple: record}`` dict, unpickled through the allow-list."""
    data = restricted_load(path, ALLOWED)
    if not isinstance(data, dict) or not data:
        raise ConverterError(f"{path} does not hold a non-empty dict of architectures")
    bad = [k for k, v in data.items() if not isinstance(v, AnalogArchitecture)]
    if bad:
        raise ConverterError(f"{path}: entries {bad[:3]} are not Architecture records")
    return data


def read_table(path: Path, space: NB201Space) -> tuple[list[Arch], dict[str, dict[str, Any]],
                                                       np.ndarray]:
    """Cells, metric metadata and ``[cell, metric]`` values of the package's data file."""
    records = load_records(path)
    with layout_errors(path, LAYOUT):
        archs = [space.from_op_indices(key) for key in records]
        _, metric_meta, values = _metric_table(records)
    if len(set(archs)) != len(archs):
        raise ConverterError(f"{path}: op-index keys map to duplicate cells")
    return archs, metric_meta, values


def _metric_table(records: Mapping[tuple[int, ...], AnalogArchitecture]) -> tuple[
        list[str], dict[str, dict[str, Any]], np.ndarray]:
    names: list[str] = []
    meta: dict[str, dict[str, Any]] = {}
    columns: list[list[float]] = []
    recs = list(records.values())
    for name, (field, text) in ACCURACIES.items():
        names.append(name)
        meta[name] = {"direction": "max", "unit": "%", "description": text, "source": field}
        columns.append([float(getattr(r, field)) for r in recs])
    for name, (field, text) in DRIFTS.items():
        names.append(name)
        meta[name] = {"direction": "max", "unit": "%", "description": text,
                      "source": f"{field}.value"}
        columns.append([float(getattr(r, field).value) for r in recs])
        unc = f"{name}_uncertainty"
        names.append(unc)
        meta[unc] = {"direction": "min", "unit": "%", "objective": False,
                     "description": f"uncertainty (±) of {name}", "source": f"{field}.uncertainty"}
        columns.append([float(getattr(r, field).uncertainty) for r in recs])
    return names, meta, np.asarray(columns, dtype=np.float64).T


def timing_sample(space: NB201Space, n: int, seed: int = 0) -> list[Arch]:
    """``n`` distinct cells to time: the cheapest and costliest cells plus random ones."""
    rng = np.random.default_rng(seed)
    chosen = [Arch(space.name, ("none",) * 6), Arch(space.name, ("nor_conv_3x3",) * 6)]
    while len(chosen) < n:
        arch = space.sample(rng)
        if arch not in chosen:
            chosen.append(arch)
    return chosen[:n]


def measure_timings(
    space: NB201Space, table: AdditiveCostTable, n: int, rounds: int = 5, threads: int = 1,
    network: Mapping[str, Any] = NETWORK,
) -> pd.DataFrame:
    """Forward+backward seconds per image of ``n`` sampled networks on this machine."""
    import pandas as pd
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        archs = timing_sample(space, n)
        kwargs = {k: v for k, v in network.items() if k != "input_shape"}
        torch.manual_seed(0)
        nets = [space.to_network(arch, **kwargs) for arch in archs]
        seconds = measure_step_times(nets, network["input_shape"], rounds=rounds,
                                     num_classes=network["num_classes"])
        device = reference_device()
    finally:
        torch.set_num_threads(previous)
    counts = table.predict(archs)
    return pd.DataFrame({"arch": [space.to_string(a) for a in archs], "params": counts[:, 0],
                         "flops": counts[:, 1], "seconds_per_image": seconds, "device": device})


def fit_timings(space: NB201Space, timings: pd.DataFrame) -> tuple[CostModel, CostModel]:
    """(FLOPs-only fit, fit on all ``COST_FEATURES``) of measured seconds per image."""
    archs = [space.from_string(a) for a in timings["arch"]]
    device = str(timings["device"].iloc[0])
    y = timings["seconds_per_image"].to_numpy(float)
    x = cost_features(archs, timings["flops"].to_numpy(float))
    return (fit_cost_model(x[:, :1], y, device, COST_FEATURES[:1]),
            fit_cost_model(x, y, device, COST_FEATURES))


def convert(out: Path, n_timed: int = 40, n_verify: int = 30, source: Path | None = None,
            network: Mapping[str, Any] = NETWORK, rounds: int = 5,
            timings: pd.DataFrame | None = None) -> TabularBenchmark:
    """Build ``nb201-cifar10`` from the installed package (or ``source``), save it to ``out``.

    ``timings`` reuses measurements (a ``cost_measurements.csv`` read into a frame) instead of
    timing ``n_timed`` networks anew. ``network`` and ``rounds`` exist for tests (a tiny network,
    quick timing); the committed benchmark uses NAS-Bench-201's CIFAR network.
    """
    path = source or locate_data_file()
    space = NB201Space()
    archs, metric_meta, table_values = read_table(path, space)

    costs = AdditiveCostTable(space, network)
    static_counts = costs.predict(archs)
    rng = np.random.default_rng(1)
    checked = costs.verify([archs[i] for i in rng.choice(len(archs), n_verify, replace=False)])
    if timings is None:
        timings = measure_timings(space, costs, n_timed, rounds, network=network)
    flops_only, model = fit_timings(space, timings)
    epoch_time = model.epoch_time(cost_features(archs, static_counts[:, 1]), IMAGES_PER_EPOCH)
    log.info("cost model R^2 over %d networks on %s: %.4f (FLOPs only), %.4f (%s)", model.n,
             model.device, flops_only.r2, model.r2, ", ".join(model.features))

    canonical = {space.canonical(a) for a in archs}
    metadata = {
        "name": NAME,
        "space": space.name,
        "dataset": "cifar10",
        "description": (
            "NAS-Bench-201 cells on CIFAR-10 from AnalogNAS-Bench: final values only (no "
            "learning curves), one training run per cell; accuracies of the digital network and "
            "after quantization, noise and analog deployment, and after conductance drift."
        ),
        "metrics": metric_meta,
        "objective": "accuracy",
        "objectives": [n for n, m in metric_meta.items() if m.get("objective", True)],
        "epochs": EPOCHS,
        "final_only": True,
        "seeds": 1,
        "static": ["params", "flops", EPOCH_COST],
        "static_meta": {
            "params": {"unit": "count", "description": "trainable parameters of the network"},
            "flops": {"unit": "FLOPs", "description": (
                f"forward FLOPs for one {'x'.join(map(str, network['input_shape']))} image "
                "counted by torch.utils.flop_counter "
                "(convolutions and the classifier, 2 per multiply-add; pooling and BN not "
                f"counted); additive per-edge model verified exactly on {checked} cells")},
            EPOCH_COST: {"unit": "s", "estimated": True,
                         "description": "estimated seconds per training epoch (see cost)"},
        },
        "network": dict(network),
        "num_archs": len(archs),
        "unique_canonical": len(canonical),
        "cost": {
            "estimated": True,
            "model": (
                f"epoch_time = {IMAGES_PER_EPOCH} images * (intercept + coef . features) s, "
                f"features {list(model.features)} (active_edges = edges that are not 'none'): "
                "forward+backward seconds per image measured (batch 32, 1 thread, fastest of "
                f"5 round-robin passes after a warm-up round) for {model.n} sampled CIFAR "
                "networks on the reference device, fitted by non-negative least squares; "
                f"NAS-Bench-201's CIFAR-10 recipe trains {EPOCHS} epochs over "
                f"{IMAGES_PER_EPOCH} images"
            ),
            **model.describe(),
            "r2_flops_only": flops_only.r2,
            "images_per_epoch": IMAGES_PER_EPOCH,
            "measurements": "cost_measurements.csv",
        },
        "source": {
            "package": DISTRIBUTION,
            "version": _package_version(),
            "file": f"{PACKAGE}/{DATA_FILE}",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "converter": "benchmarks.tabular.analog_nasbench",
        },
        "citation": CITATION,
    }
    values = table_values.astype(np.float32)[:, None, None, :]
    static = np.column_stack([static_counts[:, 0], static_counts[:, 1], epoch_time])
    bench = TabularBenchmark(metadata, archs, values, static.astype(np.float32))
    bench.save(out)
    timings.to_csv(out / "cost_measurements.csv", index=False, float_format="%.6g")
    return bench


def _package_version() -> str | None:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


def suite_zero_accuracies(path: Path, dataset: str = "cifar10") -> dict[str, float]:
    """``{op-index key: val_accuracy}`` from a NAS-Bench-Suite-Zero ``zc_nasbench201`` file."""
    data = read_json(path, "a NAS-Bench-Suite-Zero zc_nasbench201 JSON")
    if not isinstance(data, dict) or dataset not in data:
        raise ConverterError(f"{path} has no {dataset!r} section")
    with layout_errors(path, f"{{{dataset!r}: {{op-index key: {{val_accuracy}}}}}}"):
        return {key: float(entry["val_accuracy"]) for key, entry in data[dataset].items()}


def read_timings(path: Path) -> pd.DataFrame:
    """A ``cost_measurements.csv`` written by an earlier conversion."""
    import pandas as pd

    if not path.is_file():
        raise ConverterError(f"{path} does not exist; pass a cost_measurements.csv")
    with layout_errors(path, f"a CSV with the columns {list(TIMING_COLUMNS)}"):
        frame = pd.read_csv(path)
        missing = [c for c in TIMING_COLUMNS if c not in frame.columns]
        if missing or frame.empty:
            raise ConverterError(f"{path} lacks the column(s) {missing} or rows; pass a "
                                 "cost_measurements.csv written by this converter")
        return frame


def compare_with_suite_zero(bench: TabularBenchmark, path: Path,
                            metric: str = "accuracy") -> dict[str, float]:
    """Kendall tau / Spearman of ``metric`` against Suite-Zero's CIFAR-10 val_accuracy."""
    from scipy.stats import spearmanr

    space = bench.space
    reference = suite_zero_accuracies(path)
    ours = bench.final(metric)
    idx = [bench.index_of(space.from_op_indices(ast.literal_eval(k))) for k in reference]
    x, y = ours[idx], np.array(list(reference.values()))
    return {"n": len(idx), "kendall_tau": kendall_tau(x, y),
            "spearman": float(spearmanr(x, y).statistic)}
