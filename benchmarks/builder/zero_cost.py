"""Zero-cost scores of the benchmark's architectures, computed live and tabulated at merge.

Every live measure (``predictors.zero_cost.PROXY_MEASURES``) scores each of the first N
architectures of the order exactly as a live sweep does: the registered proxy predictor queries
the network the benchmark trains (the recipe's ``to_network`` configuration) on a minibatch of
the benchmark's training split, with fixed batch and initialization seeds, on one CPU thread.

One JSON file per architecture (``zero-cost/z<index>.json`` in the shard directory) holds each
measure's score (``null`` where it is undefined, with the reason) and the process CPU seconds of
its query, network construction included. CPU seconds on one thread are what an idle core
would take and are not inflated by other processes sharing the machine; a tabulated predictor
is charged them as its per-architecture query time. Workers return the records and this process
writes each file atomically as it arrives, so a killed run resumes where it stopped and workers
need no access to the shard directory. Architectures are jobs of a ``benchmarks.jobs`` runner
(a dead worker is replaced, an optional time limit stops a hanging one, a failed one is left
unscored), in worker processes or as tasks of a Ray cluster of one CPU each.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.builder.order import arch_order
from benchmarks.builder.recipe import Recipe
from benchmarks.builder.shards import ShardError, atomic_write_text, open_shard_dir
from benchmarks.builder.train import INPUT_SHAPE
from benchmarks.jobs import JobsSummary, job_runner
from benchmarks.progress import Progress

log = logging.getLogger(__name__)

SUBDIR = "zero-cost"
#: Settings every tabulated score shares (the live proxies' defaults).
SETTINGS: dict[str, Any] = {"batch_size": 64, "batch_seed": 0, "init_seed": 0, "device": "cpu",
                            "threads": 1, "split": "train"}
TIME_NOTE = ("process CPU seconds of one predictor query of the architecture on one CPU thread "
             "(network construction included)")


def score_name(index: int) -> str:
    return f"z{index:04d}.json"


def done_indices(directory: Path) -> set[int]:
    sub = directory / SUBDIR
    return {int(p.stem[1:]) for p in sub.glob("z*.json")} if sub.is_dir() else set()


def default_measures() -> tuple[str, ...]:
    from predictors.zero_cost import PROXY_MEASURES

    return tuple(PROXY_MEASURES)


class _Scorer:
    """Fitted proxy predictors and the query context of one process."""

    def __init__(self, recipe: Recipe, measures: Sequence[str]) -> None:
        import torch

        from benchmarks.live import dataset_source
        from predictors import FitContext, QueryContext, make
        from predictors.spaces import get_space

        torch.set_num_threads(int(SETTINGS["threads"]))
        space = get_space("nb201")
        live = dataset_source("fashion-mnist", recipe.splits.as_dict())
        network = {**recipe.network_kwargs(), "input_shape": list(INPUT_SHAPE)}
        self.ctx = QueryContext(space=space, network=network, live=live, device="cpu")
        params = {k: SETTINGS[k] for k in ("batch_size", "batch_seed", "init_seed")}
        fit = FitContext(space=space, live=live, device="cpu")
        self.predictors = {m: make(m, **params).fit(fit) for m in measures}
        for predictor in self.predictors.values():  # untimed warm-up of lazy initialization
            predictor.query([arch_order()[0]], self.ctx)

    def score(self, index: int) -> dict[str, Any]:
        arch = arch_order()[index]
        scores: dict[str, Any] = {}
        for name, predictor in self.predictors.items():
            predictor.failures_ = {}
            start = time.process_time()
            value = float(predictor.query([arch], self.ctx).mean[0])
            seconds = time.process_time() - start
            entry: dict[str, Any] = {"score": value if np.isfinite(value) else None,
                                     "time": seconds}
            if predictor.failures_:
                entry["error"] = next(iter(predictor.failures_.values()))
            scores[name] = entry
        return {"index": index, "arch": str(arch), "settings": SETTINGS, "scores": scores}


_SCORER: _Scorer | None = None


def _worker_init(recipe: Recipe, measures: Sequence[str]) -> None:
    global _SCORER
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(message)s")
    _SCORER = _Scorer(recipe, measures)


def _worker_score(index: int) -> dict[str, Any]:
    assert _SCORER is not None, "worker was not initialized"
    return _SCORER.score(index)


def run_scores(num_archs: int, recipe: Recipe, shard_dir: Path,
               measures: Sequence[str] | None = None, workers: int = 1,
               task_timeout: float | None = None, executor: str = "process",
               address: str | None = None) -> list[int]:
    """Score the first ``num_archs`` architectures that have no score file yet; returns those
    scored now. ``task_timeout``: seconds one architecture may take (``None`` or ``0``: no limit;
    one worker and no limit score in this process). ``executor="ray"``: as tasks of the Ray
    cluster at ``address``. Raises ``JobsFailed`` once the others are scored when one failed."""
    measures = tuple(measures or default_measures())
    shard_dir = open_shard_dir(shard_dir, recipe)
    (shard_dir / SUBDIR).mkdir(exist_ok=True)
    todo = [i for i in range(num_archs) if i not in done_indices(shard_dir)]
    log.info("%s: %d of %d architectures scored, %d to score with %d worker(s)",
             shard_dir / SUBDIR, num_archs - len(todo), num_archs, len(todo), workers)
    summary = JobsSummary(skipped=num_archs - len(todo))
    if not todo:
        return []
    runner = job_runner(min(workers, len(todo)), task_timeout, _worker_init, (recipe, measures),
                        executor=executor, address=address, cpus=int(SETTINGS["threads"]))
    with Progress(len(todo), "zero-cost scores") as bar:
        for index, outcome in runner.map(_worker_score, todo, label=score_name):
            if not summary.add(index, outcome):
                log.warning("%s failed: %s", score_name(index), outcome.error)
                bar.done(score_name(index), "failed")
                continue
            atomic_write_text(shard_dir / SUBDIR / score_name(index),
                              json.dumps(outcome, separators=(",", ":")) + "\n")
            bar.done(score_name(index))
    summary.check("architectures", str(shard_dir / SUBDIR))
    return summary.done


def read_scores(shard_dir: Path) -> dict[int, dict[str, Any]]:
    """Every score file of ``shard_dir`` by architecture index (empty when there is none)."""
    out = {}
    for index in sorted(done_indices(shard_dir)):
        path = shard_dir / SUBDIR / score_name(index)
        try:
            out[index] = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ShardError(f"{path} is corrupt ({exc}); delete it and score again") from exc
    return out


def tabulate(records: dict[int, dict[str, Any]], indices: Sequence[int]
             ) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """Static columns ``zc_<measure>`` and ``zc_<measure>_time`` for ``indices`` (NaN where an
    architecture has no score), and the metadata describing them."""
    measures = list(dict.fromkeys(m for r in records.values() for m in r["scores"]))
    settings = {json.dumps(r["settings"], sort_keys=True) for r in records.values()}
    if len(settings) > 1:
        raise ShardError(f"zero-cost scores were computed with different settings {settings}; "
                         f"delete the {SUBDIR} files of one kind and score them again")
    names = [f"zc_{m}" for m in measures] + [f"zc_{m}_time" for m in measures]
    table = np.full((len(indices), len(names)), np.nan, np.float64)
    for row, index in enumerate(indices):
        rec = records.get(int(index))
        if rec is None:
            continue
        for k, m in enumerate(measures):
            entry = rec["scores"].get(m)
            if entry is not None:
                table[row, k] = np.nan if entry["score"] is None else entry["score"]
                table[row, len(measures) + k] = entry["time"]
    meta = {
        "measures": measures,
        "settings": json.loads(settings.pop()) if settings else dict(SETTINGS),
        "time": TIME_NOTE,
        "scored": int(sum(int(i) in records for i in indices)),
        "undefined": {m: int(np.isnan(table[:, k]).sum() - np.isnan(table[:, len(measures) + k])
                             .sum()) for k, m in enumerate(measures)},
    }
    return names, table, meta
