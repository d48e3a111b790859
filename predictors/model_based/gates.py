"""GATES (Ning et al., ECCV 2020): operations as gates on the information flowing through a cell.

The cell is the op-on-node DAG of the ``gcn`` encoding; on NAS-Bench-201, whose operations sit
on edges, each edge becomes a node carrying its operation, so gating that node gates the edge.
The input nodes (those without predecessors) start from a learned information vector. Each of
``num_layers`` layers passes the information through the DAG in topological order: node ``j``
receives ``sigmoid(W_g e_j) * (W_x sum_i h_i)``, its operation's embedding ``e_j`` gating the
linear transform of the sum over its predecessors ``i``, added to its previous state. The output
node's final state is the cell's embedding. As in GATES, training uses the pairwise hinge
ranking loss by default (``loss``; ``predictors.model_based._torch``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from predictors.model_based._torch import Loss
from predictors.model_based.cell_net import CellNetPredictor, flow_pass
from predictors.registry import register


class GatesEncoder(nn.Module):
    """GATES's gated information flow on op-on-node cell graphs (the last feature is "output")."""

    def __init__(self, in_dim: int, hidden: int, num_layers: int) -> None:
        super().__init__()
        self.op_embed = nn.Linear(in_dim, hidden, bias=False)
        self.init_info = nn.Parameter(torch.empty(hidden).uniform_(-1.0, 1.0))
        self.gates = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(num_layers))
        self.transforms = nn.ModuleList(nn.Linear(hidden, hidden, bias=False)
                                        for _ in range(num_layers))

    def forward(self, feats: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ops = self.op_embed(feats)
        sources = mask & (adj.sum(1) == 0)
        h = sources.unsqueeze(-1).to(ops.dtype) * self.init_info
        for gate, transform in zip(self.gates, self.transforms, strict=True):
            g = torch.sigmoid(gate(ops))

            def step(j: int, _: torch.Tensor, message: torch.Tensor,
                     g: torch.Tensor = g, transform: nn.Module = transform) -> torch.Tensor:
                return g[:, j] * transform(message)

            h = flow_pass(h, adj, step)
        return (feats[..., -1:] * h).sum(1)  # the output node's state


@register("gates", family="model_based")
class GATESPredictor(CellNetPredictor):
    """GATES: operation-gated message passing over the cell DAG, ranking loss by default."""

    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 8, "hidden": 16}
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 40}

    loss: Loss = "ranking"

    def build_encoder(self, in_dim: int) -> nn.Module:
        return GatesEncoder(in_dim, self.hidden, self.num_layers)
