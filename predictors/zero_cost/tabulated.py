"""``zc_table``: zero-cost scores precomputed elsewhere and tabulated by the benchmark.

NAS-Bench-Suite-Zero publishes scores of 13 measures for NAS-Bench-201/101/301/TransNAS
architectures; a converter stores each as a static benchmark property ``zc_<measure>``. This
predictor returns that property for the queried architectures (NaN where the table has none).
Where the table also records how long each score took (``zc_<measure>_time``), the harness
charges that time as the predictor's query time, so reading a score costs what computing it did.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from predictors.base import DataError, DataNeeds, FitContext, Prediction, Predictor, QueryContext
from predictors.registry import register
from predictors.spaces.base import Arch

PREFIX = "zc_"
TIME_SUFFIX = "_time"


@register("zc_table", family="zero_cost")
class TabulatedZeroCost(Predictor):
    """Reads the benchmark's tabulated score ``zc_<measure>``; nothing is computed.

    ``measure`` is a Suite-Zero measure name such as ``synflow``, ``jacov``, ``nwot`` (a
    leading ``zc_`` is accepted). Scores are returned as tabulated: higher is read as better.
    """

    needs = DataNeeds(labels=False, properties=(PREFIX + "synflow",),
                      cost_properties=(PREFIX + "synflow" + TIME_SUFFIX,))
    conformance_params: ClassVar[dict[str, Any]] = {"measure": "synflow"}

    measure: str = "synflow"

    @property
    def property_name(self) -> str:
        name = str(self.measure)
        return name if name.startswith(PREFIX) else PREFIX + name

    def data_needs(self) -> DataNeeds:
        """The score, and its compute time as the cost the harness charges per architecture."""
        return DataNeeds(labels=False, properties=(self.property_name,),
                         cost_properties=(self.property_name + TIME_SUFFIX,))

    def _fit(self, ctx: FitContext) -> None:
        if not str(self.measure).strip():
            raise ValueError("zc_table: measure must name a zero-cost measure, e.g. 'synflow'")

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        prop = self.property_name
        if prop not in ctx.properties:
            tabulated = sorted(k for k in ctx.properties if k.startswith(PREFIX))
            raise DataError(
                f"zc_table: the benchmark tabulates no {prop!r} scores "
                f"(it has: {', '.join(tabulated) or 'none'}); convert a NAS-Bench-Suite-Zero "
                "zc_*.json table into it, or pick one of the tabulated measures"
            )
        values = np.asarray(ctx.properties[prop], dtype=float).reshape(-1)
        if values.shape[0] != len(archs):
            raise DataError(f"zc_table: {values.shape[0]} tabulated {prop!r} values for "
                            f"{len(archs)} architectures")
        return Prediction(values)
