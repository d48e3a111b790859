"""Building the benchmark's real network for an architecture, deterministically.

``ctx.network`` holds the ``to_network`` keyword arguments plus ``input_shape``; this module
splits the two and builds networks under a forked RNG so that construction neither reads nor
advances the caller's global random state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from predictors.base import DataError
from predictors.spaces.base import Arch, SearchSpace


def network_config(
    network: Mapping[str, Any] | None, who: str
) -> tuple[dict[str, Any], tuple[int, ...]]:
    """``(to_network kwargs, input_shape)`` from a context's ``network`` mapping."""
    if network is None:
        raise DataError(
            f"{who} runs real networks but the context has no network configuration "
            "(ctx.network); use a benchmark whose space can build its networks"
        )
    kwargs = {k: v for k, v in network.items() if k != "input_shape"}
    shape = network.get("input_shape")
    if shape is None:
        raise DataError(
            f"{who}: ctx.network lacks 'input_shape' (e.g. (1, 28, 28)); the benchmark's "
            "network configuration must state the shape of one input"
        )
    return kwargs, tuple(int(s) for s in shape)


def can_build(space: SearchSpace) -> bool:
    """Whether the space overrides ``SearchSpace.to_network``."""
    return type(space).to_network is not SearchSpace.to_network


def build_network(
    space: SearchSpace, arch: Arch, kwargs: Mapping[str, Any], init_seed: int = 0
) -> nn.Module:
    """``space.to_network(arch, **kwargs)`` initialized from ``init_seed`` alone.

    The CPU generator is forked, so the global RNG is left exactly as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(int(init_seed))
        net = space.to_network(arch, **kwargs)
    if not isinstance(net, nn.Module):
        raise TypeError(f"{type(space).__name__}.to_network returned {type(net).__name__}, "
                        "not a torch.nn.Module")
    return net
