"""Measures that need no data: only the network, its initialization, and the input shape.

``inputs`` only carries the shape of a minibatch here; ``targets`` and ``loss_fn`` are unused.
Each works on a copy where it changes weights, so the caller's network is untouched.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd

from predictors.zero_cost.measures import ScoreUndefined, measure
from predictors.zero_cost.torch_utils import hooks, preserved, weights, without_batchnorm

_GLOBAL_POOLS = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                 nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)


@measure("l2_norm", data_free=True)
def l2_norm(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """l2_norm (as in NAS-Bench-Suite-Zero): sum over convolution and linear layers of the
    Euclidean (Frobenius) norm of the layer's weight at initialization."""
    with torch.no_grad():
        return float(sum(w.detach().double().norm(2) for w in weights(net)))


@measure("synflow", data_free=True)
def synflow(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """SynFlow (Tanaka et al. 2020), as a network score (Abdelfattah et al. 2021).

    On a float64 copy of the network with every parameter replaced by its absolute value and
    BatchNorm removed (replaced by the identity, as Abdelfattah et al. do; Tanaka et al. only
    linearize), ``R = sum f(1)`` for a single all-ones input of the minibatch's shape; the score
    is ``sum |W * dR/dW|`` over convolution and linear weights. Double precision delays the
    overflow deep networks cause; an infinite result is reported as undefined."""
    clone = without_batchnorm(net).double().eval()
    with torch.no_grad():
        for p in clone.parameters():
            p.abs_()
    x = torch.ones((1, *inputs.shape[1:]), dtype=torch.float64, device=inputs.device)
    ws = weights(clone)
    out = clone(x)
    grads = torch.autograd.grad(out.sum(), ws, allow_unused=True)
    score = sum(float((w.detach() * g).abs().sum()) for w, g in zip(ws, grads, strict=True)
                if g is not None)
    if not math.isfinite(score):
        raise ScoreUndefined("synflow overflowed float64")
    return score


def _gaussian(shape: torch.Size | tuple, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(tuple(shape), generator=gen).to(device=like.device, dtype=like.dtype)


@measure("zen", data_free=True)
def zen(net: nn.Module, inputs, targets, loss_fn, seed: int = 0, alpha: float = 0.01,
        **opts) -> float:
    """Zen-score (Lin et al. 2021), from Gaussian inputs (the data is not used).

    The network runs (through ``torch.func.functional_call``, its own parameters untouched)
    with every convolution/linear weight drawn from N(0, 1), biases 0, BatchNorm scale 1 and
    shift 0, as in the paper; ``x`` and ``eps`` are N(0, 1) of the
    minibatch's shape, drawn from ``seed``. With ``f`` the feature map entering the last global
    pooling layer (the network output if there is none), the score is
    ``log mean_n ||f(x)_n - f(x + alpha eps)_n||_F + sum_i log sigma_i`` where ``sigma_i`` is
    the root mean (over channels) of BatchNorm layer ``i``'s minibatch variance during
    ``f(x)`` (layers on dead branches, whose input is identically zero, are skipped).
    Choices: the paper's Frobenius norm (the authors' code sums absolute values) and true
    minibatch variances (the code reads momentum-blended running variances); one minibatch,
    no repeats; ``alpha = 0.01`` as in the paper; the score is not divided by ``alpha`` (a
    constant offset of the logarithm)."""
    gen = torch.Generator().manual_seed(int(seed))
    params = _gaussian_parameters(net, gen)
    floating = inputs if inputs.is_floating_point() else inputs.float()
    x = _gaussian(inputs.shape, gen, floating)
    eps = _gaussian(inputs.shape, gen, floating)

    pools = [m for m in net.modules() if isinstance(m, _GLOBAL_POOLS)]
    features: list[torch.Tensor] = []
    variances: list[float] = []

    def grab_features(_m: nn.Module, args: tuple) -> None:
        features.append(args[0])

    def grab_variance(_m: nn.Module, args: tuple) -> None:
        a = args[0].double()
        dims = [d for d in range(a.dim()) if d != 1]
        variances.append(float(a.var(dim=dims, unbiased=False).mean()))

    def run(inp: torch.Tensor) -> torch.Tensor:
        return functional_call(net, params, (inp,))

    with preserved(net), torch.no_grad():
        feature_hooks = [pools[-1].register_forward_pre_hook(grab_features)] if pools else []
        with hooks(feature_hooks):
            bn_hooks = [m.register_forward_pre_hook(grab_variance) for m in net.modules()
                        if isinstance(m, _BatchNorm)]
            with hooks(bn_hooks):
                out = run(x)
            f_x = features[-1] if pools else out
            out = run(x + alpha * eps)
            f_mix = features[-1] if pools else out
    diff = float((f_x - f_mix).double().reshape(f_x.shape[0], -1).norm(dim=1).mean())
    if not diff > 0.0:
        raise ScoreUndefined("the network's features do not change with its input")
    # A BatchNorm on a dead branch (its input is identically zero) adds nothing to the
    # features; it is skipped rather than contributing log(0).
    return math.log(diff) + sum(0.5 * math.log(v) for v in variances if v > 0.0)


def _gaussian_parameters(net: nn.Module, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Replacement parameters for ``functional_call``: N(0, 1) conv/linear weights, zero biases,
    identity BatchNorm affine terms (the network's own tensors are not touched)."""
    params: dict[str, torch.Tensor] = {}
    for prefix, m in net.named_modules():
        dot = f"{prefix}." if prefix else ""
        if isinstance(m, _ConvNd | nn.Linear):
            params[dot + "weight"] = _gaussian(m.weight.shape, gen, m.weight)
            if m.bias is not None:
                params[dot + "bias"] = torch.zeros_like(m.bias)
        elif isinstance(m, _BatchNorm) and m.affine:
            params[dot + "weight"] = torch.ones_like(m.weight)
            params[dot + "bias"] = torch.zeros_like(m.bias)
    if not any(isinstance(m, _ConvNd | nn.Linear) for m in net.modules()):
        raise ScoreUndefined("the network has no convolution or linear layer")
    return params
