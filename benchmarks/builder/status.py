"""Progress of a generation run: pairs done against the target, the time left, the seed-to-seed
agreement so far (against the recipe's floor of Kendall tau 0.7), and how many target
architectures have their zero-cost scores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.builder.order import benchmark_tasks
from benchmarks.builder.shards import done_pairs, read_shards
from benchmarks.builder.stats import paired_final_val_acc, seed_agreement
from benchmarks.builder.zero_cost import done_indices


@dataclass
class Progress:
    target_pairs: int
    done_pairs: int
    archs_done: int
    second_seeds_done: int
    extra_pairs: int
    seconds_per_training: float | None
    cpu_seconds_per_training: float | None
    workers: int
    target_archs: int = 0
    zero_cost_scored: int = 0  # target architectures with tabulated zero-cost scores
    seed_tau: float | None = None  # Kendall tau of final val_acc between the two seeds so far
    seed_pairs: int = 0  # architectures with both seeds (pilot ones included, as in merge)

    @property
    def seconds_left(self) -> float | None:
        if self.seconds_per_training is None:
            return None
        return (self.target_pairs - self.done_pairs) * self.seconds_per_training / self.workers

    @property
    def core_seconds_left(self) -> float | None:
        if self.cpu_seconds_per_training is None:
            return None
        return (self.target_pairs - self.done_pairs) * self.cpu_seconds_per_training

    def describe(self) -> str:
        left = self.seconds_left
        eta = "unknown (no shard yet)" if left is None else f"{left / 3600:.1f} h"
        cores = self.core_seconds_left
        if cores is not None:
            eta += (f" at the observed load; {cores / 3600:.1f} core-hours of CPU "
                    f"({cores / 3600 / self.workers:.1f} h with {self.workers} free core(s))")
        per = "-" if self.seconds_per_training is None else f"{self.seconds_per_training:.0f} s"
        tau = "" if self.seed_tau is None else (f"; seed-to-seed Kendall tau {self.seed_tau:.3f} "
                                                f"over {self.seed_pairs} pairs (floor 0.7)")
        return (f"{self.done_pairs}/{self.target_pairs} target trainings done: "
                f"{self.archs_done} architectures with seed 0, {self.second_seeds_done} with "
                f"seed 1 ({self.extra_pairs} further pilot trainings outside the target); "
                f"{per} wall per training (last 50); time left with {self.workers} "
                f"worker(s): {eta}{tau}. Zero-cost scores: {self.zero_cost_scored} of "
                f"{self.target_archs} architectures")


def progress(shard_dir: Path, num_archs: int, workers: int = 1,
             every: int = 3) -> Progress:
    target = set(benchmark_tasks(num_archs, every))
    done = done_pairs(shard_dir)
    hit = done & target
    records = list(read_shards(shard_dir))
    recent = sorted(records, key=lambda r: r.get("finished", ""))[-50:]
    per = float(np.median([r["wall_time"] for r in recent])) if recent else None
    cpu = [r["cpu_time"] for r in recent if r["device"] == "cpu"]
    return Progress(
        target_pairs=len(target),
        done_pairs=len(hit),
        archs_done=sum(1 for i, s in hit if s == 0),
        second_seeds_done=sum(1 for i, s in hit if s == 1),
        extra_pairs=len(done - target),
        seconds_per_training=per,
        cpu_seconds_per_training=float(np.median(cpu)) if cpu else None,
        workers=workers,
        target_archs=num_archs,
        zero_cost_scored=len(done_indices(shard_dir) & set(range(num_archs))),
        **_seed_agreement(records),
    )


def _seed_agreement(records: list[dict]) -> dict[str, Any]:
    """Kendall tau of the final validation accuracy between seeds 0 and 1, over every
    architecture with both (as ``merge`` computes it)."""
    a, b = paired_final_val_acc(records)
    tau = seed_agreement(a, b).get("kendall_tau")  # absent below three pairs
    return {"seed_pairs": len(a)} if tau is None else {"seed_pairs": len(a), "seed_tau": tau}
