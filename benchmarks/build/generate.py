"""Parallel, resumable training of (architecture, seed) pairs into a shard directory.

Each worker process trains one pair at a time and writes its shard itself, so the finished
part survives ``kill -9`` of any process; a rerun skips every pair whose shard exists.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from benchmarks import checks
from benchmarks.build.order import arch_order
from benchmarks.build.recipe import Recipe
from benchmarks.build.shards import done_pairs, open_shard_dir, write_shard
from benchmarks.build.train import train_one
from predictors.spaces import get_space

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARD_ROOT = REPO_ROOT / "data" / "fmnist-shards"


def default_shard_dir(recipe: Recipe) -> Path:
    return SHARD_ROOT / recipe.name


def run_pair(index: int, seed: int, recipe: Recipe, shard_dir: Path, device: str) -> dict:
    """Train one pair and write its shard; returns the shard record."""
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
    write_shard(shard_dir, record)
    return record


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(message)s")


def _worker_run(index: int, seed: int, recipe: Recipe, shard_dir: str, device: str) -> tuple:
    if device == "cuda":  # spread the pool's workers over the visible GPUs
        ident = mp.current_process()._identity
        slot = (ident[0] - 1) if ident else 0
        device = f"cuda:{slot % max(torch.cuda.device_count(), 1)}"
    rec = run_pair(index, seed, recipe, Path(shard_dir), device)
    return index, seed, rec["wall_time"], rec["curves"]["val_acc"][-1]


def run_tasks(
    tasks: Sequence[tuple[int, int]],
    recipe: Recipe,
    shard_dir: Path | None = None,
    workers: int = 1,
    threads: int = 1,
    device: str = "cpu",
) -> list[tuple[int, int]]:
    """Train every pair of ``tasks`` that has no shard yet; returns the pairs trained now."""
    checks.device(device)
    shard_dir = open_shard_dir(shard_dir or default_shard_dir(recipe), recipe)
    done = done_pairs(shard_dir)
    todo = [t for t in tasks if t not in done]
    log.info("%s: %d of %d pairs done, %d to train with %d worker(s) x %d thread(s) on %s",
             shard_dir, len(tasks) - len(todo), len(tasks), len(todo), workers, threads, device)
    if not todo:
        return []
    finished: list[tuple[int, int]] = []
    if workers <= 1:
        _worker_init(threads)
        for index, seed in todo:
            rec = run_pair(index, seed, recipe, shard_dir, device)
            finished.append((index, seed))
            log.info("a%04d s%d: val_acc %.2f in %.0fs (%d/%d)", index, seed,
                     rec["curves"]["val_acc"][-1], rec["wall_time"], len(finished), len(todo))
        return finished
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                             initargs=(threads,)) as pool:
        futures = [pool.submit(_worker_run, i, s, recipe, str(shard_dir), device)
                   for i, s in todo]
        for fut in as_completed(futures):
            index, seed, wall, acc = fut.result()
            finished.append((index, seed))
            log.info("a%04d s%d: val_acc %.2f in %.0fs (%d/%d)", index, seed, acc, wall,
                     len(finished), len(todo))
    return finished
