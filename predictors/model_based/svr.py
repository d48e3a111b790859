"""Support vector regression (scikit-learn) on the adjacency one-hot encoding."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from predictors.base import DataNeeds
from predictors.model_based.base import TunablePredictor
from predictors.registry import register
from predictors.tuning import loguniform


@register("svr", family="model_based")
class SVRPredictor(TunablePredictor):
    """Epsilon-SVR with an RBF kernel; the search tunes C, epsilon and the kernel width."""

    needs = DataNeeds(labels=True)
    tunable = ("C", "epsilon", "gamma")
    conformance_params: ClassVar[dict[str, Any]] = {}

    C: float = 1.0
    epsilon: float = 0.1
    gamma: float | str = "scale"
    kernel: str = "rbf"

    def sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        return {
            "C": loguniform(rng, 1e-3, 100.0),
            "epsilon": loguniform(rng, 1e-3, 1.0),
            "gamma": loguniform(rng, 1e-3, 1.0),
        }

    def train(self, x, y, hp, rng, device, unlabeled=None):
        from sklearn.svm import SVR

        return SVR(kernel=self.kernel, **hp).fit(np.asarray(x), y)

    def predict(self, model, x, device):
        return model.predict(np.asarray(x)), None
