"""Zero-cost proxies (live and tabulated) and the params/flops baselines.

Importing this package registers every predictor it defines.
"""

from predictors.zero_cost import counting

__all__ = ["counting"]
