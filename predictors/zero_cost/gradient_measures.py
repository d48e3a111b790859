"""Pruning-at-initialization saliencies summed over the network (Abdelfattah et al., 2021).

Common choices, following Abdelfattah et al.'s "Zero-Cost Proxies for Lightweight NAS" code
where the original pruning papers score single weights: every per-weight saliency is summed over
all weights of convolution and linear layers (biases and BatchNorm parameters excluded); the
network is in train mode, so BatchNorm normalizes with the minibatch's statistics (running
statistics are restored afterwards); the loss is ``loss_fn(net(inputs), targets)`` over the
whole minibatch at once (no splitting).
"""

from __future__ import annotations

import torch
from torch import nn

from predictors.zero_cost.measures import measure
from predictors.zero_cost.torch_utils import (
    hooks,
    preserved,
    require_targets,
    weight_layers,
    weights,
)


def _loss(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss_fn) -> torch.Tensor:
    return loss_fn(net(inputs), targets)


def _weight_grads(loss: torch.Tensor, ws: list[torch.Tensor], create_graph: bool = False
                  ) -> list[torch.Tensor]:
    """``dL/dW`` per weight; a weight the loss does not reach (dead branch) gets zeros."""
    grads = torch.autograd.grad(loss, ws, allow_unused=True, create_graph=create_graph)
    return [torch.zeros_like(w) if g is None else g for g, w in zip(grads, ws, strict=True)]


@measure("grad_norm")
def grad_norm(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """grad_norm: sum over layers of the Euclidean norm of the loss gradient of the layer's
    weight, ``sum_l ||dL/dW_l||_2`` (Abdelfattah et al. 2021, per-layer norms summed)."""
    targets = require_targets(targets, "grad_norm")
    with preserved(net):
        ws = weights(net)
        grads = _weight_grads(_loss(net, inputs, targets, loss_fn), ws)
        return float(sum(g.norm(2) for g in grads))


@measure("snip")
def snip(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """SNIP connection sensitivity (Lee et al. 2019), ``sum |dL/dW * W|`` over all weights.

    Lee et al. normalize saliencies to select weights; as a network score the unnormalized
    absolute values are summed (Abdelfattah et al.)."""
    targets = require_targets(targets, "snip")
    with preserved(net):
        ws = weights(net)
        grads = _weight_grads(_loss(net, inputs, targets, loss_fn), ws)
        return float(sum((g * w.detach()).abs().sum() for g, w in zip(grads, ws, strict=True)))


@measure("plain")
def plain(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """plain (Mozer & Smolensky 1989, as in Abdelfattah et al.): ``sum dL/dW * W``, signed —
    the first-order estimate of the loss change from removing all weights."""
    targets = require_targets(targets, "plain")
    with preserved(net):
        ws = weights(net)
        grads = _weight_grads(_loss(net, inputs, targets, loss_fn), ws)
        return float(sum((g * w.detach()).sum() for g, w in zip(grads, ws, strict=True)))


@measure("grasp")
def grasp(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """GraSP (Wang et al. 2020): ``sum -(H g) * W`` with ``g = dL/dW`` and ``H`` the Hessian.

    ``H g`` is one Hessian-vector product: the gradient of ``g . stop_grad(g)``. Choices: one
    forward pass serves both ``g`` and ``Hg`` (Wang et al. use two passes and a softmax
    temperature of 200; Abdelfattah et al.'s network score uses temperature 1, as here); the
    signed sum is returned, so larger means the loss gradient flow drops less when weights are
    removed."""
    targets = require_targets(targets, "grasp")
    with preserved(net):
        ws = weights(net)
        grads = _weight_grads(_loss(net, inputs, targets, loss_fn), ws, create_graph=True)
        z = sum((g * g.detach()).sum() for g in grads if g.requires_grad)
        if not isinstance(z, torch.Tensor):
            return 0.0
        hg = torch.autograd.grad(z, ws, allow_unused=True)
        return float(sum((-(h * w.detach())).sum() for h, w in zip(hg, ws, strict=True)
                         if h is not None))


@measure("fisher")
def fisher(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """Fisher pruning saliency (Theis et al. 2018), summed over channels of every layer.

    For the output activation ``a`` of each convolution/linear layer (before BatchNorm, as in
    Abdelfattah et al., who insert an identity there) and its loss gradient ``g``, channel ``k``
    scores ``0.5 * mean_n (sum_{h,w} a_nkhw g_nkhw)^2``; all channels of all layers are summed.
    Activations are captured with forward hooks; nothing in the network is replaced."""
    targets = require_targets(targets, "fisher")
    acts: list[torch.Tensor] = []
    with preserved(net):
        handles = [m.register_forward_hook(lambda _m, _i, out: acts.append(out))
                   for m in weight_layers(net)]
        with hooks(handles):
            loss = _loss(net, inputs, targets, loss_fn)
        grads = torch.autograd.grad(loss, acts, allow_unused=True)
        total = torch.zeros((), dtype=torch.float64, device=inputs.device)
        for a, g in zip(acts, grads, strict=True):
            if g is None:
                continue
            prod = (a * g).detach()
            per_channel = prod.flatten(2).sum(-1) if prod.dim() > 2 else prod
            total = total + 0.5 * per_channel.double().pow(2).mean(0).sum()
        return float(total)
