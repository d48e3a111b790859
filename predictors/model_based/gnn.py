"""Graph neural predictors on the cell graph (torch-geometric dense GCN layers).

- ``gcn`` (Wen et al. 2020, neural predictor): directed GCN layers passing messages along and
  against the edges, masked mean pooling, a linear head trained by MSE. The study's network
  (4 layers of 144, batch 7, 300 epochs) is shrunk to 3 layers of 96, batch 128, 100 epochs
  with a larger learning rate so that 1,000 labels fit in under a minute on 2 CPU cores.
- ``bonas`` (Shi et al. 2020): the same GCN on graphs with a global node; the global node's
  embedding is the basis of a Bayesian linear regression (mean and std).

Multi-cell spaces run the shared GCN on each cell and concatenate the cell embeddings. ``loss``
switches the objective (``predictors.model_based.neural``); BONAS's Bayesian regression on the
embedding stays on the label scale whatever it is.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from predictors.base import DataNeeds
from predictors.model_based._torch import train_regressor
from predictors.model_based.base import TunablePredictor, derive_seed, torch_seeded
from predictors.model_based.bayesian import bayesian_ridge, ridge_predict
from predictors.model_based.neural import NeuralPredictor
from predictors.registry import register
from predictors.tuning import loguniform


class DirectedGCN(nn.Module):
    """``num_layers`` GCN layers; each averages a forward-edge and a backward-edge convolution."""

    def __init__(self, in_dim: int, hidden: int, num_layers: int, n_cells: int,
                 pool: str, extra_dim: int = 0) -> None:
        from torch_geometric.nn import DenseGCNConv

        super().__init__()
        dims = [in_dim] + [hidden] * num_layers
        self.fwd = nn.ModuleList(DenseGCNConv(a, b) for a, b in zip(dims, dims[1:], strict=False))
        self.bwd = nn.ModuleList(DenseGCNConv(a, b) for a, b in zip(dims, dims[1:], strict=False))
        self.pool = pool
        self.head = nn.Linear(hidden * n_cells + extra_dim, 1)

    def embed(self, feats: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``[B, cells, N, F]`` graphs -> ``[B, cells * hidden]`` embeddings."""
        b, c, n, f = feats.shape
        x, a, m = feats.reshape(b * c, n, f), adj.reshape(b * c, n, n), mask.reshape(b * c, n)
        at = a.transpose(1, 2)
        for fwd, bwd in zip(self.fwd, self.bwd, strict=True):
            x = torch.relu(0.5 * (fwd(x, a, m) + bwd(x, at, m)))
        if self.pool == "global":  # the last node is the global node
            emb = x[:, -1]
        else:
            w = m.unsqueeze(-1).to(x.dtype)
            emb = (x * w).sum(1) / w.sum(1).clamp_min(1.0)
        return emb.reshape(b, -1)

    def forward(self, feats, adj, mask, extra=None):
        return self.head(with_graph_features(self.embed(feats, adj, mask), extra))


def with_graph_features(emb: torch.Tensor, extra: torch.Tensor | None) -> torch.Tensor:
    """A graph embedding ``[B, H]`` with the per-architecture features ``[B, k]`` appended."""
    return emb if extra is None else torch.cat([emb, extra], dim=-1)


def graph_tensors(batch: Any, device: str) -> list[torch.Tensor]:
    """Features, adjacency and mask of a ``GraphBatch`` as tensors on ``device``, and its
    ``graph_features`` where it has them."""
    tensors = [
        torch.as_tensor(batch.features, dtype=torch.float32, device=device),
        torch.as_tensor(batch.adjacency, dtype=torch.float32, device=device),
        torch.as_tensor(batch.mask, dtype=torch.bool, device=device),
    ]
    if batch.graph_features is not None:
        tensors.append(torch.as_tensor(batch.graph_features, dtype=torch.float32, device=device))
    return tensors


def extra_width(inputs: list[torch.Tensor]) -> int:
    """The number of graph-level features in ``graph_tensors`` output (0 without them)."""
    return inputs[3].shape[1] if len(inputs) > 3 else 0


class _GCNBase(TunablePredictor, NeuralPredictor):
    tunable = ("hidden", "batch_size", "lr", "weight_decay")
    pool: ClassVar[str] = "mean"
    zc_input = "graph"

    batch_size: int = 128
    epochs: int = 100
    hpo_evals: int = 5

    def sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        return {
            "hidden": int(rng.choice([64, 128, 144, 192])),
            "batch_size": int(rng.choice([32, 64, 128])),
            "lr": loguniform(rng, 1e-4, 1e-2),
            "weight_decay": loguniform(rng, 1e-5, 1e-3),
        }

    def _train_gcn(self, x, y, hp, rng, device) -> tuple[DirectedGCN, list[torch.Tensor]]:
        inputs = graph_tensors(x, device)
        with torch_seeded(derive_seed(rng), device) as gen:
            net = DirectedGCN(inputs[0].shape[-1], int(hp["hidden"]), self.num_layers,
                              inputs[0].shape[1], self.pool, extra_width(inputs)).to(device)
            train_regressor(net, inputs, torch.as_tensor(y, dtype=torch.float32, device=device),
                            epochs=self.epochs, batch_size=int(hp["batch_size"]),
                            lr=float(hp["lr"]), weight_decay=float(hp["weight_decay"]),
                            gen=gen, cosine=True, loss=self.loss)
        return net, inputs


@register("gcn", family="model_based")
class GCNPredictor(_GCNBase):
    """GCN neural predictor on the op-on-node cell graph."""

    encoding = "gcn"
    needs = DataNeeds(labels=True)
    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 3, "hidden": 16}
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 40}

    hidden: int = 96
    num_layers: int = 3
    lr: float = 2e-3
    weight_decay: float = 3e-4

    def train(self, x, y, hp, rng, device, unlabeled=None):
        return self._train_gcn(x, y, hp, rng, device)[0]

    @torch.no_grad()
    def predict(self, model, x, device):
        return model(*graph_tensors(x, device)).reshape(-1).cpu().numpy().astype(float), None


@register("bonas", family="model_based")
class BONASPredictor(_GCNBase):
    """BONAS: GCN embedding of the global node + Bayesian linear regression."""

    encoding = "bonas"
    pool = "global"
    output_on_label_scale = True
    needs = DataNeeds(labels=True)
    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 3, "hidden": 16}
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 40}

    hidden: int = 64
    num_layers: int = 4
    lr: float = 1e-3
    weight_decay: float = 0.0

    def train(self, x, y, hp, rng, device, unlabeled=None):
        net, inputs = self._train_gcn(x, y, hp, rng, device)
        return net, bayesian_ridge(self._basis(net, inputs), y)

    def predict(self, model, x, device):
        net, blr = model
        return ridge_predict(blr, self._basis(net, graph_tensors(x, device)))

    @staticmethod
    @torch.no_grad()
    def _basis(net: DirectedGCN, inputs: list[torch.Tensor]) -> np.ndarray:
        """The regression's basis: the global node's embedding and any graph-level features."""
        emb = with_graph_features(net.embed(*inputs[:3]), inputs[3] if len(inputs) > 3 else None)
        return emb.cpu().numpy().astype(float)
