"""Small torch helpers shared by the neural predictors: tensors, losses, minibatch training loops.

Every loop here takes a ``loss``: ``mse`` or ``mae`` regress the standardized labels;
``ranking`` is the pairwise hinge loss of GATES (Ning et al. 2020), which for every pair of
architectures in a minibatch with different labels asks the better one to score at least
``RANKING_MARGIN`` higher; it depends on the labels' order only, so its scores carry no scale.
``mse+ranking`` adds the two (NAR-Former's regression plus ranking objective, Yi et al. 2023).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import numpy as np
import torch
from torch import nn


def as_tensor(x: np.ndarray, device: str) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float32, device=device)


def tanh_layers(in_dim: int, units: int, depth: int = 3) -> list[nn.Module]:
    """``depth`` fully connected layers of ``units`` tanh units (the DNGO/BOHAMIANN body)."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_dim if i == 0 else units, units), nn.Tanh()]
    return layers


#: The score difference the ranking loss asks of every ordered pair (GATES's margin).
RANKING_MARGIN = 0.1


def pairwise_ranking_loss(scores: torch.Tensor, y: torch.Tensor,
                          margin: float = RANKING_MARGIN) -> torch.Tensor:
    """Mean hinge ``max(0, margin - (s_i - s_j))`` over the pairs with ``y_i > y_j``."""
    order = torch.sign(y.unsqueeze(1) - y.unsqueeze(0))
    hinge = torch.relu(margin - order * (scores.unsqueeze(1) - scores.unsqueeze(0)))
    pairs = order != 0
    return hinge[pairs].mean() if bool(pairs.any()) else scores.sum() * 0.0


def _mse_plus_ranking(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(scores, y) + pairwise_ranking_loss(scores, y)


_OBJECTIVES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": nn.functional.mse_loss,
    "mae": nn.functional.l1_loss,
    "ranking": pairwise_ranking_loss,
    "mse+ranking": _mse_plus_ranking,
}
#: Training objectives of the shared loops (a predictor's ``loss`` hyperparameter).
Loss = Literal["mse", "mae", "ranking", "mse+ranking"]
LOSSES: tuple[str, ...] = get_args(Loss)
#: The objectives that fix the scores' order only, not their scale.
RANKING_LOSSES: tuple[str, ...] = ("ranking",)


def check_loss(loss: str, who: str) -> str:
    """``loss`` if it names a training objective; else a ``ValueError`` listing the choices."""
    if loss not in _OBJECTIVES:
        raise ValueError(f"{who}: loss={loss!r} is not a training objective; use one of "
                         f"{', '.join(LOSSES)} (e.g. loss=ranking)")
    return loss


def objective(scores: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """The training loss ``loss`` (one of ``LOSSES``) of ``scores`` against labels ``y``."""
    return _OBJECTIVES[check_loss(loss, "objective")](scores, y)


def minibatches(n: int, batch_size: int, gen: torch.Generator, shuffle: bool = True):
    """Index tensors of a shuffled pass over ``n`` rows (drawn from ``gen`` on the CPU)."""
    order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def train_regressor(
    model: nn.Module,
    inputs: list[torch.Tensor],
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    gen: torch.Generator,
    weight_decay: float = 0.0,
    loss: str = "mse",
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    cosine: bool = False,
    betas: tuple[float, float] = (0.9, 0.999),
) -> nn.Module:
    """Fit ``model(*inputs) -> y`` with Adam on minibatches under ``loss`` (one of ``LOSSES``);
    returns the model in eval mode."""
    check_loss(loss, type(model).__name__)
    # The fused kernel updates every parameter in one call: ~1.7x faster steps for small nets.
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, betas=betas,
                           fused=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(epochs, 1)) if cosine else None
    model.train()
    n = y.shape[0]
    for _ in range(epochs):
        for idx in minibatches(n, batch_size, gen):
            idx = idx.to(y.device)
            opt.zero_grad()
            out = model(*[t[idx] for t in inputs]).reshape(-1)
            loss_value = objective(out, y[idx], loss)
            if penalty is not None:
                loss_value = loss_value + penalty(model)
            loss_value.backward()
            opt.step()
        if sched is not None:
            sched.step()
    model.eval()
    return model


@torch.no_grad()
def predict_batched(model: nn.Module, inputs: list[torch.Tensor], batch_size: int = 1024):
    model.eval()
    n = inputs[0].shape[0]
    outs = [model(*[t[s : s + batch_size] for t in inputs]).reshape(-1)
            for s in range(0, n, batch_size)]
    return torch.cat(outs).cpu().numpy().astype(float)
