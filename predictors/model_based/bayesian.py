"""Bayesian regression predictors: Bayesian linear regression, DNGO and BOHAMIANN.

- ``bayes_lin_reg``: Bayesian ridge regression on the adjacency one-hot encoding; the weight
  and noise precisions are set by evidence maximization (scikit-learn's ``BayesianRidge``).
- ``dngo`` (Snoek et al. 2015): a 3x50 tanh network trained by MSE; its last hidden layer is
  the basis of a Bayesian linear regression (``loss`` switches the network's objective).
- ``bohamiann`` (Springenberg et al. 2016): a Bayesian neural network sampled by
  scale-adapted stochastic-gradient HMC (``predictors.model_based.sghmc``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from predictors.base import DataNeeds
from predictors.model_based._torch import as_tensor, tanh_layers, train_regressor
from predictors.model_based.base import EncodedPredictor, derive_seed, torch_seeded
from predictors.model_based.neural import NeuralPredictor
from predictors.registry import register


def bayesian_ridge(features: np.ndarray, y: np.ndarray) -> Any:
    """Bayesian linear regression whose precisions maximize the marginal likelihood."""
    from sklearn.linear_model import BayesianRidge

    return BayesianRidge(max_iter=500, compute_score=False).fit(features, y)


def ridge_predict(model: Any, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = model.predict(features, return_std=True)
    return mean, std


@register("bayes_lin_reg", family="model_based")
class BayesLinRegPredictor(EncodedPredictor):
    """Bayesian linear regression on the adjacency one-hot encoding (mean and std)."""

    needs = DataNeeds(labels=True)
    conformance_params: ClassVar[dict[str, Any]] = {}

    def train(self, x, y, hp, rng, device, unlabeled=None):
        return bayesian_ridge(np.asarray(x, dtype=float), y)

    def predict(self, model, x, device):
        return ridge_predict(model, np.asarray(x, dtype=float))


class BasisNet(nn.Module):
    """Three tanh layers and a linear output; ``features`` is the learned basis."""

    def __init__(self, in_dim: int, units: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*tanh_layers(in_dim, units))
        self.out = nn.Linear(units, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


@register("dngo", family="model_based")
class DNGOPredictor(NeuralPredictor):
    """DNGO: neural-network basis functions plus Bayesian linear regression on the last layer."""

    needs = DataNeeds(labels=True)
    output_on_label_scale = True
    conformance_params: ClassVar[dict[str, Any]] = {"num_epochs": 5}
    reproduce_params: ClassVar[dict[str, Any]] = {"num_epochs": 30}

    num_epochs: int = 500
    batch_size: int = 10
    lr: float = 0.01
    units: int = 50

    def train(self, x, y, hp, rng, device, unlabeled=None):
        x = np.asarray(x, dtype=np.float32)
        with torch_seeded(derive_seed(rng), device) as gen:
            net = BasisNet(x.shape[1], self.units).to(device)
            xt = as_tensor(x, device)
            train_regressor(net, [xt], as_tensor(y, device), epochs=self.num_epochs,
                            batch_size=self.batch_size, lr=self.lr, gen=gen, loss=self.loss)
            with torch.no_grad():
                phi = net.features(xt).cpu().numpy().astype(float)
        return net, bayesian_ridge(phi, y)

    def predict(self, model, x, device):
        net, blr = model
        with torch.no_grad():
            phi = net.features(as_tensor(x, device)).cpu().numpy().astype(float)
        return ridge_predict(blr, phi)


@register("bohamiann", family="model_based")
class BohamiannPredictor(EncodedPredictor):
    """BOHAMIANN: a Bayesian neural network sampled with adaptive SGHMC (mean and std).

    The chain starts from a MAP fit of ``warm_start_steps`` full-batch Adam steps (0: from the
    random initialization, as the paper); see ``predictors.model_based.sghmc``."""

    needs = DataNeeds(labels=True)
    conformance_params: ClassVar[dict[str, Any]] = {"num_steps": 60, "num_burn_in_steps": 20,
                                                    "keep_every": 10}
    reproduce_params: ClassVar[dict[str, Any]] = {"num_steps": 500, "num_burn_in_steps": 150}

    num_steps: int = 2000
    num_burn_in_steps: int = 500
    keep_every: int = 50
    lr: float = 1e-2
    batch_size: int = 20
    mdecay: float = 0.05
    units: int = 50
    warm_start_steps: int = 500

    def train(self, x, y, hp, rng, device, unlabeled=None):
        from predictors.model_based.sghmc import sample_bnn

        if self.num_steps <= self.num_burn_in_steps:
            raise ValueError(
                f"bohamiann: num_steps ({self.num_steps}) must exceed num_burn_in_steps "
                f"({self.num_burn_in_steps}) so that samples are kept"
            )
        return sample_bnn(
            np.asarray(x, dtype=np.float32), y, units=self.units, num_steps=self.num_steps,
            num_burn_in_steps=self.num_burn_in_steps, keep_every=self.keep_every, lr=self.lr,
            batch_size=self.batch_size, mdecay=self.mdecay, seed=derive_seed(rng), device=device,
            warm_start_steps=self.warm_start_steps,
        )

    def predict(self, model, x, device):
        return model.predict(np.asarray(x, dtype=np.float32), device)
