"""Recipe pilots: the first N architectures of the benchmark's order, two seeds each.

The table of one pilot (cost per training, accuracy range, seed-to-seed Kendall tau and
Spearman of final validation accuracy) is written to ``results/pilot/<recipe>.json`` and
``.md``; ``results/pilot/README.md`` lists every candidate's row.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.builder.generate import REPO_ROOT, default_shard_dir, run_tasks
from benchmarks.builder.order import arch_order, pilot_tasks
from benchmarks.builder.recipe import Recipe, with_overrides
from benchmarks.builder.shards import atomic_write_text, read_recipe, read_shards
from benchmarks.builder.stats import (
    epoch_vs_final_tau,
    paired_final_val_acc,
    seed_agreement,
    spread,
)

PILOT_DIR = REPO_ROOT / "results" / "pilot"


def pilot_table(shard_dir: Path, num_archs: int | None = None) -> dict[str, Any]:
    """Statistics of the pilot pairs present in ``shard_dir`` (archs < ``num_archs``)."""
    recipe = read_recipe(shard_dir)
    final: dict[int, dict[int, float]] = {}
    curves: list[list[float]] = []
    walls, cores, trains, devices = [], [], [], set()
    kept = [rec for rec in read_shards(shard_dir)
            if num_archs is None or rec["index"] < num_archs]
    for rec in kept:
        final.setdefault(rec["index"], {})[rec["seed"]] = rec["curves"]["val_acc"][-1]
        if rec["seed"] == 0:
            curves.append(rec["curves"]["val_acc"])
        walls.append(rec["wall_time"])
        cores.append(rec["cpu_time"])
        trains.append(sum(rec["train_time"]))
        devices.add(f"{rec['device']} x{rec.get('threads', 1)} thread(s)")
    a, b = paired_final_val_acc(kept)
    means = [np.mean(list(s.values())) for s in final.values()]
    return {
        "recipe": recipe.as_dict(),
        "recipe_key": recipe.key,
        "trainings": len(walls),
        "cells_with_two_seeds": len(a),
        "core_seconds_per_training": float(np.mean(cores)) if cores else None,
        "wall_seconds_per_training": float(np.mean(walls)) if walls else None,
        "train_seconds_per_training": float(np.mean(trains)) if trains else None,
        "devices": sorted(devices),
        "final_val_acc": spread(means),
        "seed_to_seed": seed_agreement(a, b),
        "epoch_vs_final_tau": epoch_vs_final_tau(np.array(curves)) if curves else [],
    }


def _fmt(v: Any, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def table_row(t: dict[str, Any]) -> str:
    r, s, acc = t["recipe"], t["seed_to_seed"], t["final_val_acc"]
    desc = (f"N={r['cells_per_stage']}, C={r['channels']}, stem stride {r['stem_stride']}, "
            f"{r['train_size'] // 1000}k train, {r['val_size'] // 1000}k val, "
            f"{r['epochs']} epochs, batch {r['batch_size']}, lr {r['lr']}")
    return (f"| {r['name']} | {desc} | {t['cells_with_two_seeds']} | "
            f"{_fmt(t['core_seconds_per_training'], 0)} | "
            f"{_fmt(acc.get('min'))}-{_fmt(acc.get('max'))} | "
            f"{_fmt(s.get('kendall_tau'))} | {_fmt(s.get('spearman'))} | "
            f"{_fmt(s.get('mean_abs_diff'))} |")


HEADER = ("| recipe | settings | cells x 2 seeds | core-s per training | final val acc (%) "
          "| seed-to-seed Kendall tau | Spearman | mean abs seed diff (%) |\n"
          "|---|---|---|---|---|---|---|---|")


def write_table(table: dict[str, Any], out_dir: Path = PILOT_DIR) -> Path:
    """Write one pilot's JSON and Markdown, then refresh the summary of all candidates."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = table["recipe"]["name"]
    atomic_write_text(out_dir / f"{name}.json", json.dumps(table, indent=2) + "\n")
    taus = ", ".join(f"{v:.2f}" for v in table["epoch_vs_final_tau"])
    md = (f"# Pilot of recipe {name} (key {table['recipe_key']})\n\n{HEADER}\n{table_row(table)}"
          f"\n\nDevices: {', '.join(table['devices'])}. Trainings: {table['trainings']}.\n\n"
          f"Kendall tau of seed-0 validation accuracy at each epoch vs the last: {taus}\n")
    atomic_write_text(out_dir / f"{name}.md", md)
    rows = []
    for path in sorted(out_dir.glob("*.json")):
        rows.append(table_row(json.loads(path.read_text())))
    summary = ("# Recipe pilots\n\nEach row: the first cells of the benchmark's architecture "
               "order, each trained with seeds 0 and 1 (`predbench build pilot`); cost is "
               "process CPU seconds (core-seconds) per training, measured on the devices "
               "listed in each recipe's own table; accuracy is the seed mean at the final "
               f"epoch.\n\n{HEADER}\n"
               + "\n".join(rows) + "\n")
    atomic_write_text(out_dir / "README.md", summary)
    return out_dir / f"{name}.md"


