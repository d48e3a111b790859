"""Converter: NAS-Bench-Suite-Zero ``zc_*.json`` score tables into the tabular format.

A table maps dataset -> architecture key -> record; a record holds ``val_accuracy`` and, per
zero-cost proxy, ``{"score": float, "time": seconds}``. Each dataset becomes one benchmark whose
objective is ``val_accuracy`` (final value only) and whose static properties are, per proxy,
``zc_<proxy>`` (the score) and ``zc_<proxy>_time`` (the seconds it took). A "tabulated"
zero-cost predictor reads these properties. No training times are tabulated, so the benchmark
has no ``epoch_time`` (``cost.available = false``).

Architecture keys: for NAS-Bench-201 the op-index tuple ``"(0, 2, 3, 2, 3, 1)"``; for other
spaces the key must be the space's string form, or pass ``parse_key``.

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
LAYOUT = "{dataset: {arch key: {val_accuracy, <proxy>: {score, time}}}}"


def default_key_parser(space_name: str) -> Callable[[str], Arch]:
    space = get_space(space_name)
    if space_name == "nb201":
        return space.from_op_indices  # type: ignore[attr-defined]
    return space.from_string


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
        {k for rec in records.values() for k, v in rec.items() if isinstance(v, dict)}
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
        scores.append([float(rec.get(p, {}).get("score", np.nan)) for p in proxies])
        times.append([float(rec.get(p, {}).get("time", np.nan)) for p in proxies])
    return archs, proxies, acc, scores, times


def convert_dataset(
    table: dict,
    dataset: str,
    out: str | Path,
    space: str = "nb201",
    parse_key: Callable[[str], Arch] | None = None,
    source_name: str = "",
) -> TabularBenchmark:
    """Convert one dataset of a loaded table into the benchmark directory ``out``."""
    if dataset not in table:
        raise ConverterError(f"dataset {dataset!r} not in the table; it has {sorted(table)}")
    parse = parse_key or default_key_parser(space)
    where = f"{source_name}: {dataset}"
    with layout_errors(where, f"records in the layout {LAYOUT}"):
        archs, proxies, acc, scores, times = _columns(table[dataset], parse, where)
    if not archs:
        raise ConverterError(f"{where}: no architectures")
    if len(set(archs)) != len(archs):
        raise ConverterError(f"{where}: duplicate architecture keys")
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
        "cost": {"estimated": True, "available": False,
                 "model": "the table records no training times"},
        "source": {"file": source_name, "converter": "benchmarks.tabular.suite_zero"},
        "citation": CITATION,
    }
    bench = TabularBenchmark(metadata, archs, values, static)
    bench.save(out)
    log.info("%s/%s: %d archs, %d proxies", source_name, dataset, len(archs), len(proxies))
    return bench


def convert(
    src: str | Path,
    dst: str | Path,
    space: str = "nb201",
    datasets: Sequence[str] | None = None,
    prefix: str = "suite-zero",
    parse_key: Callable[[str], Arch] | None = None,
) -> dict[str, TabularBenchmark]:
    """Convert ``src`` (a zc_*.json) into ``dst/<prefix>-<space>-<dataset>/`` per dataset."""
    table = read_table(src)
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
