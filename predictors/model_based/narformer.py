"""NAR-Former-style predictor (Yi et al., CVPR 2023): a transformer over the cell's node tokens.

Each node of the op-on-node cell graph (the ``gcn`` encoding) is one token: its operation's
one-hot code, a sinusoidal code of its position in topological order, and the sum of its
predecessors' position codes (NAR-Former's "source" code: the token says where its inputs come
from, so the adjacency is in the tokens). A linear map embeds the tokens, a small pre-norm
transformer encoder attends over the real nodes, the token states are mean-pooled and an MLP
scores them. NAR-Former trains with MSE plus a sequence-ranking loss and an
architecture-consistency loss on augmented (isomorphic) sequences; this implements the first
two, ``loss="mse+ranking"`` (MSE plus the pairwise hinge ranking loss), without augmentation.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from predictors.model_based._torch import Loss
from predictors.model_based.cell_net import CellNetPredictor, masked_mean
from predictors.registry import register


def sinusoid_codes(n: int, dim: int) -> torch.Tensor:
    """``[n, dim]`` sine/cosine codes of positions ``0..n-1`` (``dim`` even)."""
    pos = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(-torch.arange(0, dim, 2, dtype=torch.float32) * (4.0 / dim))
    codes = torch.zeros(n, dim)
    codes[:, 0::2] = torch.sin(pos * freq)
    codes[:, 1::2] = torch.cos(pos * freq)
    return codes


class NARFormerEncoder(nn.Module):
    """Node tokens (operation, own position, sources' positions) through a transformer."""

    def __init__(self, in_dim: int, hidden: int, num_layers: int, heads: int, pos_dim: int,
                 dropout: float) -> None:
        super().__init__()
        self.pos_dim = pos_dim
        self.token = nn.Linear(in_dim + 2 * pos_dim, hidden)
        layer = nn.TransformerEncoderLayer(hidden, heads, 2 * hidden, dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, feats: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        g, n, _ = feats.shape
        codes = sinusoid_codes(n, self.pos_dim).to(feats.device)
        own = codes.expand(g, n, self.pos_dim)
        sources = adj.transpose(1, 2) @ codes  # each node: the sum of its predecessors' codes
        tokens = self.token(torch.cat([feats, own, sources], dim=-1))
        states = self.encoder(tokens, src_key_padding_mask=~mask)
        return masked_mean(self.norm(states), mask)


@register("narformer", family="model_based")
class NARFormerPredictor(CellNetPredictor):
    """NAR-Former-style transformer on node tokens; MSE plus ranking loss by default."""

    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 8, "hidden": 16}
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 40}

    heads: int = 4
    pos_dim: int = 16
    dropout: float = 0.1
    loss: Loss = "mse+ranking"

    def build_encoder(self, in_dim: int) -> nn.Module:
        if self.pos_dim % 2 or self.hidden % self.heads:
            raise ValueError(f"narformer: pos_dim ({self.pos_dim}) must be even and hidden "
                             f"({self.hidden}) a multiple of heads ({self.heads})")
        return NARFormerEncoder(in_dim, self.hidden, self.num_layers, self.heads, self.pos_dim,
                                self.dropout)
