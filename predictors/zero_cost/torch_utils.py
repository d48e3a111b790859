"""Helpers the measures share: weight layers, state preservation, hooks, safe copies."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd

from predictors.zero_cost.measures import ScoreUndefined


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """Convolution and linear layers: the "prunable" layers the pruning-at-init papers score."""
    layers = [m for m in net.modules() if isinstance(m, _ConvNd | nn.Linear)]
    if not layers:
        raise ScoreUndefined("the network has no convolution or linear layer")
    return layers


def weights(net: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in weight_layers(net)]


@contextmanager
def preserved(net: nn.Module, train: bool = True) -> Iterator[nn.Module]:
    """Run ``net`` in train (or eval) mode, then restore every module's mode and all buffers
    (BatchNorm running statistics), so a measure leaves no trace on the caller's network."""
    modes = {m: m.training for m in net.modules()}
    buffers = {name: b.detach().clone() for name, b in net.named_buffers()}
    net.train(train)
    try:
        yield net
    finally:
        for m, mode in modes.items():
            m.training = mode
        with torch.no_grad():
            for name, b in net.named_buffers():
                if name in buffers:
                    b.copy_(buffers[name])


@contextmanager
def hooks(handles: list) -> Iterator[None]:
    """Remove the given hook handles on exit."""
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def without_batchnorm(net: nn.Module) -> nn.Module:
    """A deep copy of ``net`` with every BatchNorm layer replaced by the identity."""
    clone = copy.deepcopy(net)
    for parent in list(clone.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, _BatchNorm):
                setattr(parent, name, nn.Identity())
    return clone


def require_targets(targets: torch.Tensor | None, name: str) -> torch.Tensor:
    if targets is None:
        raise ValueError(f"measure {name!r} needs the minibatch's targets, got None")
    return targets


def input_jacobian(net: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Per-sample gradient of the summed outputs w.r.t. the input, flattened to ``[N, D]``.

    Samples interact only through BatchNorm batch statistics, which Mellor et al.'s and
    EPE-NAS's codes also keep (train mode), so this matches their batched Jacobian.
    """
    x = inputs.detach().clone().requires_grad_(True)
    out = net(x)
    if not out.requires_grad:  # the output does not depend on anything differentiable
        return torch.zeros_like(x).reshape(x.shape[0], -1)
    (grad,) = torch.autograd.grad(out, x, grad_outputs=torch.ones_like(out), allow_unused=True)
    if grad is None:  # the output does not depend on the input
        grad = torch.zeros_like(x)
    return grad.reshape(grad.shape[0], -1)
