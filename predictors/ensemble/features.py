"""OMNI's feature blocks, each computed by the project's existing parts.

- encoding: ``predictors.encodings.encode`` (any fixed-width vector encoding);
- curves: the SoTL-E score of the registered ``sotle`` predictor (from ``train_loss``) and the
  partial validation-accuracy curve up to the fidelity (forward-filled), as in the study;
- zero-cost: the scores of registered zero-cost (or baseline) predictors such as ``jacov`` and
  ``synflow``, run live inside ``fit`` (labeled architectures) and ``query`` (queried ones), so
  their cost lands in the measured time; or read from the benchmark's ``zc_<measure>`` table,
  whose tabulated compute time the harness charges instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictors.base import DataError, DataNeeds, FitContext, Predictor, QueryContext
from predictors.encodings import encode
from predictors.ensemble._contexts import child_rng, with_rng
from predictors.learning_curve.curves import forward_fill, get_curves
from predictors.registry import get, make
from predictors.spaces.base import Arch

CURVE_SCORE = "sotle"
CURVE_METRIC = "val_acc"
#: Families whose predictors may serve as zero-cost features (training-free scores).
ZC_FAMILIES = ("zero_cost", "baseline")
#: Where zero-cost features come from: computed live, or read from the benchmark's table.
ZC_SOURCES = ("live", "table")


def curve_needs() -> DataNeeds:
    """Needs of the curve block: SoTL-E's plus the validation curve, for labeled archs too."""
    own = DataNeeds(labels=False, curve_metrics=(CURVE_METRIC,), curves_for_train=True)
    return get(CURVE_SCORE).needs.union(own)


def zero_cost_members(measures: Sequence[str], batch_size: int, who: str,
                      source: str = "live") -> list[Predictor]:
    """One training-free predictor per measure name; clear errors for unusable names.

    ``source="live"`` runs the registered proxy (or baseline) of each name on real networks;
    ``source="table"`` reads the benchmark's tabulated ``zc_<name>`` scores (``zc_table``),
    charged the tabulated time they took to compute.
    """
    if not measures:
        raise ValueError(f"{who}: use_zero_cost=True needs at least one measure in `measures`")
    if source not in ZC_SOURCES:
        raise ValueError(f"{who}: unknown zc_source {source!r}; use one of {ZC_SOURCES}")
    if source == "table":
        return [make("zc_table", measure=str(name)) for name in measures]
    members = []
    for name in measures:
        cls = get(name)
        if cls.family not in ZC_FAMILIES or cls.needs.labels or cls.needs.curve_metrics:
            raise ValueError(
                f"{who}: measure {name!r} is a {cls.family} predictor; `measures` takes "
                f"training-free scores (families {ZC_FAMILIES}), e.g. ('jacov', 'synflow')"
            )
        params = {"batch_size": batch_size} if "batch_size" in cls.param_names() else {}
        members.append(make(name, **params))
    return members


def encoding_block(archs: Sequence[Arch], name: str, space, who: str) -> np.ndarray:
    x = encode(archs, name, space)
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        raise ValueError(f"{who}: encoding {name!r} is not a fixed-width vector encoding; use "
                         "e.g. 'adjacency_one_hot' or 'path'")
    return x.astype(float)


def curve_block(archs: Sequence[Arch], ctx: QueryContext, who: str) -> np.ndarray:
    """``[n, 1 + fidelity]``: SoTL-E and the validation-accuracy curve up to the fidelity."""
    sotle = make(CURVE_SCORE)
    sotle.fit(FitContext(space=ctx.space))
    score = sotle.query(archs, ctx).mean
    curve = get_curves(ctx.curves, CURVE_METRIC, len(archs), who)
    if ctx.fidelity is not None:
        curve = curve[:, : ctx.fidelity]
    return np.concatenate([score[:, None], forward_fill(curve)], axis=1)


def zero_cost_block(members: Sequence[Predictor], archs: Sequence[Arch],
                    ctx: QueryContext) -> np.ndarray:
    """``[n, len(members)]`` scores; NaN where a measure is undefined for a network."""
    if not members:
        return np.zeros((len(archs), 0))
    cols = [m.query(archs, with_rng(ctx, child_rng(ctx.rng))).mean for m in members]
    return np.stack(cols, axis=1)


def fit_members(members: Sequence[Predictor], ctx: FitContext) -> None:
    """Fit the training-free members (they learn nothing; this checks their inputs)."""
    for m in members:
        m.fit(FitContext(space=ctx.space, fidelity=ctx.fidelity, total_epochs=ctx.total_epochs,
                         rng=child_rng(ctx.rng), device=ctx.device, live=ctx.live,
                         properties=ctx.properties, network=ctx.network))


def check_width(x: np.ndarray, width: int, who: str) -> None:
    if x.shape[1] != width:
        raise DataError(
            f"{who} was fitted on {width} features but the query gives {x.shape[1]}: fit and "
            "query at the same fidelity"
        )
