"""A regression tree for ngboost's boosting steps that checks its input and parameters once.

ngboost clones its base tree twice per boosting step, fits both clones and calls their
``predict`` several times (the step and its line search). On the small training sets of NAS
predictors, scikit-learn's per-call work around the tree code costs more than building the
trees: input validation in every ``fit`` and ``predict``, parameter validation in every
``fit``, and ``clone``'s signature inspection. This tree converts its input to the float32,
C-contiguous layout scikit-learn's tree code uses anyway, validates its parameters once when it
is first fitted, and clones by copying its parameters, so it fits the same trees and predicts
the same values (tested). Inputs with missing values take scikit-learn's checked path.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import sklearn
from sklearn.tree import DecisionTreeRegressor


class PrevalidatedTree(DecisionTreeRegressor):
    """``DecisionTreeRegressor`` without scikit-learn's per-call checks (same trees)."""

    _params_checked = False

    @classmethod
    @functools.cache
    def _get_param_names(cls) -> list[str]:
        return super()._get_param_names()

    def __sklearn_clone__(self) -> PrevalidatedTree:
        if not self._params_checked:  # once for the template ngboost clones every step
            self._validate_params()
            self._params_checked = True
        params = {k: copy.deepcopy(getattr(self, k)) for k in self._get_param_names()}
        twin = type(self)(**params)
        twin._params_checked = True
        return twin

    def fit(self, X, y, sample_weight=None, check_input=True):  # noqa: N803 (sklearn's name)
        x = np.ascontiguousarray(X, dtype=np.float32)
        if not np.isfinite(x).all():
            return super().fit(X, y, sample_weight=sample_weight, check_input=True)
        if not self._params_checked:
            self._validate_params()
            self._params_checked = True
        y = np.ascontiguousarray(y, dtype=np.float64)
        self.n_features_in_ = x.shape[1]
        with sklearn.config_context(skip_parameter_validation=True):
            return super().fit(x, y, sample_weight=sample_weight, check_input=False)

    def predict(self, X, check_input=True):  # noqa: N803
        x = np.ascontiguousarray(X, dtype=np.float32)
        if self.n_outputs_ != 1 or not np.isfinite(x).all():
            return super().predict(X, check_input=True)
        return self.tree_.predict(x)[:, 0]  # what sklearn's predict returns for one output
