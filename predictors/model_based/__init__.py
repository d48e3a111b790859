"""Model-based predictors: trained on (architecture, final accuracy) pairs.

Importing this package registers every predictor of the family.
"""

from predictors.model_based import bayesian, gnn, gp, gpwl, mlp, nao, svr, trees  # noqa: F401
