"""Resumable supernet scoring: one JSON file of subnet scores per (sampler, snapshot).

A snapshot is a supernet trained for some cumulative number of epochs (or that supernet with
each subnet fine-tuned for a few steps). Its file holds every architecture scored so far (keyed by
the architecture's string, so benchmarks that share architectures share scores), the subnet
accuracies, and the wall and CPU seconds of training and scoring. Files are named by a
fingerprint of everything that shapes the scores (sampler and its parameters, network, data
source, seed), written atomically after every chunk of architectures, and read back on a rerun:
an interrupted analysis resumes at the first architecture without a score, and training resumes
from the supernet's checkpoint.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.builder.shards import atomic_write_text
from benchmarks.progress import Progress

log = logging.getLogger(__name__)

CHUNK = 50


@dataclass
class Snapshot:
    """Scores of one (sampler, epochs[, fine-tuning steps]) supernet snapshot."""

    path: Path
    config: dict[str, Any]
    steps: int | None = None
    train_wall_s: float | None = None  # training since the previous snapshot
    train_cpu_s: float | None = None
    query_wall_s: float = 0.0
    query_cpu_s: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    acc: dict[str, float] = field(default_factory=dict)

    @classmethod
    def open(cls, directory: Path, config: dict[str, Any], label: str) -> Snapshot:
        from predictors.weight_sharing.checkpoint import fingerprint

        path = directory / f"{label}-{fingerprint(config)}.json"
        if not path.is_file():
            return cls(path, config)
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise RuntimeError(f"{path} is corrupt ({exc}); delete it to score again") from exc
        return cls(path, config, data["steps"], data["train_wall_s"], data["train_cpu_s"],
                   data["query_wall_s"], data["query_cpu_s"],
                   {k: _float(v) for k, v in data["scores"].items()},
                   {k: _float(v) for k, v in data["acc"].items()})

    @property
    def trained(self) -> bool:
        return self.steps is not None

    def missing(self, keys: Sequence[str]) -> list[int]:
        return [i for i, k in enumerate(keys) if k not in self.scores]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"config": self.config, "steps": self.steps, "train_wall_s": self.train_wall_s,
                "train_cpu_s": self.train_cpu_s, "query_wall_s": self.query_wall_s,
                "query_cpu_s": self.query_cpu_s,
                "scores": {k: _json(v) for k, v in self.scores.items()},
                "acc": {k: _json(v) for k, v in self.acc.items()}}
        atomic_write_text(self.path, json.dumps(data, sort_keys=True) + "\n")

    def values(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Scores and subnet accuracies aligned with ``keys`` (all must be scored)."""
        return (np.array([self.scores[k] for k in keys], dtype=float),
                np.array([self.acc.get(k, math.nan) for k in keys], dtype=float))

    def score(self, keys: Sequence[str], archs: Sequence[Any],
              query: Callable[[list[Any]], tuple[np.ndarray, np.ndarray | None]],
              desc: str) -> None:
        """Score the architectures of ``keys`` without a score, chunk by chunk, saving each."""
        todo = self.missing(keys)
        if not todo:
            return
        with Progress(len(todo), desc) as bar:
            for start in range(0, len(todo), CHUNK):
                rows = todo[start:start + CHUNK]
                wall, cpu = time.perf_counter(), time.process_time()
                scores, acc = query([archs[i] for i in rows])
                self.query_wall_s += time.perf_counter() - wall
                self.query_cpu_s += time.process_time() - cpu
                for j, i in enumerate(rows):
                    self.scores[keys[i]] = float(scores[j])
                    if acc is not None:
                        self.acc[keys[i]] = float(acc[j])
                self.save()
                for i in rows:
                    bar.done(keys[i])

    @property
    def query_count(self) -> int:
        return len(self.scores)


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


def _json(v: float) -> float | None:
    return v if math.isfinite(v) else None
