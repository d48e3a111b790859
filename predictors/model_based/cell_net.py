"""The shared frame of the cell-graph networks GATES, NAR-Former and FlowerFormer.

Each of them is a per-cell encoder from an op-on-node cell graph (the ``gcn`` encoding: one-hot
node operations, adjacency, node mask) to a vector. ``CellNetwork`` runs the encoder on every
cell of an architecture (one for NB201, NB101 and NB-Graph, two for DARTS), concatenates the
cell vectors and scores them with a small MLP; ``CellNetPredictor`` trains it with the shared
loop (``train_regressor``) under the predictor's ``loss``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn

from predictors.base import DataNeeds
from predictors.model_based._torch import predict_batched, train_regressor
from predictors.model_based.base import derive_seed, torch_seeded
from predictors.model_based.gnn import extra_width, graph_tensors, with_graph_features
from predictors.model_based.neural import NeuralPredictor
from predictors.params import COUNT, Interval


class CellNetwork(nn.Module):
    """``encoder`` on every cell, cell vectors concatenated (with any graph-level features), an
    MLP head of one hidden layer."""

    def __init__(self, encoder: nn.Module, width: int, n_cells: int, extra_dim: int = 0) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Sequential(nn.Linear(width * n_cells + extra_dim, width), nn.ReLU(),
                                  nn.Linear(width, 1))

    def forward(self, feats: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor,
                extra: torch.Tensor | None = None) -> torch.Tensor:
        b, c, n, f = feats.shape
        emb = self.encoder(feats.reshape(b * c, n, f), adj.reshape(b * c, n, n),
                           mask.reshape(b * c, n))
        return self.head(with_graph_features(emb.reshape(b, -1), extra))


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x [G, N, H]`` over the real nodes of ``mask [G, N]``."""
    w = mask.unsqueeze(-1).to(x.dtype)
    return (x * w).sum(1) / w.sum(1).clamp_min(1.0)


def reachability(adj: torch.Tensor) -> torch.Tensor:
    """Bool ``[G, N, N]``: a directed path of one or more edges leads from node i to node j."""
    reach = adj > 0
    for _ in range(math.ceil(math.log2(max(adj.shape[-1], 2)))):  # path lengths double
        reach = reach | (torch.bmm(reach.to(adj.dtype), reach.to(adj.dtype)) > 0)
    return reach


def flow_pass(x: torch.Tensor, adj: torch.Tensor,
              update: Callable[[int, torch.Tensor, torch.Tensor], torch.Tensor],
              reverse: bool = False) -> torch.Tensor:
    """One asynchronous pass over DAGs ``adj [G, N, N]`` whose nodes are in topological order.

    Node by node in that order (``reverse``: the opposite order, against the edges), node ``j``
    sums the states of its already-updated predecessors (``reverse``: successors) into a message
    and becomes ``x_j + update(j, x_j, message)``, so one pass carries information from the
    input to the output (or back).
    """
    n = x.shape[1]
    links = adj.transpose(1, 2) if reverse else adj  # links[g, i, j]: i feeds j in this pass
    done: dict[int, torch.Tensor] = {}
    for j in (range(n - 1, -1, -1) if reverse else range(n)):
        if done:
            prev = list(done)
            message = torch.einsum("gi,gih->gh", links[:, prev, j],
                                   torch.stack([done[i] for i in prev], dim=1))
        else:
            message = torch.zeros_like(x[:, j])
        done[j] = x[:, j] + update(j, x[:, j], message)
    return torch.stack([done[j] for j in range(n)], dim=1)


class CellNetPredictor(NeuralPredictor):
    """A ``CellNetwork`` on the op-on-node cell graphs, trained by Adam with a cosine schedule.

    Subclasses implement ``build_encoder(in_dim)`` (a module ``[G, N, F] graphs -> [G, hidden]``).
    """

    encoding = "gcn"
    zc_input = "graph"
    needs = DataNeeds(labels=True)
    param_bounds: ClassVar[dict[str, Interval]] = {"heads": COUNT, "pos_dim": COUNT}

    hidden: int = 32
    num_layers: int = 2
    epochs: int = 60
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4

    def build_encoder(self, in_dim: int) -> nn.Module:
        raise NotImplementedError

    def train(self, x: Any, y, hp, rng, device, unlabeled=None) -> CellNetwork:
        inputs = graph_tensors(x, device)
        with torch_seeded(derive_seed(rng), device) as gen:
            net = CellNetwork(self.build_encoder(inputs[0].shape[-1]), self.hidden,
                              inputs[0].shape[1], extra_width(inputs)).to(device)
            train_regressor(net, inputs, torch.as_tensor(y, dtype=torch.float32, device=device),
                            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                            weight_decay=self.weight_decay, gen=gen, cosine=True,
                            loss=self.loss)
        return net

    def predict(self, model: CellNetwork, x: Any, device: str):
        return predict_batched(model, graph_tensors(x, device)), None
