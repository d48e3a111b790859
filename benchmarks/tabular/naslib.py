"""Converters: NASLib's training-data pickles (user-supplied) into the tabular format.

Unpickling can run code, so every entry point needs ``allow_pickle=True`` (CLI:
``predbench convert naslib KIND SRC OUT --allow-pickle``) and loads through ``restricted_load``
with an allow-list of numpy's array reconstructors (made safe: no object dtypes, no allocation
from a pickled shape) and, for NB101, the NAS-Bench-101 API object replaced by a plain data
holder.

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

Errors: a missing opt-in, an unreadable, truncated or corrupt file, a refused global or an
unexpected layout raise ``ConverterError`` (``benchmarks.tabular.source``); nothing else escapes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.tabular.format import EPOCH_COST, TabularBenchmark
from benchmarks.tabular.safe_pickle import DataHolder, numpy_globals, restricted_load
from benchmarks.tabular.source import ConverterError, layout_errors
from predictors.spaces import Arch, get_space

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
NB201_LAYOUT = "a dict of NB201 arch string -> {dataset: record of per-epoch lists}"
NB301_LAYOUT = "a dict of compact genotype -> {val_accuracies, train_losses, runtime}"
NB101_LAYOUT = ("a NAS-Bench-101 API object with fixed_statistics and computed_statistics "
                f"(hash -> {NB101_EPOCHS} -> runs)")


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
    return restricted_load(src, {**numpy_globals(), **(extra or {})})


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
    if next(iter(lengths))[0] == 0:
        raise ConverterError(f"{where}: per-epoch lists are empty")
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
    with layout_errors(src, NB201_LAYOUT):
        tables = _nb201_tables(data, src, datasets)
    return {ds: _save(meta, archs, values, static, Path(dst) / meta["name"])
            for ds, (meta, archs, values, static) in tables.items()}


def _nb201_tables(data: Any, src: str | Path, datasets: Sequence[str] | None) -> dict[str, tuple]:
    """Per dataset: (metadata, archs, values, static) of a loaded NASLib NB201 pickle."""
    if not isinstance(data, dict) or not data:
        raise ConverterError(f"{src}: expected {NB201_LAYOUT}")
    space = get_space("nb201")
    archs = [space.from_string(k) for k in data]
    first = next(iter(data.values()))
    chosen = list(datasets) if datasets else [d for d in NB201_DATASETS if d in first]
    if not chosen:
        raise ConverterError(f"{src}: records hold none of the datasets {list(NB201_DATASETS)}")
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
        out[ds] = (meta, archs, values, static)
    return out


def convert_nb301(
    src: str | Path, dst: str | Path, allow_pickle: bool = False
) -> TabularBenchmark:
    """NASLib NB301 training pickle -> benchmark directory ``dst``."""
    data = load_pickle(src, allow_pickle)
    with layout_errors(src, NB301_LAYOUT):
        if not isinstance(data, dict) or not data:
            raise ConverterError(f"{src}: expected {NB301_LAYOUT}")
        space = get_space("darts")
        archs = [space.from_compact(k) for k in data]  # type: ignore[attr-defined]
        records = list(data.values())
        values = _curves(records, NB301_CURVES, str(src))
        runtime = np.array([float(r["runtime"]) for r in records])
    epochs = int(values.shape[2])
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
    with layout_errors(src, NB101_LAYOUT):
        archs, rows, static = _nb101_rows(holder, src)
    seeds = max(len(r) for r in rows)
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


def _nb101_rows(holder: Any, src: str | Path) -> tuple[list[Arch], list[list], list[list]]:
    """Architectures, per-run final metrics and static properties of the NAS-Bench-101 object."""
    fixed = getattr(holder, "fixed_statistics", None)
    computed = getattr(holder, "computed_statistics", None)
    if not isinstance(fixed, dict) or not isinstance(computed, dict) or not fixed:
        raise ConverterError(f"{src}: expected {NB101_LAYOUT}")
    space = get_space("nb101")
    archs, rows, static = [], [], []
    for key, fx in fixed.items():
        arch = space.make(fx["module_adjacency"], fx["module_operations"])  # type: ignore[attr-defined]
        runs = list(computed[key][NB101_EPOCHS])
        if not runs:
            raise ConverterError(f"{src}: record {key!r:.40} has no run at {NB101_EPOCHS} epochs")
        archs.append(arch)
        rows.append([[float(r[m]) * 100.0 for m in NB101_METRICS.values()] for r in runs])
        times = [float(r["final_training_time"]) for r in runs]
        static.append([float(fx.get("trainable_parameters", np.nan)),
                       float(np.mean(times)) / NB101_EPOCHS])
    return archs, rows, static


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
