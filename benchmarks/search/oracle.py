"""The search's view of a tabular benchmark: what a query costs and returns, and the budgets.

Querying a cell looks up its final objective value and pays its simulated full-training time.
Only cells the benchmark holds (with a known objective) can be queried, so sampling and mutation
are restricted to them. Scores are oriented so that higher is better whatever the metric's
direction; ``accuracy`` keeps the benchmark's own value.

A search trains each architecture once: on a benchmark with a second training seed it observes
seed 0's final value, and :meth:`Landscape.independent_regret` judges what it found by the other
run (regret of the incumbent's second-seed value against the best second-seed value), which
the search never saw. A search that exploits one run's noise shows it there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from benchmarks.tabular import TabularBenchmark
from benchmarks.tabular.format import EPOCH_COST
from predictors.spaces import Arch


class BudgetExhausted(Exception):
    """Raised inside an optimizer when the next query would exceed a budget."""


class SearchSetupError(ValueError):
    """A search was configured with values the benchmark cannot support."""


@dataclass
class Step:
    """One query of a search run."""

    index: int  # benchmark row of the queried architecture
    accuracy: float  # the benchmark's objective value
    best: float  # best objective value found so far (in the objective's direction)
    sim_time: float  # cumulative simulated training seconds
    regret: float  # benchmark best minus best so far (>= 0)
    predictor_s: float  # cumulative predictor seconds: measured wall + tabulated proxy time
    #: Multi-fidelity runs only: epochs the queried cell has now been trained for, and the
    #: incumbent row (the best cell by its observed value at the highest fidelity reached).
    epoch: int | None = None
    incumbent: int | None = None


class Landscape:
    """Objective values, costs and member neighbourhoods of one benchmark (shared by runs)."""

    def __init__(self, bench: TabularBenchmark, metric: str | None = None):
        self.bench = bench
        self.space = bench.space
        self.metric = metric or bench.objective
        self.sign = 1.0 if bench.direction(self.metric) == "max" else -1.0
        seed1 = bench.final(self.metric, seed=1) if bench.values.shape[1] >= 2 else None
        second = seed1 is not None and bool(np.isfinite(seed1).any())
        values = bench.final(self.metric, seed=0) if second else bench.final(self.metric)
        #: Oriented second-seed values (NaN where a cell has no second run); None: no seed 1.
        self.independent = self.sign * seed1 if second else None
        self.members = np.flatnonzero(~np.isnan(values))
        if len(self.members) == 0:
            raise SearchSetupError(f"benchmark {bench.name!r} has no {self.metric!r} values")
        self.values = values
        self.scores = self.sign * np.where(np.isnan(values), -np.inf * self.sign, values)
        if bench.static is not None and EPOCH_COST in bench.static_names:
            cost = bench.train_cost(np.arange(len(bench)))
            self.cost = np.nan_to_num(cost, nan=0.0)
        else:
            self.cost = np.zeros(len(bench))
        self.has_cost = bool(np.any(self.cost > 0))
        member_scores = self.scores[self.members]
        self.best_score = float(member_scores.max())
        self._sorted_scores = np.sort(member_scores)[::-1]
        self._neighbours: dict[int, np.ndarray] = {}
        self._member_set = set(self.members.tolist())

    def __len__(self) -> int:
        return len(self.members)

    def independent_regret(self, arch_index: np.ndarray) -> np.ndarray | None:
        """Per query of a run (its queried rows in order): best second-seed value minus the
        second-seed value of the incumbent (the best row by the observed value so far); NaN
        where the incumbent has no second run. None without a second seed."""
        if self.independent is None:
            return None
        rows = np.asarray(arch_index, dtype=int)
        observed = self.scores[rows]
        before = np.concatenate([[-np.inf], np.maximum.accumulate(observed)[:-1]])
        new_best = np.where(observed > before, np.arange(len(rows)), 0)
        incumbent = rows[np.maximum.accumulate(new_best)]  # first query of the best so far
        return self.independent_regret_of(incumbent)

    def independent_regret_of(self, incumbent: np.ndarray) -> np.ndarray | None:
        """Best second-seed value minus the second-seed value of each ``incumbent`` row (NaN
        where it has no second run); None without a second seed."""
        if self.independent is None:
            return None
        best = float(np.nanmax(self.independent[self.members]))
        return best - self.independent[np.asarray(incumbent, dtype=int)]

    def arch(self, index: int) -> Arch:
        return self.bench.archs[index]

    def top_threshold(self, fraction: float) -> float:
        """Score of the worst architecture still within the top ``fraction`` of members."""
        k = max(1, math.ceil(fraction * len(self.members)))
        return float(self._sorted_scores[k - 1])

    def neighbours(self, index: int) -> np.ndarray:
        """Benchmark rows one elementary change away from ``index`` (members only, cached)."""
        if index not in self._neighbours:
            found = []
            for arch in self.space.neighbours(self.arch(index)):
                row = self.bench._index.get(arch)
                if row is not None and row in self._member_set:
                    found.append(row)
            self._neighbours[index] = np.array(sorted(set(found)), dtype=int)
        return self._neighbours[index]

    def sample(self, rng: np.random.Generator, size: int = 1) -> np.ndarray:
        """Member rows drawn uniformly (with replacement)."""
        return self.members[rng.integers(len(self.members), size=size)]

    def mutate(self, index: int, rng: np.random.Generator) -> int:
        """A uniformly chosen member neighbour; a uniform member where none exists."""
        options = self.neighbours(index)
        if len(options) == 0:
            return int(self.sample(rng)[0])
        return int(options[rng.integers(len(options))])


@dataclass
class Oracle:
    """Answers queries of one run and enforces its budgets; records the trajectory."""

    land: Landscape
    max_queries: int
    time_budget: float | None = None
    steps: list[Step] = field(default_factory=list)
    seen: dict[int, float] = field(default_factory=dict)
    sim_time: float = 0.0
    predictor_s: float = 0.0

    def __post_init__(self) -> None:
        if self.max_queries < 1:
            raise SearchSetupError(f"queries must be at least 1, got {self.max_queries}")
        if self.max_queries > len(self.land):
            raise SearchSetupError(
                f"budget of {self.max_queries} queries exceeds the {len(self.land)} architectures "
                f"of benchmark {self.land.bench.name!r}; lower --queries"
            )
        if self.time_budget is not None and not self.land.has_cost:
            raise SearchSetupError(
                f"benchmark {self.land.bench.name!r} has no training times ({EPOCH_COST!r}); "
                "drop --time-budget or use a benchmark with a cost model"
            )

    @property
    def n(self) -> int:
        return len(self.steps)

    @property
    def best(self) -> float:
        """Best score (higher is better) found so far; -inf before the first query."""
        return max(self.seen.values(), default=-math.inf)

    def done(self) -> bool:
        if self.n >= self.max_queries:
            return True
        return self.time_budget is not None and self.sim_time >= self.time_budget

    def is_seen(self, index: int) -> bool:
        return int(index) in self.seen

    def query(self, index: int) -> float:
        """Score of ``index``; pays its training cost the first time, raises when out of budget."""
        index = int(index)
        if index in self.seen:
            return self.seen[index]
        if index not in self.land._member_set:
            raise KeyError(f"row {index} is not a queryable member of the benchmark")
        cost = float(self.land.cost[index])
        over_time = self.time_budget is not None and self.sim_time + cost > self.time_budget
        if self.n >= self.max_queries or over_time:
            raise BudgetExhausted
        score = float(self.land.scores[index])
        self.seen[index] = score
        self.sim_time += cost
        best = self.best
        self.steps.append(
            Step(
                index=index,
                accuracy=float(self.land.values[index]),
                best=self.land.sign * best,
                sim_time=self.sim_time,
                regret=self.land.best_score - best,
                predictor_s=self.predictor_s,
            )
        )
        return score

    def top(self, k: int) -> list[int]:
        """The ``k`` best queried rows, best first (ties by query order)."""
        order = sorted(self.seen, key=lambda i: -self.seen[i])
        return order[:k]

    def unseen_sample(self, rng: np.random.Generator, size: int) -> list[int]:
        """Up to ``size`` distinct unqueried members drawn uniformly."""
        out: list[int] = []
        taken: set[int] = set()
        tries = 0
        while len(out) < size and tries < 20 * size + 100:
            tries += 1
            row = int(self.land.sample(rng)[0])
            if row not in self.seen and row not in taken:
                taken.add(row)
                out.append(row)
        if len(out) < size:  # nearly exhausted: take the remaining members in random order
            rest = [int(i) for i in self.land.members if int(i) not in self.seen and i not in taken]
            rng.shuffle(rest)
            out.extend(rest[: size - len(out)])
        return out
