"""Composite predictors: OMNI (features of every family in one model) and stacking.

Importing this package registers ``omni`` and ``omni_stack`` (family "ensemble").
"""

from predictors.ensemble import omni, stack  # noqa: F401
