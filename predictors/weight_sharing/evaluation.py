"""Scoring a subnet that inherits supernet weights: optional few-shot fine-tuning, BatchNorm
recalibration on training batches, then accuracy and loss on validation batches."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

Batch = tuple[torch.Tensor, torch.Tensor]


def recalibrate_bn(net: nn.Module, batches: Sequence[Batch]) -> None:
    """Replace every BatchNorm's running statistics by their plain average over ``batches``."""
    norms = [m for m in net.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not norms or not batches:
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: equal weight to every batch
    net.train()
    with torch.no_grad():
        for x, _ in batches:
            net(x)
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    net.eval()


def finetune(net: nn.Module, batches: Sequence[Batch], lr: float, momentum: float = 0.9,
             grad_clip: float = 5.0) -> None:
    """A few SGD steps on ``batches`` (one step per batch), in place on ``net``."""
    if not batches:
        return
    params = [p for p in net.parameters() if p.requires_grad]
    if not params:
        return
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    net.train()
    for x, y in batches:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(params, grad_clip)
        opt.step()
    net.eval()


def accuracy_and_loss(net: nn.Module, batches: Sequence[Batch]) -> tuple[float, float]:
    """Top-1 accuracy (fraction) and mean cross-entropy of ``net`` in eval mode."""
    net.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for x, y in batches:
            logits = net(x)
            loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
            total += len(y)
    return correct / total, loss_sum / total
