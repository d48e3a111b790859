"""The ``params`` and ``flops`` baselines: size of the real network, or the benchmark's table.

When the context carries the benchmark's network configuration and the space can build
networks, both are counted from the real network: ``params`` is the number of trainable and
non-trainable parameters (``net.parameters()``, BatchNorm affine terms included, buffers
excluded); ``flops`` is ``torch.utils.flop_counter.FlopCounterMode``'s total for one input of
``input_shape`` in eval mode (it counts convolutions and matrix products, one multiply-add
as two FLOPs, and ignores elementwise ops, pooling and normalization). With
``convention="suite-zero"`` it is counted per layer as NAS-Bench-Suite-Zero's tables count it
(see ``count_layer_flops``), so live figures compare with those tables directly. Otherwise the
benchmark's tabulated property of the same name is used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.flop_counter import FlopCounterMode

from predictors.base import DataError, DataNeeds, FitContext, Prediction, Predictor, QueryContext
from predictors.registry import register
from predictors.spaces.base import Arch
from predictors.spaces.networks import build_network, can_build, network_config


def count_params(net: nn.Module) -> int:
    """Number of parameters of ``net`` (each shared tensor once)."""
    return sum(p.numel() for p in net.parameters())


def count_flops(net: nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass on a single input of ``input_shape`` (eval mode, no grad)."""
    was_training = net.training
    net.eval()
    try:
        param = next(net.parameters(), None)
        x = torch.zeros((1, *input_shape), device=param.device if param is not None else "cpu")
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            net(x)
        return int(counter.get_total_flops())
    finally:
        net.train(was_training)


_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)


