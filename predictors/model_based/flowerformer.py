"""FlowerFormer-style predictor (Hwang et al., CVPR 2024): flow-aware graph transformer.

Each of ``num_layers`` layers on the op-on-node cell graph (the ``gcn`` encoding) has two parts:

- flow encoding: an asynchronous message-passing pass in topological order (each node reads its
  already-updated predecessors), then one in reverse order (successors): the forward and
  backward flow of information through the cell;
- flow-aware attention: multi-head attention in which a node attends only to itself and to the
  nodes on a directed path with it (its ancestors and descendants in the DAG), followed by a
  feed-forward block; both residual and pre-normalized.

Node states are mean-pooled and an MLP scores them. Training uses the pairwise hinge ranking
loss by default (``loss``), as the GATES line of predictors FlowerFormer compares with.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from predictors.model_based._torch import Loss
from predictors.model_based.cell_net import (
    CellNetPredictor,
    flow_pass,
    masked_mean,
    reachability,
)
from predictors.registry import register


def flow_mask(adj: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Bool ``[G, N, N]``, True where attention is blocked: pairs of real nodes without a path
    between them, and padding; every node keeps itself."""
    reach = reachability(adj)
    eye = torch.eye(adj.shape[-1], dtype=torch.bool, device=adj.device)
    allowed = (reach | reach.transpose(1, 2)) & mask.unsqueeze(1) & mask.unsqueeze(2)
    return ~(allowed | eye)


class FlowUpdate(nn.Module):
    """``relu(W [x_j, message])``: the node update of one flow pass."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * hidden, hidden)

    def forward(self, j: int, x: torch.Tensor, message: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(torch.cat([x, message], dim=-1)))


class FlowerFormerEncoder(nn.Module):
    """Flow encoding (forward and backward passes) and flow-masked attention, per layer."""

    def __init__(self, in_dim: int, hidden: int, num_layers: int, heads: int,
                 dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.embed = nn.Linear(in_dim, hidden)
        self.forward_flow = nn.ModuleList(FlowUpdate(hidden) for _ in range(num_layers))
        self.backward_flow = nn.ModuleList(FlowUpdate(hidden) for _ in range(num_layers))
        self.attn_norm = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(num_layers))
        self.attn = nn.ModuleList(nn.MultiheadAttention(hidden, heads, dropout=dropout,
                                                        batch_first=True)
                                  for _ in range(num_layers))
        self.ff_norm = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(num_layers))
        self.ff = nn.ModuleList(nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.ReLU(),
                                              nn.Dropout(dropout), nn.Linear(2 * hidden, hidden))
                                for _ in range(num_layers))

    def forward(self, feats: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        blocked = flow_mask(adj, mask).repeat_interleave(self.heads, dim=0)
        h = self.embed(feats)
        for i in range(len(self.attn)):
            h = flow_pass(h, adj, self.forward_flow[i])
            h = flow_pass(h, adj, self.backward_flow[i], reverse=True)
            q = self.attn_norm[i](h)
            h = h + self.attn[i](q, q, q, attn_mask=blocked, need_weights=False)[0]
            h = h + self.ff[i](self.ff_norm[i](h))
        return masked_mean(h, mask)


@register("flowerformer", family="model_based")
class FlowerFormerPredictor(CellNetPredictor):
    """FlowerFormer-style flow-aware graph transformer; ranking loss by default."""

    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 8, "hidden": 16}
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 40}

    heads: int = 4
    dropout: float = 0.1
    loss: Loss = "ranking"

    def build_encoder(self, in_dim: int) -> nn.Module:
        if self.hidden % self.heads:
            raise ValueError(f"flowerformer: hidden ({self.hidden}) must be a multiple of heads "
                             f"({self.heads})")
        return FlowerFormerEncoder(in_dim, self.hidden, self.num_layers, self.heads,
                                   self.dropout)
