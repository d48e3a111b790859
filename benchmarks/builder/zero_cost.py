"""Zero-cost scores of the benchmark's architectures, computed live and tabulated at merge.

Every live measure (``known_measures``: the proxies of ``predictors.zero_cost.PROXY_MEASURES``
and ``az_nas``) scores each of the first N architectures of the order exactly as a live sweep
does: the registered proxy predictor queries the network the benchmark trains (the recipe's
``to_network`` configuration) on a minibatch of the benchmark's training split, at the proxy's
own default batch size (64 for the measures of the 2021 study, the paper's for later ones), with
fixed batch and initialization seeds, on one CPU thread.

One JSON file per architecture (``zero-cost/z<index>.json`` in the shard directory) holds, per
measure, its score (``null`` where it is undefined, with the reason), the process CPU seconds
of its query (network construction included) and the settings it was scored with
(``settings``: batch size, seeds, device, threads, split, and a thinner network where the proxy
scores one). AZ-NAS's score is a rank aggregation over the architectures queried together, so
its entry holds the architecture's four components instead of a score (``components``;
non-finite values as the strings ``"-inf"``/``"inf"``); the merged benchmark tabulates each
component's rank among its architectures, and the tabulated ``az_nas`` ranks them over each
query. Files written before settings were recorded per measure hold one top-level
``settings`` (batch size 64), which their entries without their own inherit.

CPU seconds on one thread are what an idle core would take and are not inflated by other
processes sharing the machine; a tabulated predictor is charged them as its per-architecture
query time. Scoring resumes per architecture and measure: an architecture's file that lacks
some requested measures gets them added (its other entries are kept as they are). Workers
return the records and this process writes each file atomically as it arrives, so a killed run
resumes where it stopped and workers need no access to the shard directory. Architectures are
jobs of a ``benchmarks.jobs`` runner (a dead worker is replaced, an optional time limit stops a
hanging one, a failed one is left unscored), in worker processes or as tasks of a Ray cluster
of one CPU each.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.builder.order import arch_order
from benchmarks.builder.recipe import Recipe
from benchmarks.builder.shards import ShardError, atomic_write_text, open_shard_dir
from benchmarks.builder.train import INPUT_SHAPE
from benchmarks.checks import OptionError
from benchmarks.jobs import JobsSummary, job_runner
from benchmarks.progress import Progress

if TYPE_CHECKING:
    from predictors.base import FitContext, Predictor, QueryContext

log = logging.getLogger(__name__)

SUBDIR = "zero-cost"
#: Settings every measure is scored with; the batch size is each proxy's own default.
SHARED: dict[str, Any] = {"batch_seed": 0, "init_seed": 0, "device": "cpu", "threads": 1,
                          "split": "train"}
#: The measure with per-architecture components instead of a score (its tabulated predictor
#: ranks them over each query).
COMPONENT_MEASURES = ("az_nas",)
TIME_NOTE = ("process CPU seconds of one predictor query of the architecture on one CPU thread "
             "(network construction included)")
COMPONENTS_NOTE = ("components are tabulated as their ranks among the tabulated architectures "
                   "(1 = smallest, ties share their mean rank): a query's ranks are the same "
                   "as from the values, and float32 storage keeps them exact; the score files "
                   "hold the values")
#: A job: an architecture's index and the measures it still lacks.
Job = tuple[int, tuple[str, ...]]


def score_name(index: int) -> str:
    return f"z{index:04d}.json"


def done_indices(directory: Path) -> set[int]:
    sub = directory / SUBDIR
    return {int(p.stem[1:]) for p in sub.glob("z*.json")} if sub.is_dir() else set()


def known_measures() -> tuple[str, ...]:
    """Every measure this builder scores: the live proxies and ``az_nas``."""
    from predictors.zero_cost import PROXY_MEASURES

    return (*PROXY_MEASURES, *COMPONENT_MEASURES)


def default_measures() -> tuple[str, ...]:
    return known_measures()


def checked_measures(names: Sequence[str], option: str = "--measures") -> tuple[str, ...]:
    """``names`` (duplicates dropped) if each is a measure this builder scores, else
    ``OptionError`` naming ``option``."""
    known = known_measures()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise OptionError(f"{option}: {', '.join(map(repr, unknown))} is not a live zero-cost "
                          f"proxy; use some of {','.join(known)}")
    return tuple(dict.fromkeys(names))


def measure_settings(predictor: Predictor, space: str = "nb201") -> dict[str, Any]:
    """What a proxy predictor scores with: its batch size, the shared settings, and the
    network settings and measure options it changes on ``space``."""
    settings = {"batch_size": int(predictor.batch_size), **SHARED}
    for key, attr in (("network", "network_overrides"), ("options", "measure_options")):
        value = getattr(predictor, attr, {}).get(space)
        if value:
            settings[key] = dict(value)
    return settings


def entry_settings(record: dict[str, Any], measure: str) -> dict[str, Any]:
    """The settings ``measure`` was scored with in one score file (files written before
    per-measure settings: the file's shared ``settings``)."""
    entry = record["scores"][measure]
    return entry["settings"] if "settings" in entry else record["settings"]


def missing_measures(record: dict[str, Any] | None, measures: Sequence[str]
                     ) -> tuple[str, ...]:
    """The ``measures`` a score file (``None``: none yet) does not hold."""
    have = record["scores"] if record is not None else {}
    return tuple(m for m in measures if m not in have)


def _encode(value: float) -> float | str:
    """A component for JSON: non-finite values as ``"-inf"``/``"inf"`` (``float`` reads them
    back; NaN never occurs: an undefined architecture has no components)."""
    return value if math.isfinite(value) else str(value)


class _Scorer:
    """Fitted proxy predictors and the query context of one process."""

    def __init__(self, ctx: QueryContext, fit: FitContext, measures: Sequence[str]) -> None:
        from predictors import make

        seeds = {k: SHARED[k] for k in ("batch_seed", "init_seed")}
        self.ctx = ctx
        self.predictors = {m: make(m, **seeds).fit(fit) for m in measures}
        self.settings = {m: measure_settings(p, ctx.space.name)
                         for m, p in self.predictors.items()}
        for predictor in self.predictors.values():  # untimed warm-up of lazy initialization
            predictor.query([arch_order()[0]], self.ctx)

    @classmethod
    def for_recipe(cls, recipe: Recipe, measures: Sequence[str]) -> _Scorer:
        """The scorer of the benchmark's networks on its Fashion-MNIST training split, on one
        CPU thread."""
        import torch

        from benchmarks.live import dataset_source
        from predictors import FitContext, QueryContext
        from predictors.spaces import get_space

        torch.set_num_threads(int(SHARED["threads"]))
        space = get_space("nb201")
        live = dataset_source("fashion-mnist", recipe.splits.as_dict())
        network = {**recipe.network_kwargs(), "input_shape": list(INPUT_SHAPE)}
        return cls(QueryContext(space=space, network=network, live=live, device="cpu"),
                   FitContext(space=space, live=live, device="cpu"), measures)

    def score(self, index: int, measures: Sequence[str]) -> dict[str, Any]:
        """The score file's record of architecture ``index`` with ``measures``."""
        arch = arch_order()[index]
        scores: dict[str, Any] = {}
        for name in measures:
            predictor = self.predictors[name]
            predictor.failures_ = {}
            start = time.process_time()
            value = float(predictor.query([arch], self.ctx).mean[0])
            seconds = time.process_time() - start
            entry: dict[str, Any]
            if name in COMPONENT_MEASURES:
                found = predictor.components_[0]
                entry = {"components": None if found is None
                         else {k: _encode(v) for k, v in found.items()}}
            else:
                entry = {"score": value if np.isfinite(value) else None}
            entry.update(time=seconds, settings=self.settings[name])
            if predictor.failures_:
                entry["error"] = next(iter(predictor.failures_.values()))
            scores[name] = entry
        return {"index": index, "arch": str(arch), "scores": scores}


_SCORER: _Scorer | None = None


def _worker_init(recipe: Recipe, measures: Sequence[str]) -> None:
    global _SCORER
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(message)s")
    _SCORER = _Scorer.for_recipe(recipe, measures)


def _worker_score(job: Job) -> dict[str, Any]:
    assert _SCORER is not None, "worker was not initialized"
    return _SCORER.score(*job)


def _job_name(job: Job) -> str:
    return score_name(job[0])


def added(record: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The score file ``record`` (``None``: none yet) with the measures of ``new`` it lacks
    added; its own entries and settings are kept as they are."""
    if record is None:
        return new
    if record["arch"] != new["arch"]:
        raise ShardError(f"{score_name(new['index'])} scores {record['arch']}, not architecture "
                         f"{new['index']} of the order ({new['arch']}); delete it and score "
                         "again")
    extra = {m: e for m, e in new["scores"].items() if m not in record["scores"]}
    return {**record, "scores": {**record["scores"], **extra}}


def run_scores(num_archs: int, recipe: Recipe, shard_dir: Path,
               measures: Sequence[str] | None = None, workers: int = 1,
               task_timeout: float | None = None, executor: str = "process",
               address: str | None = None) -> list[int]:
    """Score the first ``num_archs`` architectures with the ``measures`` their score files
    lack; returns the architectures scored now. ``task_timeout``: seconds one architecture may
    take (``None`` or ``0``: no limit; one worker and no limit score in this process).
    ``executor="ray"``: as tasks of the Ray cluster at ``address``. Raises ``JobsFailed`` once
    the others are scored when one failed."""
    measures = checked_measures(measures or default_measures(), "measures")
    shard_dir = open_shard_dir(shard_dir, recipe)
    (shard_dir / SUBDIR).mkdir(exist_ok=True)
    records = read_scores(shard_dir)
    todo: list[Job] = [(i, lack) for i in range(num_archs)
                       if (lack := missing_measures(records.get(i), measures))]
    log.info("%s: %d of %d architectures have every measure of %s; %d to score with %d "
             "worker(s) (%d measure(s) in all)", shard_dir / SUBDIR, num_archs - len(todo),
             num_archs, ",".join(measures), len(todo), workers, sum(len(m) for _, m in todo))
    summary = JobsSummary(skipped=num_archs - len(todo))
    if not todo:
        return []
    needed = tuple(m for m in measures if any(m in lack for _, lack in todo))
    runner = job_runner(min(workers, len(todo)), task_timeout, _worker_init, (recipe, needed),
                        executor=executor, address=address, cpus=int(SHARED["threads"]))
    with Progress(len(todo), "zero-cost scores") as bar:
        for job, outcome in runner.map(_worker_score, todo, label=_job_name):
            name = _job_name(job)
            if not summary.add(job, outcome):
                log.warning("%s failed: %s", name, outcome.error)
                bar.done(name, "failed")
                continue
            record = added(records.get(job[0]), outcome)
            atomic_write_text(shard_dir / SUBDIR / name,
                              json.dumps(record, separators=(",", ":")) + "\n")
            bar.done(name)
    summary.check("architectures", str(shard_dir / SUBDIR))
    return [index for index, _ in summary.done]


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


def _components(records: dict[int, dict[str, Any]], measure: str) -> list[str]:
    """The component names of a measure scored as components (empty for a plain score)."""
    for rec in records.values():
        found = rec["scores"].get(measure, {}).get("components")
        if found:
            return list(found)
    return []


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks of the non-NaN ``values`` (1 = smallest, ``-inf`` first, ties share their mean
    rank); NaN stays NaN."""
    from scipy.stats import rankdata

    out = np.full(values.shape, np.nan)
    ok = ~np.isnan(values)
    out[ok] = rankdata(values[ok])
    return out


def tabulate(records: dict[int, dict[str, Any]], indices: Sequence[int]
             ) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """Static columns for ``indices`` (NaN where an architecture has no score): ``zc_<measure>``,
    or ``zc_<measure>_<component>`` for a measure scored as components (``COMPONENTS_NOTE``:
    their ranks over ``indices``), then ``zc_<measure>_time`` for every measure; and the
    metadata describing them (per measure: the settings it was scored with and how many
    architectures have it)."""
    measures = list(dict.fromkeys(m for r in records.values() for m in r["scores"]))
    settings: dict[str, dict[str, Any]] = {}
    for m in measures:
        seen = {json.dumps(entry_settings(r, m), sort_keys=True) for r in records.values()
                if m in r["scores"]}
        if len(seen) > 1:
            raise ShardError(f"zero-cost scores of {m} were computed with different settings "
                             f"{sorted(seen)}; delete the {SUBDIR} entries of one kind and "
                             "score them again")
        settings[m] = json.loads(seen.pop())
    parts = {m: _components(records, m) for m in measures}
    columns = [(m, c) for m in measures for c in (parts[m] or [None])]
    names = ([f"zc_{m}" if c is None else f"zc_{m}_{c}" for m, c in columns]
             + [f"zc_{m}_time" for m in measures])
    table = np.full((len(indices), len(names)), np.nan, np.float64)
    times = {m: len(columns) + k for k, m in enumerate(measures)}
    for row, index in enumerate(indices):
        rec = records.get(int(index))
        if rec is None:
            continue
        for k, (m, c) in enumerate(columns):
            entry = rec["scores"].get(m)
            if entry is None:
                continue
            value = entry.get("score") if c is None else (entry.get("components") or {}).get(c)
            table[row, k] = np.nan if value is None else float(value)
            table[row, times[m]] = entry["time"]
    for k, (_, c) in enumerate(columns):
        if c is not None:
            table[:, k] = _ranks(table[:, k])
    first = {m: next(k for k, (n, _) in enumerate(columns) if n == m) for m in measures}
    meta = {
        "measures": measures,
        "components": {m: c for m, c in parts.items() if c},
        "components_note": COMPONENTS_NOTE,
        "settings": settings,
        "time": TIME_NOTE,
        "scored": int(sum(int(i) in records for i in indices)),
        "scored_per_measure": {m: int(np.isfinite(table[:, times[m]]).sum()) for m in measures},
        "undefined": {m: int(np.isnan(table[:, first[m]]).sum()
                             - np.isnan(table[:, times[m]]).sum()) for m in measures},
    }
    return names, table, meta


def add_score_columns(meta: dict[str, Any], static: np.ndarray,
                      records: dict[int, dict[str, Any]], indices: Sequence[int]) -> np.ndarray:
    """The static table of a benchmark whose rows are the architectures ``indices`` of the
    order, with the tabulated ``records`` appended (replacing columns of the same names);
    ``meta``'s ``static``, ``static_units`` and ``zero_cost`` are updated in place."""
    names, table, meta["zero_cost"] = tabulate(records, indices)
    keep = [k for k, n in enumerate(meta["static"]) if n not in names]
    meta["static"] = [meta["static"][k] for k in keep] + names
    meta.setdefault("static_units", {}).update(
        {n: "s" if n.endswith("_time") else "score" for n in names})
    return np.concatenate([np.asarray(static, np.float64)[:, keep], table], axis=1)


def tabulated_settings(meta: dict[str, Any], measure: str) -> dict[str, Any]:
    """The settings of ``measure`` in a benchmark's ``zero_cost`` metadata (benchmarks merged
    before per-measure settings record one dict shared by every measure)."""
    settings = meta.get("settings", {})
    if settings and all(isinstance(v, dict) for v in settings.values()):
        return settings.get(measure, {})
    return settings
