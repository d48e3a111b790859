"""Search methods. Each runs until a budget raises ``BudgetExhausted`` in the oracle.

Every method is ``fn(ctx: RunContext, **params)``; ``METHODS`` maps the names used on the
command line to the function, whether it needs a predictor, and its default parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.search.acquisition import NEEDS_STD, get_acquisition, top_k
from benchmarks.search.aging import aging_evolution
from benchmarks.search.botorch_acq import is_botorch
from benchmarks.search.context import RunContext
from benchmarks.search.multifidelity import bohb, early_stopping, hyperband, successive_halving
from benchmarks.search.multiobjective import mobo, nsga_evolution


def random_search(ctx: RunContext) -> None:
    """Query uniformly drawn unqueried architectures."""
    while True:
        ctx.query_all(ctx.random_unseen(1))


def regularized_evolution(ctx: RunContext, population: int = 20, sample_size: int = 5) -> None:
    """Aging evolution (Real et al. 2019): tournament parent, one mutation, oldest dies."""
    seen = ctx.oracle.seen
    aging_evolution(ctx, population, sample_size, lambda rows: max(rows, key=seen.__getitem__))


def local_search(ctx: RunContext) -> None:
    """First-improvement hill climbing over member neighbours, random restart at local optima."""
    oracle, land, rng = ctx.oracle, ctx.land, ctx.rng
    while True:
        start = ctx.random_unseen(1)
        ctx.query_all(start)
        current = start[0]
        improved = True
        while improved:
            improved = False
            options = land.neighbours(current).copy()
            rng.shuffle(options)
            for row in options:
                ctx.query_all([row])  # free when already queried
                if oracle.seen[int(row)] > oracle.seen[current]:
                    current, improved = int(row), True
                    break


def guided_evolution(ctx: RunContext, init: int = 10, parents: int = 10, pool: int = 100,
                     k: int = 10, edits: int = 1) -> None:
    """NPENAS-style: mutate the best into a pool, fit on all queried, query the top-k predicted."""
    ctx.query_all(ctx.initial(init))
    while True:
        candidates = ctx.prefiltered(ctx.mutants(ctx.oracle.top(parents), pool, edits))
        ctx.fit_surrogate()
        mean, _ = ctx.surrogate.predict(candidates, ctx.rng)
        ctx.query_all([candidates[i] for i in top_k(mean, k)])


def bayesian_optimization(ctx: RunContext, init: int = 10, parents: int = 10,
                          mutations: int = 80, random: int = 20, k: int = 10,
                          acquisition: str = "its", beta: float = 0.5, xi: float = 0.0,
                          edits: int = 1) -> None:
    """BANANAS-style: mutants of the best plus random samples, ranked by an acquisition.

    ``acquisition`` is a mean/std rule (its, ucb, ei, mean) or, with a GP surrogate, one of
    BoTorch's (``botorch:logei``, ``botorch:qlognei``, ...; see :mod:`botorch_acq`).
    """
    acq = None if is_botorch(acquisition) else get_acquisition(acquisition)
    ctx.query_all(ctx.initial(init))
    while True:
        candidates = ctx.mutants(ctx.oracle.top(parents), mutations, edits)
        candidates += ctx.random_unseen(random, exclude=set(candidates))
        candidates = ctx.prefiltered(candidates)
        ctx.fit_surrogate()
        if is_botorch(acquisition):
            picked = ctx.surrogate.botorch_select(acquisition, candidates, list(ctx.oracle.seen),
                                                  ctx.oracle.best, k, ctx.rng, beta=beta, xi=xi)
            ctx.query_all([candidates[i] for i in picked])
            continue
        mean, std = ctx.surrogate.predict(candidates, ctx.rng)
        if std is None:
            if acquisition in NEEDS_STD:
                raise RuntimeError(
                    f"acquisition {acquisition!r} needs a std; the surrogate gave none "
                    "(set ensemble to 'auto' or a size > 1)"
                )
            std = np.zeros_like(mean)
        scores = acq(mean, std, ctx.oracle.best, ctx.rng, beta=beta, xi=xi)
        ctx.query_all([candidates[i] for i in top_k(scores, k)])


@dataclass(frozen=True)
class Method:
    fn: Callable[..., None]
    uses_predictor: bool
    defaults: dict[str, Any] = field(default_factory=dict)
    #: Surrogate ensemble setting: 0 single model, "auto" bootstrap only when no std.
    ensemble: int | str = 0
    doc: str = ""
    #: Trains cells part of the way (needs a benchmark with learning curves).
    fidelity: bool = False
    #: Its predictor ranks partly trained cells from their curves (not a surrogate).
    curve_predictor: bool = False
    #: Objectives it searches: "single", "multi" (needs --objectives) or "any".
    objectives: str = "single"


METHODS: dict[str, Method] = {
    "random": Method(random_search, False, doc="uniform random search", objectives="any"),
    "rea": Method(regularized_evolution, False, {"population": 20, "sample_size": 5},
                  doc="regularized (aging) evolution"),
    "local": Method(local_search, False, doc="first-improvement local search with restarts"),
    "evolution": Method(guided_evolution, True,
                        {"init": 10, "parents": 10, "pool": 100, "k": 10, "edits": 1},
                        doc="predictor-guided evolution (NPENAS)"),
    "bo": Method(bayesian_optimization, True,
                 {"init": 10, "parents": 10, "mutations": 80, "random": 20, "k": 10,
                  "acquisition": "its", "beta": 0.5, "xi": 0.0, "edits": 1},
                 ensemble="auto", doc="Bayesian optimization (BANANAS)"),
    "sh": Method(successive_halving, False, {"n": 32, "eta": 2, "min_epoch": 1},
                 doc="successive halving", fidelity=True),
    "hyperband": Method(hyperband, False, {"eta": 2, "min_epoch": 1}, doc="Hyperband",
                        fidelity=True),
    "bohb": Method(bohb, True, {"eta": 2, "min_epoch": 1, "min_points": 10, "pool": 64,
                                "random_fraction": 1 / 3},
                   doc="Hyperband with model-proposed cells (BOHB-style)", fidelity=True),
    "early_stop": Method(early_stopping, True,
                         {"n": 32, "eta": 2, "min_epoch": 1, "min_labels": 10},
                         doc="successive halving ranked by a learning-curve predictor",
                         fidelity=True, curve_predictor=True),
    "nsga": Method(nsga_evolution, False, {"population": 20, "sample_size": 5},
                   doc="aging evolution with non-dominated sorting", objectives="multi"),
    "mobo": Method(mobo, False, {"init": 10, "parents": 10, "mutations": 40, "random": 10,
                                 "k": 10, "hvi": "qlognehvi", "mc_samples": 32},
                   doc="multi-objective BO: GP + qLogNEHVI / qNEHVI", objectives="multi"),
}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ValueError(f"unknown search method {name!r}; use one of {', '.join(METHODS)}")
    return METHODS[name]
