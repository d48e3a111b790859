"""Converters: NASLib's training-data pickles (user-supplied) into the tabular format.

Unpickling can run code, so every entry point needs ``allow_pickle=True`` (CLI:
``--allow-pickle``) and loads through ``restricted_load`` with an allow-list of numpy's array
reconstructors (and, for NB101, the NAS-Bench-101 API object replaced by a plain data holder).

Supported layouts (as NASLib reads them):

- ``nb201`` (``nb201_<dataset>_full_training.pickle``): ``{arch string: {dataset: {
  "train_acc1es", "eval_acc1es", "train_losses", "eval_losses": per-epoch lists,
  "train_times": per-epoch seconds, "flop", "params", "latency": numbers}}}``.
- ``nb301`` (``nb301_full_training.pickle``): ``{compact genotype: {"val_accuracies",
  "train_losses": per-epoch lists, "runtime": total seconds}}``; the compact genotype is, per
  cell, 8 ``(input, op index)`` pairs.
- ``nb101`` (``nb101_data`` pickle of the NAS-Bench-101 API object): ``fixed_statistics``
  (hash -> ``module_adjacency``, ``module_operations``, ``trainable_parameters``) and
  ``computed_statistics`` (hash -> epochs -> list of runs with ``final_validation_accuracy``,
  ``final_test_accuracy``, ``final_train_accuracy``, ``final_training_time``); the final values
  of the 108-epoch budget are converted, one seed per run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.tabular.format import EPOCH_COST, TabularBenchmark
from benchmarks.tabular.safe_pickle import DataHolder, restricted_load
from predictors.spaces import Arch, ArchError, get_space

log = logging.getLogger(__name__)

KINDS = ("nb101", "nb201", "nb301")
NB201_DATASETS = ("cifar10-valid", "cifar100", "ImageNet16-120")
NB201_CURVES = {  # our metric name -> NASLib key
    "val_acc": "eval_acc1es",
    "train_acc": "train_acc1es",
    "val_loss": "eval_losses",
    "train_loss": "train_losses",
}
NB301_CURVES = {"val_acc": "val_accuracies", "train_loss": "train_losses"}
NB101_METRICS = {
    "val_acc": "final_validation_accuracy",
    "test_acc": "final_test_accuracy",
    "train_acc": "final_train_accuracy",
}
NB101_EPOCHS = 108
DIRECTION = {"val_acc": "max", "train_acc": "max", "test_acc": "max",
             "val_loss": "min", "train_loss": "min"}


class ConverterError(ValueError):
    """A NASLib file cannot be converted (opt-in missing, unreadable or unexpected layout)."""


def _numpy_globals() -> dict[tuple[str, str], Any]:
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar  # type: ignore[no-redef]
    out: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        out[(mod, "_reconstruct")] = _reconstruct
        out[(mod, "scalar")] = scalar
    return out


def load_pickle(
    src: str | Path, allow_pickle: bool, extra: Mapping[tuple[str, str], Any] | None = None
) -> Any:
    """Load a NASLib pickle through the restricted unpickler, after the explicit opt-in."""
    src = Path(src)
    if not allow_pickle:
        raise ConverterError(
            f"{src} is a pickle, and loading a pickle can run code; pass allow_pickle=True "
            "(CLI: --allow-pickle) if you trust the file (it is still loaded with a restricted "
            "unpickler)"
        )
    if not src.is_file():
        raise ConverterError(f"{src} does not exist; pass the path of the NASLib data file")
    return restricted_load(src, {**_numpy_globals(), **(extra or {})})


def _curves(records: list[Mapping], keys: Mapping[str, str], where: str) -> np.ndarray:
    """Stack per-epoch lists into ``[arch, 1, epoch, metric]``; all must share one length."""
    try:
        arrays = [[np.asarray(r[k], dtype=np.float64) for k in keys.values()] for r in records]
    except KeyError as exc:
        raise ConverterError(
            f"{where}: a record lacks {exc}; it has {sorted(records[0])}"
        ) from exc
    lengths = {a.shape for row in arrays for a in row}
    if len(lengths) != 1 or len(next(iter(lengths))) != 1:
        raise ConverterError(f"{where}: per-epoch lists differ in length or shape: {lengths}")
    return np.asarray(arrays, dtype=np.float32).transpose(0, 2, 1)[:, None, :, :]


def _metrics(names: Sequence[str], objective: str) -> dict[str, dict]:
    return {n: {"direction": DIRECTION[n], "objective": n == objective} for n in names}


def _save(meta: dict, archs: list[Arch], values: np.ndarray, static: np.ndarray,
          out: str | Path) -> TabularBenchmark:
    if len(set(archs)) != len(archs):
        raise ConverterError(f"{meta['name']}: duplicate architectures in the source")
    bench = TabularBenchmark(meta, archs, values, static.astype(np.float32))
    bench.save(out)
    log.info("%s: %d archs, %d epochs", meta["name"], len(archs), values.shape[2])
    return bench


def convert_nb201(
    src: str | Path,
    dst: str | Path,
    allow_pickle: bool = False,
    datasets: Sequence[str] | None = None,
) -> dict[str, TabularBenchmark]:
    """NASLib NB201 pickle -> ``dst/naslib-nb201-<dataset>/`` per dataset."""
    data = load_pickle(src, allow_pickle)
    if not isinstance(data, dict) or not data:
        raise ConverterError(f"{src}: expected a dict of NB201 arch string -> record")
    space = get_space("nb201")
    try:
        archs = [space.from_string(k) for k in data]
    except ArchError as exc:
        raise ConverterError(f"{src}: {exc}") from exc
    first = next(iter(data.values()))
    chosen = list(datasets) if datasets else [d for d in NB201_DATASETS if d in first]
    out = {}
    for ds in chosen:
        try:
            records = [rec[ds] for rec in data.values()]
        except KeyError as exc:
            raise ConverterError(f"{src}: a record has no dataset {exc}") from exc
        values = _curves(records, NB201_CURVES, f"{src} [{ds}]")
        times = np.array([np.mean(r["train_times"]) for r in records], dtype=np.float64)
        static = np.array(
            [[float(r.get(k, np.nan)) for k in ("params", "flop", "latency")] for r in records]
        )
        static = np.column_stack([static, times])
        meta = {
            "name": f"naslib-nb201-{ds.lower()}",
            "space": "nb201",
            "dataset": ds,
            "description": "NAS-Bench-201 training curves from NASLib's data file.",
            "metrics": _metrics(list(NB201_CURVES), "val_acc"),
            "objective": "val_acc",
            "epochs": int(values.shape[2]),
            "seeds": 1,
            "static": ["params", "flops", "latency", EPOCH_COST],
            "static_meta": {"params": {"unit": "M"}, "flops": {"unit": "MFLOPs"},
                            "latency": {"unit": "s"},
                            EPOCH_COST: {"unit": "s", "estimated": False}},
            "cost": {"estimated": False, "model": "mean of the tabulated train_times per epoch"},
            "source": {"file": Path(src).name, "converter": "benchmarks.tabular.naslib"},
            "citation": "Dong and Yang. NAS-Bench-201. ICLR 2020.",
        }
        out[ds] = _save(meta, archs, values, static, Path(dst) / meta["name"])
    return out


def convert_nb301(
    src: str | Path, dst: str | Path, allow_pickle: bool = False
) -> TabularBenchmark:
    """NASLib NB301 training pickle -> benchmark directory ``dst``."""
    data = load_pickle(src, allow_pickle)
    if not isinstance(data, dict) or not data:
        raise ConverterError(f"{src}: expected a dict of compact genotype -> record")
    space = get_space("darts")
    try:
        archs = [space.from_compact(k) for k in data]  # type: ignore[attr-defined]
    except ArchError as exc:
        raise ConverterError(f"{src}: {exc}") from exc
    records = list(data.values())
    values = _curves(records, NB301_CURVES, str(src))
    epochs = int(values.shape[2])
    try:
        runtime = np.array([float(r["runtime"]) for r in records])
    except KeyError as exc:
        raise ConverterError(f"{src}: a record has no 'runtime'") from exc
    meta = {
        "name": Path(dst).name,
        "space": "darts",
        "dataset": "cifar10",
        "description": "NAS-Bench-301 training data (DARTS space, CIFAR-10) from NASLib.",
        "metrics": _metrics(list(NB301_CURVES), "val_acc"),
        "objective": "val_acc",
        "epochs": epochs,
        "seeds": 1,
        "static": [EPOCH_COST],
        "static_meta": {EPOCH_COST: {"unit": "s", "estimated": False}},
        "cost": {"estimated": False, "model": f"runtime / {epochs} epochs"},
        "source": {"file": Path(src).name, "converter": "benchmarks.tabular.naslib"},
        "citation": "Siems et al. NAS-Bench-301. arXiv:2008.09777.",
    }
    return _save(meta, archs, values, (runtime / epochs)[:, None], dst)


def convert_nb101(
    src: str | Path, dst: str | Path, allow_pickle: bool = False
) -> TabularBenchmark:
    """NASLib NB101 pickle (the NAS-Bench-101 API object) -> benchmark directory ``dst``."""
    holder = load_pickle(src, allow_pickle, {("nasbench.api", "NASBench"): DataHolder})
    fixed = getattr(holder, "fixed_statistics", None)
    computed = getattr(holder, "computed_statistics", None)
    if not isinstance(fixed, dict) or not isinstance(computed, dict):
        raise ConverterError(f"{src}: expected a NAS-Bench-101 API object with fixed_statistics "
                             "and computed_statistics")
    space = get_space("nb101")
    archs, rows, static = [], [], []
    seeds = 0
    for key, fx in fixed.items():
        try:
            matrix, ops = fx["module_adjacency"], fx["module_operations"]
            arch = space.make(matrix, ops)  # type: ignore[attr-defined]
            runs = computed[key][NB101_EPOCHS]
        except (KeyError, ArchError) as exc:
            raise ConverterError(f"{src}: record {key!r}: {exc}") from exc
        archs.append(arch)
        rows.append([[float(r[m]) * 100.0 for m in NB101_METRICS.values()] for r in runs])
        seeds = max(seeds, len(runs))
        times = [float(r["final_training_time"]) for r in runs]
        static.append([float(fx.get("trainable_parameters", np.nan)),
                       float(np.mean(times)) / NB101_EPOCHS])
    values = np.full((len(archs), seeds, 1, len(NB101_METRICS)), np.nan, dtype=np.float32)
    for i, r in enumerate(rows):
        values[i, : len(r), 0, :] = r
    meta = {
        "name": Path(dst).name,
        "space": "nb101",
        "dataset": "cifar10",
        "description": "NAS-Bench-101 final values (108-epoch budget) from NASLib's data file.",
        "metrics": {n: {"direction": "max", "unit": "%", "objective": n == "val_acc"}
                    for n in NB101_METRICS},
        "objective": "val_acc",
        "epochs": NB101_EPOCHS,
        "final_only": True,
        "seeds": seeds,
        "static": ["params", EPOCH_COST],
        "static_meta": {"params": {"unit": "count"}, EPOCH_COST: {"unit": "s"}},
        "cost": {"estimated": False, "model": f"final_training_time / {NB101_EPOCHS}, mean of "
                 "runs (measured on the benchmark's TPUs)"},
        "source": {"file": Path(src).name, "converter": "benchmarks.tabular.naslib"},
        "citation": "Ying et al. NAS-Bench-101. ICML 2019.",
    }
    return _save(meta, archs, values, np.asarray(static), dst)


def convert(kind: str, src: str | Path, dst: str | Path, allow_pickle: bool = False) -> Any:
    """Dispatch on ``kind`` (nb101, nb201, nb301)."""
    if kind == "nb201":
        return convert_nb201(src, dst, allow_pickle)
    if kind == "nb301":
        return convert_nb301(src, dst, allow_pickle)
    if kind == "nb101":
        return convert_nb101(src, dst, allow_pickle)
    raise ConverterError(f"unknown NASLib data kind {kind!r}; known: {', '.join(KINDS)} "
                         "(NAS-Bench-NLP is not supported yet)")
