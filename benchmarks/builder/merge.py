"""Assemble a shard directory into a tabular benchmark (``benchmarks.tabular.format``).

Simulated per-epoch cost (static ``epoch_time``) comes from a cost model, so it does not depend
on which device trained an architecture: a non-negative least-squares fit of the measured
per-epoch CPU time (training plus validation) of shards trained on the reference device
(CPU, one thread, channels-last layout; CPU time is not inflated by other processes sharing
the cores) against the number of edges of each operation in the cell.

Zero-cost scores computed by ``predbench build zero-cost`` (``benchmarks.builder.zero_cost``)
become static columns ``zc_<measure>`` and ``zc_<measure>_time``, as in a converted
NAS-Bench-Suite-Zero table, so the tabulated predictor ``zc_table`` and the proxies' table
source read them; AZ-NAS's four components become ``zc_az_nas_<component>``. The metadata's
``zero_cost`` says per measure which settings (batch size, seeds) it was scored with.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import nnls

from benchmarks.builder.fashion_mnist import SplitSpec
from benchmarks.builder.order import SECOND_SEED_EVERY
from benchmarks.builder.pilot import PILOT_DIR
from benchmarks.builder.recipe import Recipe
from benchmarks.builder.shards import ShardError, read_recipe, read_shards
from benchmarks.builder.stats import epoch_vs_final_tau, seed_agreement, spread
from benchmarks.builder.train import INPUT_SHAPE, METRICS
from benchmarks.builder.zero_cost import add_score_columns, read_scores
from benchmarks.statistics import ranking_ceiling
from benchmarks.tabular.format import EPOCH_COST, TabularBenchmark
from predictors.spaces import Arch, get_space
from predictors.spaces.nb201 import OPS

log = logging.getLogger(__name__)

STATIC = ("params", "flops", "latency_cpu", EPOCH_COST, "epoch_time_measured")
COST_OPS = tuple(op for op in OPS if op != "none")
MIN_REFERENCE_SHARDS = 5
#: Seeds a benchmark row holds (seed 0 always, seed 1 for the second-seed subset).
NUM_SEEDS = 2


def is_reference(rec: dict[str, Any]) -> bool:
    """One-thread CPU runs in channels-last layout (shards without the field predate it)."""
    return (rec["device"] == "cpu" and int(rec.get("threads", 1)) == 1
            and rec.get("memory_format", "contiguous_format") == "channels_last")


def measured_epoch_time(rec: dict[str, Any], key: str = "epoch_time") -> float:
    """Mean per-epoch seconds (training + validation) of one shard."""
    return float(np.mean(rec[key]))


def _features(arch_spec: tuple[str, ...]) -> np.ndarray:
    return np.array([1.0] + [float(arch_spec.count(op)) for op in COST_OPS])


def fit_cost_model(records: list[dict[str, Any]],
                   min_reference: int = MIN_REFERENCE_SHARDS) -> dict[str, Any]:
    """Per-epoch seconds = intercept + sum over ops of (edges with that op) x coefficient."""
    space = get_space("nb201")
    ref = [r for r in records if is_reference(r)]
    if len(ref) < max(min_reference, 1):
        raise ShardError(
            f"only {len(ref)} shard(s) were trained on the reference device "
            "(cpu, 1 thread, channels_last); "
            f"the cost model needs {min_reference}: run `predbench build generate "
            "--device cpu --threads 1` for a few pairs first"
        )
    x = np.stack([_features(space.from_string(r["arch"]).spec) for r in ref])
    y = np.array([measured_epoch_time(r, "epoch_cpu_time") for r in ref])
    coef, _ = nnls(x, y)
    pred = x @ coef
    r2 = 1.0 - float(np.sum((y - pred) ** 2) / max(np.sum((y - y.mean()) ** 2), 1e-12))
    return {
        "estimated": True,
        "model": "epoch_time = intercept + sum_op edges(op) * coef(op), non-negative least "
                 "squares on measured per-epoch CPU time (train + validation) of one-thread "
                 "CPU runs",
        "reference_device": "cpu, 1 thread, channels_last",
        "fitted_on": len(ref),
        "coefficients": dict(zip(("intercept", *COST_OPS), map(float, coef), strict=True)),
        "r2": r2,
    }


def predict_cost(model: dict[str, Any], spec: tuple[str, ...]) -> float:
    coef = np.array(list(model["coefficients"].values()))
    return float(_features(spec) @ coef)


def _curves_and_statics(
    indices: list[int], by_index: dict[int, dict[int, dict[str, Any]]], recipe: Recipe,
    cost: dict[str, Any],
) -> tuple[list[Arch], np.ndarray, np.ndarray]:
    """Architectures, curves ``[arch, seed, epoch, metric]`` and static columns of the rows."""
    space = get_space("nb201")
    values = np.full((len(indices), NUM_SEEDS, recipe.epochs, len(METRICS)), np.nan, np.float32)
    static = np.zeros((len(indices), len(STATIC)), np.float32)
    archs = []
    for row, index in enumerate(indices):
        seeds = by_index[index]
        first = seeds[0]
        arch = space.from_string(first["arch"])
        archs.append(arch)
        for seed, rec in seeds.items():
            if seed < NUM_SEEDS:
                for m, metric in enumerate(METRICS):
                    values[row, seed, :, m] = [np.nan if v is None else v
                                               for v in rec["curves"][metric]]
        static[row] = [first["params"], first["flops"],
                       np.median([r["latency_cpu"] for r in seeds.values()]),
                       predict_cost(cost, arch.spec),
                       np.mean([measured_epoch_time(r) for r in seeds.values()])]
    return archs, values, static


def _second_seed_scope(paired: np.ndarray) -> str:
    """Which architectures have a second run, in words."""
    if paired.all():
        return f"all {len(paired)} architectures"
    return (f"{int(paired.sum())} of {len(paired)} architectures (every third of the order, "
            "the pilot's cells and those of the every-architecture pass trained so far)")


def _metadata(name: str, recipe: Recipe, records: list[dict[str, Any]], indices: list[int],
              values: np.ndarray, cost: dict[str, Any], pilot_dir: Path) -> dict[str, Any]:
    """``metadata.json`` of the merged benchmark: recipe, splits, order, compute and summary."""
    val = values[:, :, :, METRICS.index("val_acc")]
    paired = ~np.isnan(val[:, 1, -1])
    devices = Counter(f"{r['device']} x{r.get('threads', 1)} thread(s)" for r in records)
    pilot_path = pilot_dir / f"{recipe.name}.json"
    splits = recipe.splits.as_dict()
    seed_to_seed = seed_agreement(val[paired, 0, -1], val[paired, 1, -1])
    return {
        "name": name,
        "space": "nb201",
        "dataset": "fashion-mnist",
        "description": "NAS-Bench-201-space networks trained on Fashion-MNIST by this project "
                       "(benchmarks/builder); one representative per canonical cell, in a fixed "
                       f"seeded order; a second run (seed 1) for {_second_seed_scope(paired)}.",
        "metrics": {m: {"direction": "min" if m.endswith("loss") else "max",
                        "unit": "%" if m.endswith("acc") else "nats"} for m in METRICS},
        "objective": "val_acc",
        "ground_truth": "mean over the seeds present at the final epoch (seeds 0 and 1 where "
                        "both exist, else seed 0)",
        "epochs": recipe.epochs,
        "seeds": NUM_SEEDS,
        "static": list(STATIC),
        "static_units": {"params": "count", "flops": "forward FLOPs of one image",
                         "latency_cpu": "s, batch 1, CPU, median of 30",
                         EPOCH_COST: "s, simulated (cost model)",
                         "epoch_time_measured": "s, wall time on the training device"},
        "cost": cost,
        "recipe": recipe.as_dict(),
        "recipe_key": recipe.key,
        "pilot": json.loads(pilot_path.read_text()) if pilot_path.is_file() else None,
        "splits": splits,
        "network": {**recipe.network_kwargs(), "input_shape": list(INPUT_SHAPE)},
        "live": {**splits, "dataset": "fashion-mnist"},
        "order": {"rule": "unique canonical NB201 cells (first of each form in enumeration "
                          "order) sorted by string, permuted by numpy default_rng(201)",
                  "second_seed_every": 1 if paired.all() else SECOND_SEED_EVERY,
                  "indices": [int(i) for i in indices]},
        "devices": dict(devices),
        "total_compute": {
            "trainings": len(records),
            "wall_seconds": float(sum(r["wall_time"] for r in records)),
            "cpu_core_seconds": float(sum(r["cpu_time"] for r in records
                                          if r["device"] == "cpu")),
        },
        "summary": {
            "archs": len(indices),
            "archs_with_two_seeds": int(paired.sum()),
            "final_val_acc": spread(np.nanmean(val[:, :, -1], axis=1)),
            "seed_to_seed": seed_to_seed,
            "ranking_ceiling": (ranking_ceiling(seed_to_seed["kendall_tau"],
                                                float(paired.mean()))
                                if "kendall_tau" in seed_to_seed else {}),
            "epoch_vs_final_tau": epoch_vs_final_tau(val[:, 0, :]),
        },
        "citation": "predbench Fashion-MNIST NB201 benchmark; Fashion-MNIST: Xiao, Rasul and "
                    "Vollgraf 2017, arXiv:1708.07747; NAS-Bench-201: Dong and Yang, ICLR 2020",
    }


def merge(shard_dir: Path, out_dir: Path, name: str = "fmnist-nb201",
          pilot_dir: Path = PILOT_DIR,
          min_reference: int = MIN_REFERENCE_SHARDS) -> TabularBenchmark:
    """Merge every shard of ``shard_dir`` into a benchmark saved at ``out_dir``."""
    recipe: Recipe = read_recipe(shard_dir)
    records = list(read_shards(shard_dir))
    by_index: dict[int, dict[int, dict[str, Any]]] = {}
    for rec in records:
        if rec["recipe_key"] != recipe.key:
            raise ShardError(f"shard a{rec['index']:04d}-s{rec['seed']} of {shard_dir} was "
                             "trained with another recipe; move it out and merge again")
        by_index.setdefault(rec["index"], {})[rec["seed"]] = rec
    indices = sorted(i for i, s in by_index.items() if 0 in s)
    if not indices:
        raise ShardError(f"{shard_dir} holds no seed-0 shard yet; nothing to merge")
    cost = fit_cost_model(records, min_reference)
    archs, values, static = _curves_and_statics(indices, by_index, recipe, cost)
    meta = _metadata(name, recipe, records, indices, values, cost, pilot_dir)
    zc_records = read_scores(shard_dir)
    if zc_records:
        static = add_score_columns(meta, static, zc_records, indices)
    SplitSpec.from_dict(meta["splits"])  # the live source must be able to rebuild the splits
    bench = TabularBenchmark(meta, archs, values, static)
    bench.save(out_dir)
    log.info("merged %d architectures (%d with two seeds) into %s", len(indices),
             meta["summary"]["archs_with_two_seeds"], out_dir)
    return bench
