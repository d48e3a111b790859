"""Multi-fidelity search methods over benchmarks with learning curves.

All run on a :class:`~benchmarks.search.fidelity.FidelityOracle` (a continued cell pays only its
further epochs) and loop over brackets until a budget runs out:

- ``sh``: successive halving (Jamieson & Talwalkar 2016): ``n`` random cells trained to the
  first rung, the best ``1/eta`` (by observed value at that rung) continued to the next, up to
  the last epoch;
- ``hyperband`` (Li et al. 2018): successive-halving brackets from aggressive (many cells, first
  rung ``min_epoch``) to none (few cells trained fully), ``n = ceil((s_max+1)/(s+1) * eta^s)``;
- ``bohb``: Hyperband whose new cells come from a model (Falkner et al. 2018, model-based
  proposals): a registered predictor fitted on the observed values at the highest rung with at
  least ``min_points`` cells ranks a random pool; ``random_fraction`` of each bracket stays
  random. The model is refitted once per bracket;
- ``early_stop``: successive halving where a learning-curve, hybrid or OMNI predictor decides at
  each rung which cells continue (the best ``1/eta`` by its prediction from the curves up to
  that rung, fitted on the fully trained cells' final values). Until ``min_labels`` cells are
  fully trained, a predictor that needs labels gives way to the observed value (plain SH).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.contexts import ContextBuilder, check_compatible
from benchmarks.harness import tabulated_cost
from benchmarks.search.acquisition import top_k
from benchmarks.search.context import RunContext
from benchmarks.search.fidelity import FidelityOracle
from benchmarks.search.oracle import Landscape, SearchSetupError
from benchmarks.threads import limit_threads
from predictors.base import Predictor
from predictors.registry import make

#: Ranks the cells of a rung: (rows, epoch) -> scores, higher continues.
Ranker = Callable[[list[int], int], np.ndarray]


def rung_epochs(epochs: int, eta: int, min_epoch: int = 1) -> list[int]:
    """Epochs of the rungs: ``min_epoch * eta^i`` below ``epochs``, then ``epochs`` itself."""
    if eta < 2:
        raise SearchSetupError(f"eta must be at least 2, got {eta}")
    if not 1 <= min_epoch <= epochs:
        raise SearchSetupError(f"min_epoch must lie in 1..{epochs}, got {min_epoch}")
    out, e = [], min_epoch
    while e < epochs:
        out.append(e)
        e *= eta
    return [*out, epochs]


def promote(rows: Sequence[int], scores: np.ndarray, eta: int) -> list[int]:
    """The best ``max(1, floor(len(rows) / eta))`` rows by score, best first (ties: order)."""
    keep = max(1, len(rows) // eta)
    order = np.argsort(-np.nan_to_num(np.asarray(scores, float), nan=-np.inf), kind="stable")
    return [int(rows[i]) for i in order[:keep]]


def fidelity_oracle(ctx: RunContext) -> FidelityOracle:
    if not isinstance(ctx.oracle, FidelityOracle):
        raise TypeError("a multi-fidelity method needs a FidelityOracle")
    return ctx.oracle


def run_bracket(ctx: RunContext, rows: Sequence[int], rungs: Sequence[int], eta: int,
                rank: Ranker | None = None) -> list[int]:
    """Successive halving of ``rows`` over ``rungs``; returns the cells trained to the last."""
    oracle = fidelity_oracle(ctx)
    alive = [int(r) for r in rows]
    for i, epoch in enumerate(rungs):
        ctx.sync_predictor_time()
        for row in alive:
            oracle.train(row, epoch)
        if i == len(rungs) - 1:
            break
        scores = None if rank is None else rank(alive, epoch)
        if scores is None:
            scores = np.array([oracle.score_at(r, epoch) for r in alive])
        alive = promote(alive, scores, eta)
    return alive


def successive_halving(ctx: RunContext, n: int = 32, eta: int = 2, min_epoch: int = 1) -> None:
    """Brackets of successive halving on ``n`` random cells each."""
    rungs = rung_epochs(fidelity_oracle(ctx).epochs, eta, min_epoch)
    while True:
        run_bracket(ctx, ctx.random_unseen(n), rungs, eta)


def bracket_sizes(rungs: Sequence[int], eta: int) -> list[tuple[int, list[int]]]:
    """Hyperband's brackets, most aggressive first: (cells, the rungs it runs)."""
    s_max = len(rungs) - 1
    return [(math.ceil((s_max + 1) / (s + 1) * eta**s), list(rungs[s_max - s:]))
            for s in range(s_max, -1, -1)]


def hyperband(ctx: RunContext, eta: int = 2, min_epoch: int = 1,
              propose: Callable[[int], list[int]] | None = None) -> None:
    """Hyperband's brackets in turn, new cells from ``propose`` (default: random)."""
    rungs = rung_epochs(fidelity_oracle(ctx).epochs, eta, min_epoch)
    propose = propose or ctx.random_unseen
    while True:
        for size, bracket in bracket_sizes(rungs, eta):
            run_bracket(ctx, propose(size), bracket, eta)


