"""Partial training for multi-fidelity search: train a cell up to an epoch, pay only new epochs.

:class:`FidelityOracle` extends the search oracle with :meth:`FidelityOracle.train`: training
a cell to epoch ``e`` observes the objective of its (seed-0) learning curve at ``e`` and charges
the simulated seconds of the epochs beyond those it already paid for, so a candidate continued
from epoch 2 to 4 pays two epochs. A full query (:meth:`FidelityOracle.query`) is training to
the last epoch, so full-fidelity methods run on it unchanged.

Every training call is one step of the trajectory. The incumbent is the best cell by its
observed value at the highest fidelity reached so far (the usual anytime incumbent of
Hyperband-style methods); a step's regret is the benchmark's best final value minus the
incumbent's final value, whether or not the search has trained it that far.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from benchmarks.search.oracle import BudgetExhausted, Oracle, SearchSetupError, Step


@dataclass
class FidelityOracle(Oracle):
    """An oracle over partial training; ``max_queries`` caps the distinct cells trained."""

    #: Epochs paid for per row, and the observed score per (row, epoch).
    paid: dict[int, int] = field(default_factory=dict)
    observed: dict[tuple[int, int], float] = field(default_factory=dict)
    incumbent: int | None = None
    _inc_epoch: int = 0
    _inc_score: float = -np.inf

    def __post_init__(self) -> None:
        super().__post_init__()
        bench = self.land.bench
        if not bench.has_curves:
            raise SearchSetupError(
                f"benchmark {bench.name!r} has no learning curves, so it cannot train a cell "
                "part of the way; use a full-fidelity method (random, rea, bo) or a benchmark "
                "with curves (e.g. fmnist-nb201)"
            )
        if not self.land.has_cost:
            raise SearchSetupError(
                f"benchmark {bench.name!r} has no training times: partial training cannot be "
                "charged; use a benchmark with a cost model"
            )
        rows = self.land.members
        # oriented per-epoch curves of the observed run (seed 0), and seconds per epoch
        self._curves = self.land.sign * bench.curve(rows, self.land.metric, bench.epochs, seed=0)
        self._row_of = {int(r): i for i, r in enumerate(rows)}
        self._epoch_cost = bench.epoch_cost(rows)

    @property
    def epochs(self) -> int:
        return self.land.bench.epochs

    @property
    def n(self) -> int:
        """Distinct cells trained (at any fidelity)."""
        return len(self.paid)

    def score_at(self, index: int, epoch: int) -> float:
        """Observed score of ``index`` at ``epoch`` (it must have been trained that far)."""
        return self.observed[(int(index), int(epoch))]

    def trained(self, index: int) -> int:
        """Epochs ``index`` has been trained for (0: never)."""
        return self.paid.get(int(index), 0)

    def cost_to(self, index: int, epoch: int) -> float:
        """Simulated seconds to continue ``index`` from where it stands to ``epoch``."""
        more = max(0, int(epoch) - self.trained(index))
        return float(self._epoch_cost[self._row_of[int(index)]]) * more

    def train(self, index: int, epoch: int) -> float:
        """Score of ``index`` at ``epoch``, paying the epochs beyond those already trained.

        Free when it has been trained that far; raises ``BudgetExhausted`` before a training
        that would pass a budget (a new cell past ``max_queries``, or time past the budget)."""
        index, epoch = int(index), int(epoch)
        if not 1 <= epoch <= self.epochs:
            raise ValueError(f"epoch {epoch} outside 1..{self.epochs}")
        if index not in self._row_of:
            raise KeyError(f"row {index} is not a queryable member of the benchmark")
        if epoch <= self.trained(index):
            return self.score_at(index, epoch)
        cost = self.cost_to(index, epoch)
        new_cell = index not in self.paid
        over_time = self.time_budget is not None and self.sim_time + cost > self.time_budget
        if (new_cell and self.n >= self.max_queries) or over_time:
            raise BudgetExhausted
        curve = self._curves[self._row_of[index]]
        for e in range(self.trained(index) + 1, epoch + 1):
            self.observed[(index, e)] = float(curve[e - 1])
        self.paid[index] = epoch
        score = self.observed[(index, epoch)]
        self.seen[index] = score  # latest observed value (unseen sampling skips it)
        self.sim_time += cost
        self._update_incumbent(index, epoch, score)
        inc = self.incumbent
        assert inc is not None
        final = float(self.land.scores[inc])
        self.steps.append(Step(
            index=index, accuracy=self.land.sign * score, best=self.land.sign * final,
            sim_time=self.sim_time, regret=self.land.best_score - final,
            predictor_s=self.predictor_s, epoch=epoch, incumbent=inc))
        return score

    def _update_incumbent(self, index: int, epoch: int, score: float) -> None:
        """Take ``index`` when it reached a higher fidelity than the incumbent, or the same one
        with a better observed score."""
        if (self.incumbent is None or epoch > self._inc_epoch
                or (epoch == self._inc_epoch and score > self._inc_score)):
            self.incumbent, self._inc_epoch, self._inc_score = index, epoch, score

    def query(self, index: int) -> float:
        """Full training of ``index`` (its final score), as a full-fidelity search queries."""
        return self.train(index, self.epochs)
