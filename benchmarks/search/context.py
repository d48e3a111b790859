"""What an optimizer works with during one run: the oracle, its RNG, surrogate and pre-filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.search.oracle import BudgetExhausted, Oracle
from benchmarks.search.surrogate import Prefilter, Surrogate

if TYPE_CHECKING:
    from benchmarks.search.multifidelity import CurveRanker


@dataclass
class RunContext:
    oracle: Oracle
    rng: np.random.Generator
    surrogate: Surrogate | None = None
    prefilter: Prefilter | None = None
    warmup_pool: int = 0
    #: A learning-curve predictor ranking partly trained cells (multi-fidelity early stopping).
    ranker: CurveRanker | None = None
    #: Measured seconds of a method's own models (e.g. the GPs of multi-objective BO).
    method_s: float = 0.0

    @property
    def land(self):
        return self.oracle.land

    def _check_budget(self) -> None:
        if self.oracle.done():
            raise BudgetExhausted

    def sync_predictor_time(self) -> None:
        """Copy the surrogate/pre-filter time into the oracle before queries: measured wall
        time, plus the tabulated compute time of scores a pre-filter read from a table."""
        total = self.method_s
        if self.surrogate is not None:
            total += self.surrogate.wall_s
        if self.prefilter is not None:
            total += self.prefilter.wall_s + self.prefilter.tabulated_s
        if self.ranker is not None:
            total += self.ranker.wall_s + self.ranker.tabulated_s
        self.oracle.predictor_s = total

    def query_all(self, rows) -> None:
        """Query rows in order (raises ``BudgetExhausted`` when a budget runs out)."""
        self._check_budget()
        self.sync_predictor_time()
        for row in rows:
            self.oracle.query(int(row))

    def mutants(self, parents: list[int], size: int, edits: int = 1) -> list[int]:
        """Up to ``size`` distinct unqueried mutants of ``parents`` (round robin), then random."""
        self._check_budget()
        land, oracle, rng = self.land, self.oracle, self.rng
        pool: dict[int, None] = {}
        tries = 0
        while parents and len(pool) < size and tries < 20 * size:
            parent = parents[tries % len(parents)]
            tries += 1
            child = parent
            for _ in range(int(rng.integers(1, edits + 1))):
                child = land.mutate(child, rng)
            if not oracle.is_seen(child) and child not in pool:
                pool[child] = None
        if len(pool) < size:
            extra = [r for r in oracle.unseen_sample(rng, size) if r not in pool]
            pool.update(dict.fromkeys(extra[: size - len(pool)]))
        return list(pool)

    def initial(self, size: int) -> list[int]:
        """Initial architectures: random, or with a warm-up the pre-filter's best ``size`` of
        ``warmup_pool`` random draws (Abdelfattah et al. 2021, zero-cost warm-up)."""
        if self.prefilter is None or self.warmup_pool <= size:
            return self.random_unseen(size)
        return self.prefilter.best(self.random_unseen(self.warmup_pool), size, self.rng)

    def random_unseen(self, size: int, exclude: set[int] | None = None) -> list[int]:
        self._check_budget()
        rows = self.oracle.unseen_sample(self.rng, size + len(exclude or ()))
        return [r for r in rows if not exclude or r not in exclude][:size]

    def fit_surrogate(self) -> None:
        """Fit the surrogate on every (row, score) queried so far."""
        assert self.surrogate is not None
        rows = list(self.oracle.seen)
        labels = np.array([self.oracle.seen[r] for r in rows])
        unseen = []
        if self.surrogate.contexts.needs.unlabeled_factor:
            unseen = [int(r) for r in self.land.members if not self.oracle.is_seen(r)]
        self.surrogate.fit(rows, labels, self.rng, unseen)

    def prefiltered(self, rows: list[int]) -> list[int]:
        return rows if self.prefilter is None else self.prefilter.apply(rows, self.rng)
