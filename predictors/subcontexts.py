"""Contexts for the parts of a predictor, cut from the predictor's own context.

A composite (OMNI, stacking) runs registered predictors on subsets of its labeled architectures,
and an encoded predictor with zero-cost features scores its labeled architectures with proxies;
these helpers slice a ``FitContext`` row-wise and turn labeled rows into a ``QueryContext``, so a
part never sees more than its owner was given. Each part gets its own generator derived from
the owner's, so results depend on the seeds, not on the order parts run in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from predictors.base import FitContext, QueryContext

MAX_SEED = 2**31 - 1


def child_rng(rng: np.random.Generator) -> np.random.Generator:
    """A fresh generator seeded from ``rng`` (advances ``rng`` by one draw)."""
    return np.random.default_rng(int(rng.integers(MAX_SEED)))


def _rows(data: Mapping[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {k: np.asarray(v)[idx] for k, v in data.items()}


def fit_subset(ctx: FitContext, idx: np.ndarray, rng: np.random.Generator) -> FitContext:
    """``ctx`` restricted to labeled rows ``idx`` (archs, labels, curves, properties)."""
    idx = np.asarray(idx, dtype=int)
    return dataclasses.replace(
        ctx,
        archs=[ctx.archs[int(i)] for i in idx],
        labels=None if ctx.labels is None else np.asarray(ctx.labels)[idx],
        curves=_rows(ctx.curves, idx),
        rng=rng,
        properties=_rows(ctx.properties, idx),
    )


def query_rows(ctx: FitContext, idx: np.ndarray, rng: np.random.Generator) -> QueryContext:
    """A query context for labeled rows ``idx`` of ``ctx`` (their curves and properties)."""
    idx = np.asarray(idx, dtype=int)
    return QueryContext(
        space=ctx.space,
        curves=_rows(ctx.curves, idx),
        fidelity=ctx.fidelity,
        total_epochs=ctx.total_epochs,
        rng=rng,
        device=ctx.device,
        live=ctx.live,
        properties=_rows(ctx.properties, idx),
        network=ctx.network,
    )


def with_rng(ctx: QueryContext, rng: np.random.Generator) -> QueryContext:
    """``ctx`` with another generator (the caller's context is left untouched)."""
    return dataclasses.replace(ctx, rng=rng)
