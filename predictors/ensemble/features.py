"""OMNI's feature blocks, each computed by the project's existing parts.

- encoding: ``predictors.encodings.encode`` (any fixed-width vector encoding);
- curves: the SoTL-E score of the registered ``sotle`` predictor (from ``train_loss``) and the
  partial validation-accuracy curve up to the fidelity (forward-filled), as in the study;
- zero-cost: ``predictors.zero_cost.features`` (shared with the encoded predictors'
  ``zc_features``): the scores of registered zero-cost (or baseline) predictors such as
  ``jacov`` and ``synflow``, run live inside ``fit`` (labeled architectures) and ``query``
  (queried ones), so their cost lands in the measured time; or read from the benchmark's
  ``zc_<measure>`` table, whose tabulated compute time the harness charges instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictors.base import DataError, DataNeeds, FitContext, QueryContext
from predictors.encodings import encode
from predictors.learning_curve.curves import forward_fill, get_curves
from predictors.registry import get, make
from predictors.spaces.base import Arch

CURVE_SCORE = "sotle"
CURVE_METRIC = "val_acc"


def curve_needs() -> DataNeeds:
    """Needs of the curve block: SoTL-E's plus the validation curve, for labeled archs too."""
    own = DataNeeds(labels=False, curve_metrics=(CURVE_METRIC,), curves_for_train=True)
    return get(CURVE_SCORE).needs.union(own)


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


def check_width(x: np.ndarray, width: int, who: str) -> None:
    if x.shape[1] != width:
        raise DataError(
            f"{who} was fitted on {width} features but the query gives {x.shape[1]}: fit and "
            "query at the same fidelity"
        )
