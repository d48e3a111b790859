"""The ``params`` and ``flops`` baselines: size of the real network, or the benchmark's table.

When the context carries the benchmark's network configuration and the space can build
networks, both are counted from the real network: ``params`` is the number of trainable and
non-trainable parameters (``net.parameters()``, BatchNorm affine terms included, buffers
excluded); ``flops`` is ``torch.utils.flop_counter.FlopCounterMode``'s total for one input of
``input_shape`` in eval mode (it counts convolutions and matrix products, one multiply-add
as two FLOPs, and ignores elementwise ops, pooling and normalization). Otherwise the
benchmark's tabulated property of the same name is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
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


#: Where a size baseline takes its value from.
SOURCES = ("auto", "network", "table")


class _SizeBaseline(Predictor):
    """Shared query logic: count from the real network, else read the tabulated property.

    ``source``: ``"auto"`` counts from the network when the context can build one and reads
    the table otherwise; ``"network"`` and ``"table"`` insist on one of them (``"table"`` is
    the cheap choice inside a search loop, where building hundreds of networks per run costs
    more wall time than the search itself).
    """

    prop: ClassVar[str] = ""

    source: str = "auto"

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        self._cache: dict[tuple[Arch, tuple], float] = {}

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
    """FLOPs of one forward pass on one input (``FlopCounterMode``), or the tabulated value."""

    needs = DataNeeds(labels=False, properties=("flops",))
    prop = "flops"

    def _count(self, net: nn.Module, input_shape: tuple[int, ...]) -> int:
        return count_flops(net, input_shape)
