"""Zero-cost proxies (live and tabulated) and the params/flops baselines.

Importing this package registers every predictor it defines: ``params`` and ``flops``
(family "baseline"), one live proxy per measure in ``PROXY_MEASURES`` and ``zc_table``
(family "zero_cost").
"""

from predictors.zero_cost import counting, proxy, tabulated
from predictors.zero_cost.measures import (
    MeasureSpec,
    ScoreUndefined,
    get_measure,
    measure,
    measure_names,
)
from predictors.zero_cost.proxy import PROXY_MEASURES, ZeroCostProxy

__all__ = [
    "PROXY_MEASURES",
    "MeasureSpec",
    "ScoreUndefined",
    "ZeroCostProxy",
    "counting",
    "get_measure",
    "measure",
    "measure_names",
    "proxy",
    "tabulated",
]
