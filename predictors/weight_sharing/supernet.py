"""The NAS-Bench-201 supernet: the benchmark's skeleton with all five operations on every edge.

A path is one operation index (into ``predictors.spaces.nb201.OPS``) per edge, in the edge order
of the NB201 string; every cell of the network follows the same path, exactly as a benchmark
architecture repeats one cell. ``extract_subnet`` copies a path's weights into a standalone
``NB201Network`` (same channels, cells per stage, stem stride), so a subnet *is* the benchmark's
network for that architecture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from predictors.base import DataError
from predictors.layout import preferred_layout
from predictors.spaces.base import Arch, SearchSpace
from predictors.spaces.nb201 import OPS
from predictors.spaces.nb201_net import EDGES, build_skeleton, make_op
from predictors.spaces.networks import build_network

Path = tuple[int, ...]
NONE = OPS.index("none")
NUM_EDGES = len(EDGES)


def arch_to_path(arch: Arch) -> Path:
    return tuple(OPS.index(op) for op in arch.spec)


def path_to_arch(path: Sequence[int], space_name: str = "nb201") -> Arch:
    return Arch(space_name, tuple(OPS[int(i)] for i in path))


class SuperCell(nn.Module):
    """One cell whose every edge holds all five operations (``edges[e][k]``)."""

    def __init__(self, channels: int, affine: bool, track: bool):
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(op, channels, affine, track) for op in OPS) for _ in EDGES
        )

    def forward(self, x: torch.Tensor, path: Path | None = None,
                weights: torch.Tensor | None = None) -> torch.Tensor:
        """Single-path forward (``path``) or the DARTS mixture (``weights``: [edges, ops])."""
        nodes = [x]
        for j in range(1, 4):
            total = None
            for e, (src, dst) in enumerate(EDGES):
                if dst != j:
                    continue
                if weights is None:
                    k = path[e]
                    if k == NONE:
                        continue
                    term = self.edges[e][k](nodes[src])
                else:
                    term = sum(weights[e, k] * op(nodes[src])
                               for k, op in enumerate(self.edges[e]) if k != NONE)
                total = term if total is None else total + term
            nodes.append(total if total is not None else torch.zeros_like(x))
        return nodes[-1]


class NB201Supernet(nn.Module):
    """``NB201Network``'s skeleton (stem, 3 stages, 2 residual reductions, head) over SuperCells.

    Module names mirror ``NB201Network`` so a subnet's state dict maps key by key.
    """

    def __init__(self, channels: int = 16, cells_per_stage: int = 5, in_channels: int = 3,
                 num_classes: int = 10, stem_stride: int = 1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__()
        build_skeleton(self, lambda width: SuperCell(width, affine, track_running_stats),
                       channels, cells_per_stage, in_channels, num_classes, stem_stride, affine,
                       track_running_stats)

    def forward(self, x: torch.Tensor, path: Path | None = None,
                weights: torch.Tensor | None = None) -> torch.Tensor:
        if (path is None) == (weights is None):
            raise ValueError("give exactly one of path (single path) or weights (mixture)")
        out = self.stem(x)
        for layer in self.cells:
            out = layer(out, path, weights) if isinstance(layer, SuperCell) else layer(out)
        return self.classifier(self.pool(self.head(out)).flatten(1))

    def path_parameters(self, path: Path) -> list[nn.Parameter]:
        """The parameters a single-path forward of ``path`` touches."""
        params: list[nn.Parameter] = []
        for name, module in self.named_children():
            if name != "cells":
                params.extend(module.parameters())
        for layer in self.cells:
            if isinstance(layer, SuperCell):
                for e, k in enumerate(path):
                    params.extend(layer.edges[e][k].parameters())
            else:
                params.extend(layer.parameters())
        return params


def build_supernet(space: SearchSpace, kwargs: Mapping[str, Any], init_seed: int,
                   who: str) -> NB201Supernet:
    """A supernet for the benchmark's network configuration, initialized from ``init_seed``."""
    if space.name != "nb201":
        raise DataError(f"{who}: the weight-sharing supernet covers the NAS-Bench-201 space only, "
                        f"not {space.name!r}; use an nb201 benchmark")
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(int(init_seed))
        try:
            return NB201Supernet(**kwargs)
        except TypeError as exc:
            raise DataError(f"{who}: network configuration {dict(kwargs)} does not fit the "
                            f"NB201 network ({exc}); use NB201Network keyword arguments") from exc


def subnet_key(key: str, path: Path, cell_layers: set[int]) -> str:
    """The supernet state-dict key holding subnet key ``key`` (``cells.i.edges.e.*``)."""
    parts = key.split(".")
    if parts[0] == "cells" and int(parts[1]) in cell_layers and parts[2] == "edges":
        edge = int(parts[3])
        return ".".join([*parts[:4], str(path[edge]), *parts[4:]])
    return key


def extract_subnet(supernet: NB201Supernet, space: SearchSpace, arch: Arch,
                   kwargs: Mapping[str, Any]) -> nn.Module:
    """A standalone benchmark network for ``arch`` holding copies of the supernet's weights."""
    path = arch_to_path(arch)
    net = build_network(space, arch, kwargs, init_seed=0)
    cell_layers = {i for i, layer in enumerate(supernet.cells) if isinstance(layer, SuperCell)}
    source = supernet.state_dict()
    state = {key: source[subnet_key(key, path, cell_layers)].detach().clone()
             for key in net.state_dict()}
    net.load_state_dict(state, strict=True)
    device = next(supernet.parameters()).device
    return net.to(device, memory_format=preferred_layout(device))