def run_pilot(recipe: Recipe, num_archs: int = 24, shard_dir: Path | None = None,
              workers: int = 1, threads: int = 1, device: str = "cpu",
              out_dir: Path = PILOT_DIR) -> dict[str, Any]:
    """Train (resuming) the pilot pairs of ``recipe`` and write its table."""
    shard_dir = shard_dir or default_shard_dir(recipe)
    run_tasks(pilot_tasks(num_archs), recipe, shard_dir, workers, threads, device)
    table = pilot_table(shard_dir, num_archs)
    write_table(table, out_dir)
    return table


def calibrate(recipe: Recipe, num_archs: int = 2, out_dir: Path = PILOT_DIR) -> dict[str, Any]:
    """Cost of one epoch (CPU seconds of training, and of validation) on the first archs.

    Runs in this process with its current torch thread count; one epoch of each of the first
    ``num_archs`` architectures, seed 0; appends a row to ``results/pilot/calibration.md``.
    """
    import torch

    from benchmarks.builder.train import train_one

    one = with_overrides(recipe, epochs=1)
    rows = [train_one(arch, 0, one) for arch in arch_order()[:num_archs]]
    epoch_cpu = float(np.mean([r["epoch_cpu_time"][0] for r in rows]))
    train_frac = float(np.mean([r["train_time"][0] / r["epoch_time"][0] for r in rows]))
    result = {"recipe": recipe.name, "archs": num_archs, "threads": torch.get_num_threads(),
              "cpu_s_per_epoch_incl_val": epoch_cpu, "train_share_of_epoch": train_frac,
              "estimated_core_s_per_training": epoch_cpu * recipe.epochs}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "calibration.md"
    if not path.exists():
        path.write_text("# One-epoch calibration (`predbench build calibrate`)\n\n| recipe | archs "
                        "| threads | CPU s per epoch (train + val) | train share of epoch wall | "
                        "estimated core-s per training |\n|---|---|---|---|---|---|\n")
    with path.open("a") as fh:
        fh.write(f"| {recipe.name} | {num_archs} | {result['threads']} | {epoch_cpu:.1f} | "
                 f"{train_frac:.2f} | {result['estimated_core_s_per_training']:.0f} |\n")
    return result


TAU_BAR = 0.7
TAU_FLOOR = 0.5


def choose_recipe(names: list[str], min_cells: int = 24, bar: float = TAU_BAR,
                  floor: float = TAU_FLOOR, out_dir: Path = PILOT_DIR) -> tuple[str, str]:
    """The rule of the benchmark: the cheapest pilot with seed-to-seed Kendall tau >= ``bar``,
    else the pilot with the highest tau if it is >= ``floor``; pilots need ``min_cells`` cells
    with two seeds. Returns (recipe name, reason); raises ``ValueError`` when none qualifies."""
    done = []
    for name in names:
        path = out_dir / f"{name}.json"
        if not path.is_file():
            continue
        t = json.loads(path.read_text())
        tau = t["seed_to_seed"].get("kendall_tau")
        if t["cells_with_two_seeds"] >= min_cells and tau is not None:
            done.append((name, tau, t["core_seconds_per_training"]))
    passing = sorted((cost, name, tau) for name, tau, cost in done if tau >= bar)
    if passing:
        cost, name, tau = passing[0]
        return name, f"cheapest pilot with tau {tau:.2f} >= {bar} ({cost:.0f} core-s/training)"
    if done:
        name, tau, cost = max(done, key=lambda d: d[1])
        if tau >= floor:
            return name, (f"no pilot reached tau {bar}; best tau {tau:.2f} >= floor {floor} "
                          f"({cost:.0f} core-s/training)")
    raise ValueError(
        f"no finished pilot (>= {min_cells} cells x 2 seeds) among {names} reaches Kendall tau "
        f"{floor}: {[(n, round(t, 2)) for n, t, _ in done]}; try a stronger recipe"
    )