def _layer_flops(module: nn.Module, x: torch.Tensor, out: torch.Tensor) -> int:
    """One call's operations under the per-layer convention of ``count_layer_flops``."""
    if isinstance(module, nn.Conv2d):
        k_h, k_w = module.kernel_size
        positions = out.shape[0] * out.shape[2] * out.shape[3]
        macs = k_h * k_w * x.shape[1] * (out.shape[1] // module.groups) * positions
        return macs + (out.shape[1] * positions if module.bias is not None else 0)
    if isinstance(module, nn.Linear):
        return x.shape[0] * module.in_features * module.out_features
    if isinstance(module, _BatchNorm):
        return x.numel() * (2 if module.affine else 1)
    if isinstance(module, _ACTIVATIONS):
        return x.numel()
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        k = module.kernel_size
        window = k * k if isinstance(k, int) else k[0] * k[1]
        return out.numel() * window
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        height, width = x.shape[2], x.shape[3]
        out_h, out_w = out.shape[2], out.shape[3]
        rows = sum(math.ceil((i + 1) * height / out_h) - (i * height) // out_h + 1
                   for i in range(out_h))
        cols = sum(math.ceil((j + 1) * width / out_w) - (j * width) // out_w + 1
                   for j in range(out_w))
        return x.shape[0] * x.shape[1] * rows * cols
    return 0


def count_layer_flops(net: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Operations of one forward pass on one input, counted per layer as NAS-Bench-Suite-Zero's
    tables count them (NASLib measures with tensorwatch's layer statistics).

    Each convolution and linear layer counts its multiply-adds once (a convolution's bias one
    more per output), BatchNorm one operation per element (two when affine), activations one
    per element, pooling one per window tap of each output (global pooling, quirkily, one per
    tap of a window one wider each way); elementwise sums, concatenations and slices count
    nothing. Runs in eval mode without gradients; the network's mode is restored.
    """
    total = 0

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        nonlocal total
        if args and isinstance(args[0], torch.Tensor) and isinstance(out, torch.Tensor):
            total += int(_layer_flops(module, args[0], out))

    was_training = net.training
    handles = [m.register_forward_hook(hook) for m in net.modules()
               if not any(True for _ in m.children())]
    net.eval()
    try:
        param = next(net.parameters(), None)
        x = torch.zeros((1, *input_shape), device=param.device if param is not None else "cpu")
        with torch.no_grad():
            net(x)
        return total
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)


#: Where a size baseline takes its value from.
SOURCES = ("auto", "network", "table")
#: How ``flops`` counts a real network: ``FlopCounterMode`` or Suite-Zero's per-layer rules.
CONVENTIONS = ("torch", "suite-zero")


class _SizeBaseline(Predictor):
    """Shared query logic: count from the real network, else read the tabulated property.

    ``source``: ``"auto"`` counts from the network when the context can build one and reads
    the table otherwise; ``"network"`` and ``"table"`` insist on one of them (``"table"`` is
    the cheap choice inside a search loop, where building hundreds of networks per run costs
    more wall time than the search itself).
    """

    prop: ClassVar[str] = ""
    #: The first run's preset reads the benchmark's tabulated count instead of building every
    #: network (falling back to counting where the benchmark tabulates none).
    quick_params: ClassVar[dict[str, Any]] = {"source": "table"}

    source: str = "auto"

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        self._cache: dict[tuple[Arch, tuple], float] = {}

    def data_needs(self) -> DataNeeds:
        """``source="network"`` needs the network configuration instead of the property."""
        if self.source == "network":
            return DataNeeds(labels=False, network=True)
        return self.needs

    def _fit(self, ctx: FitContext) -> None:
        return None

    def _count(self, net: nn.Module, input_shape: tuple[int, ...]) -> int:
        raise NotImplementedError

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        buildable = ctx.network is not None and can_build(ctx.space)
        if self.source == "network" or (self.source == "auto" and buildable):
            if not buildable:
                raise DataError(
                    f"{self.name}: source='network' needs the benchmark's network "
                    "configuration and a space that builds networks; use source='table'"
                )
            return Prediction(self._counted(archs, ctx))
        values = ctx.properties.get(self.prop)
        if values is None:
            raise DataError(
                f"{self.name}: no way to get '{self.prop}': the context has neither a network "
                f"configuration for a space that builds networks nor a tabulated '{self.prop}' "
                "property; use a benchmark that provides one of them"
            )
        values = np.asarray(values, dtype=float).reshape(-1)
        if values.shape[0] != len(archs):
            raise DataError(f"{self.name}: {values.shape[0]} tabulated '{self.prop}' values "
                            f"for {len(archs)} architectures")
        return Prediction(values)

    def _counted(self, archs: list[Arch], ctx: QueryContext) -> np.ndarray:
        kwargs, shape = network_config(ctx.network, self.name)
        config = _freeze(kwargs)
        out = np.empty(len(archs))
        for i, arch in enumerate(archs):
            # Keyed by the exact cell, not its canonical form: a conv on an edge whose output
            # is never used is dead in the function but still holds parameters and FLOPs.
            key = (arch, config)
            if key not in self._cache:
                net = build_network(ctx.space, arch, kwargs)
                self._cache[key] = float(self._count(net, shape))
            out[i] = self._cache[key]
        return out


def _freeze(mapping: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in mapping.items()))


@register("params", family="baseline")
class ParamsPredictor(_SizeBaseline):
    """Number of network parameters: bigger networks tend to be better (a strong baseline)."""

    needs = DataNeeds(labels=False, properties=("params",))
    prop = "params"

    def _count(self, net: nn.Module, input_shape: tuple[int, ...]) -> int:
        return count_params(net)


@register("flops", family="baseline")
class FlopsPredictor(_SizeBaseline):
    """FLOPs of one forward pass on one input, or the tabulated value.

    ``convention``: ``"torch"`` counts with ``FlopCounterMode`` (two per multiply-add);
    ``"suite-zero"`` counts per layer as NAS-Bench-Suite-Zero's tables do
    (``count_layer_flops``)."""

    needs = DataNeeds(labels=False, properties=("flops",))
    prop = "flops"

    convention: str = "torch"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {CONVENTIONS}, got {self.convention!r}")

    def _count(self, net: nn.Module, input_shape: tuple[int, ...]) -> int:
        if self.convention == "suite-zero":
            return count_layer_flops(net, input_shape)
        return count_flops(net, input_shape)
