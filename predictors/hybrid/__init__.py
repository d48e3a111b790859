"""Hybrid predictors (architecture encoding + partial learning curves). Importing registers them."""

from predictors.hybrid import lcsvr  # noqa: F401  (registers)
