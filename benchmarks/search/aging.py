"""Aging (regularized) evolution's loop, shared by its single- and two-objective forms."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from benchmarks.search.context import RunContext


def aging_evolution(ctx: RunContext, population: int, sample_size: int,
                    winner: Callable[[list[int]], int]) -> None:
    """Real et al. (2019): ``population`` initial cells; then the ``winner`` of
    ``sample_size`` random living members is mutated once, its child joins and the oldest
    member dies, until a budget runs out."""
    alive: deque[int] = deque()
    for row in ctx.initial(population):
        ctx.query_all([row])
        alive.append(row)
    while True:
        pick = ctx.rng.choice(len(alive), size=min(sample_size, len(alive)), replace=False)
        parent = winner([alive[int(i)] for i in pick])
        child = ctx.mutants([parent], 1)[0]
        ctx.query_all([child])
        alive.append(child)
        if len(alive) > population:
            alive.popleft()