def bohb(ctx: RunContext, eta: int = 2, min_epoch: int = 1, min_points: int = 10,
         pool: int = 64, random_fraction: float = 1 / 3) -> None:
    """Hyperband with new cells proposed by a model of the highest well-observed rung."""
    oracle = fidelity_oracle(ctx)
    surrogate = ctx.surrogate
    assert surrogate is not None

    def propose(size: int) -> list[int]:
        by_epoch: dict[int, list[int]] = {}
        for row, epoch in oracle.paid.items():
            for e in range(1, epoch + 1):
                by_epoch.setdefault(e, []).append(row)
        usable = [e for e, rows in by_epoch.items() if len(rows) >= min_points]
        n_model = size - int(round(random_fraction * size))
        if not usable or n_model < 1:
            return ctx.random_unseen(size)
        epoch = max(usable)
        rows = by_epoch[epoch]
        labels = np.array([oracle.score_at(r, epoch) for r in rows])
        surrogate.fit(rows, labels, ctx.rng)
        candidates = ctx.random_unseen(max(pool, n_model))
        mean, _ = surrogate.predict(candidates, ctx.rng)
        picked = [candidates[int(i)] for i in top_k(mean, n_model)]
        return picked + ctx.random_unseen(size - len(picked), exclude=set(picked))

    hyperband(ctx, eta, min_epoch, propose)


@dataclass
class CurveRanker:
    """A learning-curve, hybrid or ensemble predictor ranking cells from partial curves.

    Fitted on the fully trained cells (their curves cut at the rung's epoch, their final
    observed values as labels); one fit per (epoch, labeled cells), reused within a rung.
    Wall time of fits and queries, and the tabulated seconds of any scores it reads (e.g.
    OMNI's zero-cost columns), are kept for the run's predictor time.
    """

    land: Landscape
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    threads: int | None = 1

    def __post_init__(self) -> None:
        probe = make(self.name, **self.params)
        self.needs = probe.data_needs()
        if not self.needs.curve_metrics:
            raise SearchSetupError(
                f"predictor {self.name!r} reads no learning curves, so it cannot judge a "
                "partly trained cell; use a learning-curve, hybrid or OMNI predictor (e.g. "
                "sotle, lcsvr, omni), or bohb for a model over configurations"
            )
        check_compatible(self.land.bench, self.needs, self.name)
        self.wall_s = 0.0
        self.tabulated_s = 0.0
        self._charged: set[int] = set()
        self._fitted: dict[tuple[int, int], Predictor] = {}

    def rank(self, rows: list[int], epoch: int, labeled: Sequence[int], labels: np.ndarray,
             rng: np.random.Generator, min_labels: int = 10) -> np.ndarray | None:
        """Predicted scores of ``rows`` from their curves up to ``epoch``; None while a
        predictor that needs labels has fewer than ``min_labels``."""
        if self.needs.labels and len(labeled) < min_labels:
            return None
        start = time.perf_counter()
        builder = ContextBuilder(self.land.bench, self.needs, fidelity=epoch,
                                 device=self.device, metric=self.land.metric)
        key = (epoch, len(labeled))
        with limit_threads(self.threads):
            if key not in self._fitted:
                model = make(self.name, **self.params)
                fit_rows = list(labeled) if self.needs.labels else []
                model.fit(builder.fit(fit_rows, rng, labels=labels if fit_rows else None))
                self._fitted = {key: model}
                self._charge(fit_rows)
            archs = [self.land.arch(r) for r in rows]
            scores = self._fitted[key].query(archs, builder.query(rows, rng)).mean
        self._charge(rows)
        self.wall_s += time.perf_counter() - start
        return np.asarray(scores, dtype=float)

    def _charge(self, rows: Sequence[int]) -> None:
        new = np.array([r for r in rows if r not in self._charged], dtype=int)
        if len(new):
            cost, _ = tabulated_cost(self.land.bench, self.needs.cost_properties, new)
            self.tabulated_s += cost
            self._charged.update(new.tolist())


def early_stopping(ctx: RunContext, n: int = 32, eta: int = 2, min_epoch: int = 1,
                   min_labels: int = 10) -> None:
    """Successive halving where a curve predictor picks the cells that continue."""
    oracle = fidelity_oracle(ctx)
    ranker = ctx.ranker
    assert ranker is not None
    rungs = rung_epochs(oracle.epochs, eta, min_epoch)
    last = oracle.epochs

    def rank(rows: list[int], epoch: int) -> np.ndarray | None:
        labeled = [r for r, e in oracle.paid.items() if e >= last]
        labels = np.array([oracle.score_at(r, last) for r in labeled])
        return ranker.rank(rows, epoch, labeled, labels, ctx.rng, min_labels)

    while True:
        run_bracket(ctx, ctx.random_unseen(n), rungs, eta, rank)
