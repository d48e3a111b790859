"""Feed-forward predictors: a deep MLP and BANANAS (an ensemble of MLPs on the path encoding).

Defaults follow the study: 20 ReLU layers of width 20, Adam (lr 1e-3), batch size 32, 500 epochs,
mean absolute error plus an L1 penalty (0.2) on the output layer's weights. ``loss`` switches the
objective (e.g. ``ranking``: GATES's pairwise hinge loss; ``predictors.model_based.neural``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from predictors.base import DataNeeds
from predictors.model_based._torch import Loss, as_tensor, predict_batched, train_regressor
from predictors.model_based.base import TunablePredictor, derive_seed, torch_seeded
from predictors.model_based.neural import NeuralPredictor
from predictors.registry import register


class FeedForward(nn.Module):
    """``num_layers`` ReLU layers of equal width and a linear output."""

    def __init__(self, in_dim: int, num_layers: int, width: int) -> None:
        super().__init__()
        dims = [in_dim] + [width] * num_layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:], strict=False))
        self.out = nn.Linear(dims[-1], 1)
        for lin in [*self.layers, self.out]:
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))


def _fit_mlp(x, y, hp, epochs, rng, device, loss: str = "mae") -> FeedForward:
    seed = derive_seed(rng)
    with torch_seeded(seed, device) as gen:
        model = FeedForward(x.shape[1], int(hp["num_layers"]), int(hp["layer_width"])).to(device)
        reg = float(hp["regularization"])
        return train_regressor(
            model, [as_tensor(x, device)], as_tensor(y, device),
            epochs=epochs, batch_size=int(hp["batch_size"]), lr=float(hp["lr"]), gen=gen,
            loss=loss, betas=(0.9, 0.99),
            penalty=lambda m: reg * m.out.weight.abs().sum(),
        )


class _MLPBase(TunablePredictor, NeuralPredictor):
    tunable = ("num_layers", "layer_width", "batch_size", "lr", "regularization")

    num_layers: int = 20
    layer_width: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    regularization: float = 0.2
    epochs: int = 500
    hpo_evals: int = 10
    loss: Loss = "mae"

    def sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        return {
            "num_layers": int(rng.integers(5, 25)),
            "layer_width": int(rng.integers(5, 25)),
            "batch_size": 32,
            "lr": float(rng.choice([0.1, 0.01, 0.005, 0.001, 0.0001])),
            "regularization": 0.2,
        }


@register("mlp", family="model_based")
class MLPPredictor(_MLPBase):
    """A deep MLP on the adjacency one-hot encoding (torch)."""

    needs = DataNeeds(labels=True)
    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 5, "num_layers": 3}
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 30}

    def train(self, x, y, hp, rng, device, unlabeled=None):
        return _fit_mlp(np.asarray(x), y, hp, self.epochs, rng, device, self.loss)

    def predict(self, model, x, device):
        return predict_batched(model, [as_tensor(x, device)]), None


@register("bananas", family="model_based")
class BananasPredictor(_MLPBase):
    """BANANAS: an ensemble of MLPs on the path encoding; std is the ensemble's spread."""

    encoding = "path"
    needs = DataNeeds(labels=True)
    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 5, "num_layers": 3,
                                                    "num_ensemble": 2}
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 30}

    num_ensemble: int = 3

    def train(self, x, y, hp, rng, device, unlabeled=None):
        if self.num_ensemble < 1:
            raise ValueError(f"bananas: num_ensemble must be >= 1, got {self.num_ensemble}")
        x = np.asarray(x)
        return [_fit_mlp(x, y, hp, self.epochs, rng, device, self.loss)
                for _ in range(self.num_ensemble)]

    def predict(self, models, x, device):
        t = as_tensor(x, device)
        preds = np.stack([predict_batched(m, [t]) for m in models])
        return preds.mean(axis=0), preds.std(axis=0)
