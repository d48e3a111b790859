"""predbench library layer: search spaces, encodings, the Predictor protocol and predictors."""

from predictors.base import (
    DataNeeds,
    FitContext,
    NotFittedError,
    Prediction,
    Predictor,
    QueryContext,
)
from predictors.registry import available, family_of, make, register

__all__ = [
    "DataNeeds",
    "FitContext",
    "NotFittedError",
    "Prediction",
    "Predictor",
    "QueryContext",
    "available",
    "family_of",
    "make",
    "register",
]
