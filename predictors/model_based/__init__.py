"""Model-based predictors: trained on (architecture, final accuracy) pairs.

Importing this package registers every predictor of the family.
"""

from predictors.model_based import (  # noqa: F401
    bayesian,
    flowerformer,
    gates,
    gnn,
    gp,
    gpwl,
    mlp,
    nao,
    narformer,
    svr,
    trees,
)
