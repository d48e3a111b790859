"""Parallel, resumable training of (architecture, seed) pairs into a shard directory.

Each worker trains one pair at a time and returns its record; this process writes the pair's
shard (atomically) as soon as the record arrives, so the finished part survives ``kill -9`` of
any process and workers need no access to the shard directory (nodes of a Ray cluster). A rerun
skips every pair whose shard exists. Pairs are jobs of a ``benchmarks.jobs`` runner: a pair
whose worker dies is trained again, one past the time limit is stopped, and a failed pair leaves
no shard while the others go on.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from benchmarks import checks
from benchmarks.builder.order import arch_order
from benchmarks.builder.recipe import Recipe
from benchmarks.builder.shards import done_pairs, open_shard_dir, write_shard
from benchmarks.builder.train import train_one
from benchmarks.jobs import JobsSummary, job_runner, worker_slot
from benchmarks.progress import Progress
from predictors.spaces import get_space

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARD_ROOT = REPO_ROOT / "data" / "fmnist-shards"


def default_shard_dir(recipe: Recipe) -> Path:
    return SHARD_ROOT / recipe.name


def train_pair(index: int, seed: int, recipe: Recipe, device: str) -> dict:
    """Train one pair; returns its shard record."""
    arch = arch_order()[index]
    space = get_space(arch.space)
    start = time.perf_counter()
    result = train_one(arch, seed, recipe, device)
    record: dict[str, Any] = {
        "index": index,
        "seed": seed,
        "arch": space.to_string(arch),
        "canonical": str(space.canonical(arch)),
        "recipe": recipe.name,
        "recipe_key": recipe.key,
        "torch": torch.__version__,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_time": time.perf_counter() - start,
        **result,
    }
    return record


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(message)s")


def _worker_run(pair: tuple[int, int], recipe: Recipe, device: str) -> dict:
    index, seed = pair
    if device == "cuda":  # spread the workers over the visible GPUs (Ray shows each task its own)
        device = f"cuda:{worker_slot() % max(torch.cuda.device_count(), 1)}"
    return train_pair(index, seed, recipe, device)


def _gpu_share(pair: tuple[int, int], workers: int) -> float:
    """The share of a GPU one training asks Ray for: the cluster's GPUs over the workers."""
    from benchmarks.ray_runner import cluster_gpus

    return min(1.0, cluster_gpus() / workers) or 1.0


def run_tasks(
    tasks: Sequence[tuple[int, int]],
    recipe: Recipe,
    shard_dir: Path | None = None,
    workers: int = 1,
    threads: int = 1,
    device: str = "cpu",
    task_timeout: float | None = None,
    start_method: str = "spawn",
    executor: str = "process",
    address: str | None = None,
) -> list[tuple[int, int]]:
    """Train every pair of ``tasks`` that has no shard yet; returns the pairs trained now.

    ``task_timeout``: seconds one training may take (``None`` or ``0``: no limit; one worker and
    no limit train in this process, else ``workers`` processes started by ``start_method``).
    With ``executor="ray"``, pairs are tasks of the Ray cluster at ``address``, ``workers`` at
    a time, each asking for ``threads`` CPUs and, on cuda, a share of the cluster's GPUs.
    Raises ``JobsFailed`` once the others are done when a pair failed.
    """
    checks.device(device)
    shard_dir = open_shard_dir(shard_dir or default_shard_dir(recipe), recipe)
    done = done_pairs(shard_dir)
    todo = [t for t in tasks if t not in done]
    log.info("%s: %d of %d pairs done, %d to train with %d worker(s) x %d thread(s) on %s",
             shard_dir, len(tasks) - len(todo), len(tasks), len(todo), workers, threads, device)
    summary = JobsSummary(skipped=len(tasks) - len(todo))
    if not todo:
        return []
    workers = min(workers, len(todo))
    gpus = functools.partial(_gpu_share, workers=workers) if device.startswith("cuda") else 0.0
    runner = job_runner(workers, task_timeout, _worker_init, (threads,), start_method,
                        executor, address, cpus=threads, gpus=gpus)
    train = functools.partial(_worker_run, recipe=recipe, device=device)
    with Progress(len(todo), "trainings") as bar:
        for (index, seed), outcome in runner.map(train, todo, label=_pair_name):
            if not summary.add((index, seed), outcome):
                log.warning("%s failed: %s", _pair_name((index, seed)), outcome.error)
                bar.done(_pair_name((index, seed)), "failed")
                continue
            write_shard(shard_dir, outcome)
            log.info("%s: val_acc %.2f in %.0fs (%d/%d)", _pair_name((index, seed)),
                     outcome["curves"]["val_acc"][-1], outcome["wall_time"],
                     len(summary.done), len(todo))
            bar.done(_pair_name((index, seed)))
    summary.check("pairs", str(shard_dir))
    return summary.done


def _pair_name(pair: tuple[int, int]) -> str:
    return f"a{pair[0]:04d} s{pair[1]}"
