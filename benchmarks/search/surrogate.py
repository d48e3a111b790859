"""Registered predictors as search surrogates: contexts, bootstrap ensembles, zero-cost pre-filters.

A surrogate is fitted on everything a run has queried so far and scores candidate rows. The
contexts (``benchmarks.contexts``) hold only what the predictor declares in its ``DataNeeds``
(labels, tabulated properties, unlabeled architectures, live data); learning-curve predictors
are refused because a search queries fully trained cells only. Measured wall time of every
fit/query is returned so the run can record it beside the simulated training time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.contexts import ContextBuilder, check_compatible
from benchmarks.harness import tabulated_cost
from benchmarks.search.oracle import Landscape, SearchSetupError
from benchmarks.threads import limit_threads
from predictors.base import LiveSource, Predictor
from predictors.registry import make

log = logging.getLogger(__name__)


def search_contexts(land: Landscape, predictor: Predictor, name: str, device: str,
                    live: LiveSource | None) -> ContextBuilder:
    """Contexts for ``predictor`` on the landscape's benchmark, where it can run in a search."""
    needs = predictor.data_needs()
    check_compatible(land.bench, needs, name, live=live, fully_trained=True)
    return ContextBuilder(land.bench, needs, device=device, live=live)


@dataclass
class Surrogate:
    """A named predictor fitted on a run's queries; ``ensemble`` bootstrap copies when asked.

    ``ensemble``: 0 = the single predictor; n > 1 = n copies on bootstrap resamples (mean and
    spread give ``std``); ``"auto"`` (for acquisitions needing ``std``) = the single predictor
    when it reports a std, else a 5-member bootstrap ensemble.
    """

    land: Landscape
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    ensemble: int | str = 0
    device: str = "cpu"
    live: LiveSource | None = None
    auto_size: int = 5
    threads: int | None = 1

    def __post_init__(self) -> None:
        probe = make(self.name, **self.params)
        if not probe.data_needs().labels:
            raise SearchSetupError(
                f"predictor {self.name!r} needs no labels (a zero-cost proxy): it cannot learn "
                f"from queried cells; use it as a pre-filter (prefilter={self.name!r})"
            )
        self.contexts = search_contexts(self.land, probe, self.name, self.device, self.live)
        self._members: list[Predictor] = []
        self._size = self.ensemble if isinstance(self.ensemble, int) else 0
        self._auto: bool | None = None
        self.wall_s = 0.0

    def _fit_one(self, rows: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                 unseen: np.ndarray) -> Predictor:
        model = make(self.name, **self.params)
        factor = self.contexts.needs.unlabeled_factor
        unlabeled: np.ndarray = np.zeros(0, dtype=int)
        if factor and len(unseen):
            unlabeled = rng.choice(unseen, size=min(len(unseen), factor * len(rows)), replace=False)
        ctx = self.contexts.fit(rows, rng, labels=labels, unlabeled=unlabeled)
        with limit_threads(self.threads):
            model.fit(ctx)
        return model

    def fit(self, rows: Sequence[int], labels: np.ndarray, rng: np.random.Generator,
            unseen: Sequence[int] = ()) -> None:
        rows = np.asarray(rows, dtype=int)
        labels = np.asarray(labels, dtype=float)
        unseen_arr = np.asarray(unseen, dtype=int)
        start = time.perf_counter()
        single: Predictor | None = None
        if self.ensemble == "auto" and self._auto is None:  # first fit: does it report a std?
            single = self._fit_one(rows, labels, rng, unseen_arr)
            ctx = self.contexts.query(rows[:1], rng)
            with limit_threads(self.threads):
                probe = single.query([self.land.arch(int(rows[0]))], ctx)
            self._auto = probe.std is not None
            if not self._auto:
                log.info("predictor %s reports no std: using a %d-member bootstrap ensemble",
                         self.name, self.auto_size)
                self._size = self.auto_size
        if self._size > 1:
            self._members = []
            for _ in range(self._size):
                pick = rng.integers(len(rows), size=len(rows))
                self._members.append(self._fit_one(rows[pick], labels[pick], rng, unseen_arr))
        else:
            if single is None:
                single = self._fit_one(rows, labels, rng, unseen_arr)
            self._members = [single]
        self.wall_s += time.perf_counter() - start

    def predict(
        self, rows: Sequence[int], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Mean and std (``None`` where unavailable) of the scores of ``rows``."""
        rows = list(rows)
        start = time.perf_counter()
        archs = [self.land.arch(i) for i in rows]
        with limit_threads(self.threads):
            preds = [m.query(archs, self.contexts.query(rows, rng)) for m in self._members]
        self.wall_s += time.perf_counter() - start
        if len(preds) > 1:
            means = np.stack([p.mean for p in preds])
            return means.mean(axis=0), means.std(axis=0, ddof=1)
        return preds[0].mean, preds[0].std

    def botorch_select(self, acquisition: str, candidates: Sequence[int], observed: Sequence[int],
                       best: float, k: int, rng: np.random.Generator, beta: float = 0.5,
                       xi: float = 0.0) -> list[int]:
        """Positions (into ``candidates``) that a BoTorch acquisition on the GP picks."""
        from benchmarks.search.botorch_acq import botorch_select, check_botorch

        if len(self._members) != 1:
            raise SearchSetupError(
                f"acquisition {acquisition!r} works on one GP's joint posterior, not a "
                f"{len(self._members)}-member ensemble: leave ensemble at its default"
            )
        model = self._members[0]
        check_botorch(acquisition, model, self.name)
        land = self.land
        start = time.perf_counter()
        with limit_threads(self.threads):
            picked = botorch_select(acquisition, model, [land.arch(i) for i in candidates],
                                    [land.arch(i) for i in observed], best, land.space, k, rng,
                                    beta=beta, xi=xi)
        self.wall_s += time.perf_counter() - start
        return picked


@dataclass
class Prefilter:
    """A zero-cost proxy (no labels needed) that keeps the best-scored part of a candidate pool."""

    land: Landscape
    name: str
    keep: float = 0.5
    params: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    live: LiveSource | None = None
    threads: int | None = 1

    def __post_init__(self) -> None:
        if not 0 < self.keep <= 1:
            raise SearchSetupError(f"prefilter_keep must lie in (0, 1], got {self.keep}")
        self.model = make(self.name, **self.params)
        if self.model.data_needs().labels:
            raise SearchSetupError(
                f"pre-filter {self.name!r} needs labels; a pre-filter must be free: pick a "
                "zero-cost proxy (a predictor whose needs.labels is False)"
            )
        self.contexts = search_contexts(self.land, self.model, self.name, self.device, self.live)
        self._fitted = False
        self._cache: dict[int, float] = {}
        self.wall_s = 0.0
        self.tabulated_s = 0.0  # tabulated compute time of the scores read (e.g. zc_table)

    def _scores(self, rows: list[int], rng: np.random.Generator) -> np.ndarray:
        """Proxy scores of ``rows`` (cached per row; NaN counts as the worst)."""
        start = time.perf_counter()
        with limit_threads(self.threads):
            if not self._fitted:
                self.model.fit(self.contexts.fit([], rng))
                self._fitted = True
            todo = [i for i in dict.fromkeys(rows) if i not in self._cache]
            if todo:
                archs = [self.land.arch(i) for i in todo]
                scores = self.model.query(archs, self.contexts.query(todo, rng)).mean
                self._cache.update(zip(todo, scores.tolist(), strict=True))
                cost, _ = tabulated_cost(self.land.bench, self.model.data_needs().cost_properties,
                                         np.asarray(todo))
                self.tabulated_s += cost
        self.wall_s += time.perf_counter() - start
        return np.nan_to_num(np.array([self._cache[i] for i in rows]), nan=-np.inf)

    def best(self, rows: Sequence[int], size: int, rng: np.random.Generator) -> list[int]:
        """The ``size`` best-scored ``rows``, best first."""
        rows = list(rows)
        order = np.argsort(-self._scores(rows, rng), kind="stable")[:size]
        return [rows[int(j)] for j in order]

    def apply(self, rows: Sequence[int], rng: np.random.Generator) -> list[int]:
        """The best ``keep`` fraction of ``rows`` by proxy score (order of ``rows`` kept)."""
        rows = list(rows)
        if len(rows) <= 1 or self.keep >= 1:
            return rows
        n_keep = max(1, int(np.ceil(self.keep * len(rows))))
        kept = set(np.argsort(-self._scores(rows, rng), kind="stable")[:n_keep].tolist())
        return [r for j, r in enumerate(rows) if j in kept]
