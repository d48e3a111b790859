"""Converter: NAS-Bench-Suite-Zero ``zc_*.json`` score tables into the tabular format.

A table maps dataset -> architecture key -> record; a record holds ``val_accuracy`` and, per
zero-cost proxy, ``{"score": float, "time": seconds}`` or the bare score. A table may be wrapped
in its space's name (``{"nasbench101": {dataset: ...}}``). Each dataset becomes one benchmark
whose objective is ``val_accuracy`` (final value only) and whose static properties are, per
proxy, ``zc_<proxy>`` (the score) and ``zc_<proxy>_time`` (the seconds it took; NaN where the
table has none). A "tabulated" zero-cost predictor reads these properties. No training times
are tabulated, so the benchmark has no ``epoch_time`` (``cost.available = false``).

Where predbench builds the space's networks, the benchmark's ``network`` configuration is the
network NAS-Bench-Suite-Zero scored (NB101 and NB301 on CIFAR-10; NB201 on CIFAR-10, CIFAR-100
and ImageNet16-120), so ``params``, ``flops`` and the live proxies run on it and can be checked
against the table (``predbench analyze proxy-report --against-table``).

Architecture keys (NASLib's): for NAS-Bench-201 the op-index tuple ``"(0, 2, 3, 2, 3, 1)"``; for
NAS-Bench-101 the flattened 7x7 adjacency matrix followed by 7 op indices; for NAS-Bench-301 the
compact genotype ``"[[(0, 5), (1, 2), ...], [...]]"``. The space is taken from the wrapper, else
the file name (``zc_nasbench101.json``), else the form of the keys; pass ``space`` to override,
or ``parse_key`` for other key forms.

Errors: a missing, unreadable, non-UTF-8 or invalid JSON file and an unexpected layout raise
``ConverterError`` (``benchmarks.tabular.source``); nothing else escapes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks.tabular.format import TabularBenchmark
from benchmarks.tabular.source import ConverterError, layout_errors, read_json
from predictors.spaces import Arch, ArchError, get_space

log = logging.getLogger(__name__)

PROXY_PREFIX = "zc_"
CITATION = (
    "Krishnakumar, White, Zela, Tu, Safari, Hutter. NAS-Bench-Suite-Zero: Accelerating Research "
    "on Zero Cost Proxies. NeurIPS 2022 Datasets and Benchmarks."
)
DATASET_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
LAYOUT = "{dataset: {arch key: {val_accuracy, <proxy>: {score, time} or score}}}"
#: Suite-Zero's (NASLib's) search-space names and predbench's.
SPACE_NAMES = {"nasbench101": "nb101", "nasbench201": "nb201", "nasbench301": "darts"}
#: Record fields that are not proxy scores.
RECORD_FIELDS = ("val_accuracy", "idx", "arch")
#: The network NAS-Bench-Suite-Zero scored, per (space, dataset): ``to_network`` keyword
#: arguments and the input shape.
NETWORKS: dict[tuple[str, str], dict] = {
    ("nb101", "cifar10"): {"input_shape": [3, 32, 32], "num_classes": 10},
    ("darts", "cifar10"): {"input_shape": [3, 32, 32], "num_classes": 10},
    **{("nb201", d): {"channels": 16, "cells_per_stage": 5, "in_channels": 3,
                      "num_classes": k, "input_shape": [3, size, size]}
       for d, k, size in (("cifar10", 10, 32), ("cifar100", 100, 32),
                          ("imagenet16-120", 120, 16))},
}


def default_key_parser(space_name: str) -> Callable[[str], Arch]:
    space = get_space(space_name)
    parsers = {"nb201": "from_op_indices", "nb101": "from_naslib_tuple", "darts": "from_compact"}
    return getattr(space, parsers.get(space_name, "from_string"))


def infer_space(table: dict, src: str | Path) -> str:
    """The table's space: from its wrapper, else the file name, else the first key's form
    (56 integers: NB101; a nested list: NB301; otherwise NB201)."""
    for name, space in SPACE_NAMES.items():
        if name in table or name in Path(src).name.lower():
            return space
    for records in table.values():
        for key in records:
            text = str(key).strip()
            if text.startswith(("[[", "((")):
                return "darts"
            if text.count(",") == 7 * 7 + 7 - 1:
                return "nb101"
            return "nb201"
    return "nb201"


def _unwrap(table: dict) -> dict:
    """``{"nasbench101": {dataset: ...}}`` -> ``{dataset: ...}``."""
    if len(table) == 1:
        (name, inner), = table.items()
        if name in SPACE_NAMES and isinstance(inner, dict) and all(
                isinstance(v, dict) for v in inner.values()):
            return inner
    return table


def read_table(src: str | Path) -> dict:
    """Load a Suite-Zero table: ``{dataset: {arch key: record}}``."""
    table = read_json(src, "a NAS-Bench-Suite-Zero zc_*.json")
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise ConverterError(f"{src}: expected {LAYOUT}")
    return table


def _columns(records: dict, parse: Callable[[str], Arch], where: str) -> tuple[
        list[Arch], list[str], list[float], list[list[float]], list[list[float]]]:
    """Architectures, proxy names, accuracies, and per-proxy scores and times of one dataset."""
    proxies = sorted(
        {k for rec in records.values() for k, v in rec.items()
         if k not in RECORD_FIELDS and (isinstance(v, dict) or _is_number(v))}
    )
    archs: list[Arch] = []
    acc, scores, times = [], [], []
    for key, rec in records.items():
        try:
            archs.append(parse(key))
        except ArchError as exc:
            raise ConverterError(f"{where}: bad architecture key: {exc}") from exc
        if "val_accuracy" not in rec:
            raise ConverterError(f"{where}: record {key!r:.40} has no val_accuracy")
        acc.append(float(rec["val_accuracy"]))
        pairs = [_score_time(rec.get(p)) for p in proxies]
        scores.append([score for score, _ in pairs])
        times.append([time for _, time in pairs])
    return archs, proxies, acc, scores, times


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _score_time(value: object) -> tuple[float, float]:
    """``(score, seconds)`` of one proxy entry: ``{"score", "time"}``, a bare score, or none."""
    if value is None:
        return np.nan, np.nan
    if isinstance(value, dict):
        return float(value.get("score", np.nan)), float(value.get("time", np.nan))
    return float(value), np.nan


def convert_dataset(
    table: dict,
    dataset: str,
    out: str | Path,
    space: str = "nb201",
    parse_key: Callable[[str], Arch] | None = None,
    source_name: str = "",
) -> TabularBenchmark:
    """Convert one dataset of a loaded (unwrapped) table into the benchmark directory ``out``."""
    if dataset not in table:
        raise ConverterError(f"dataset {dataset!r} not in the table; it has {sorted(table)}")
    parse = parse_key or default_key_parser(space)
    where = f"{source_name}: {dataset}"
    with layout_errors(where, f"records in the layout {LAYOUT}"):
        archs, proxies, acc, scores, times = _columns(table[dataset], parse, where)
    if not archs:
        raise ConverterError(f"{where}: no architectures")
    first = {a: i for i, a in reversed(list(enumerate(archs)))}
    merged = len(archs) - len(first)
    if merged:
        # NB101 keys are unpruned: cells that differ only in dead vertices are one network.
        log.warning("%s: %d keys name a network already listed; the first record of each "
                    "network is kept", where, merged)
        keep = sorted(first.values())
        archs, acc = [archs[i] for i in keep], [acc[i] for i in keep]
        scores, times = [scores[i] for i in keep], [times[i] for i in keep]
    static_names = [PROXY_PREFIX + p for p in proxies]
    static_names += [f"{PROXY_PREFIX}{p}_time" for p in proxies]
    if len(set(static_names)) != len(static_names):
        raise ConverterError(f"{where}: proxy names {proxies} clash with their '_time' columns")
    static = np.concatenate([np.array(scores), np.array(times)], axis=1).astype(np.float32)
    values = np.asarray(acc, dtype=np.float32)[:, None, None, None]
    metadata = {
        "name": Path(out).name,
        "space": get_space(space).name,
        "dataset": dataset,
        "description": (
            f"NAS-Bench-Suite-Zero zero-cost proxy scores on {dataset}: {len(proxies)} proxies "
            "per architecture (static zc_<proxy>, and zc_<proxy>_time in seconds) and the final "
            "validation accuracy; final values only."
        ),
        "metrics": {"val_accuracy": {"direction": "max", "unit": "%", "objective": True}},
        "objective": "val_accuracy",
        "epochs": 1,
        "final_only": True,
        "seeds": 1,
        "static": static_names,
        "static_meta": {
            **{PROXY_PREFIX + p: {"kind": "zero_cost_score", "proxy": p} for p in proxies},
            **{f"{PROXY_PREFIX}{p}_time": {"unit": "s", "proxy": p} for p in proxies},
        },
        "zero_cost_proxies": proxies,
        "num_archs": len(archs),
        "merged_keys": merged,
        "cost": {"estimated": True, "available": False,
                 "model": "the table records no training times"},
        "source": {"file": source_name, "converter": "benchmarks.tabular.suite_zero"},
        "citation": CITATION,
    }
    network = NETWORKS.get((get_space(space).name, dataset.lower()))
    if network is not None:
        metadata["network"] = dict(network)
    bench = TabularBenchmark(metadata, archs, values, static)
    bench.save(out)
    log.info("%s/%s: %d archs, %d proxies", source_name, dataset, len(archs), len(proxies))
    return bench


def convert(
    src: str | Path,
    dst: str | Path,
    space: str | None = None,
    datasets: Sequence[str] | None = None,
    prefix: str = "suite-zero",
    parse_key: Callable[[str], Arch] | None = None,
) -> dict[str, TabularBenchmark]:
    """Convert ``src`` (a zc_*.json) into ``dst/<prefix>-<space>-<dataset>/`` per dataset;
    ``space=None`` infers it (``infer_space``)."""
    raw = read_table(src)
    space = space or infer_space(raw, src)
    table = _unwrap(raw)
    chosen = list(datasets) if datasets else sorted(table)
    for d in chosen:
        if not DATASET_NAME.fullmatch(d):
            raise ConverterError(f"{src}: dataset name {d!r:.40} cannot name a benchmark "
                                 "directory (letters, digits, '.', '_', '-' only)")
    dst = Path(dst)
    return {
        d: convert_dataset(
            table, d, dst / f"{prefix}-{space}-{d.lower()}", space, parse_key, Path(src).name
        )
        for d in chosen
    }
