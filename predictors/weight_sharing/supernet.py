"""Weight-sharing supernets: one per search space, each architecture a path through it.

``Supernet`` is what every space's supernet provides to the single-path predictors: the path
coding (``arch_to_path``/``path_to_arch``, a tuple of ints whose position ``i`` takes
``path_choices[i]`` values), the path samplers the space defines (uniform over its
architectures, uniform over distinct networks, FairNAS's strict fairness; ``undefined`` says
why one is not defined there), a single-path ``forward`` and ``subnet_key``, which names the
supernet tensor holding each tensor of the benchmark's network for a path. ``extract_subnet``
copies those tensors (their leading slices, where a subnet is narrower) into a standalone
benchmark network, so a subnet *is* the benchmark's network for its architecture.
``build_supernet`` picks the space's supernet: NAS-Bench-201's here, NAS-Bench-101's in
``predictors.weight_sharing.nb101_supernet`` and DARTS' in
``predictors.weight_sharing.darts_supernet``.

The NAS-Bench-201 supernet is the benchmark's skeleton with all five operations on every edge.
A path is one operation index (into ``predictors.spaces.nb201.OPS``) per edge, in the edge order
of the NB201 string; every cell of the network follows the same path, exactly as a benchmark
architecture repeats one cell.
"""

from __future__ import annotations

import importlib
from collections.abc import Hashable, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from predictors.base import DataError
from predictors.layout import preferred_layout
from predictors.spaces.base import Arch, SearchSpace
from predictors.spaces.nb201 import OPS, NB201Space
from predictors.spaces.nb201_net import EDGES, build_skeleton, make_op
from predictors.spaces.networks import build_network

Path = tuple[int, ...]
NONE = OPS.index("none")
NUM_EDGES = len(EDGES)


def arch_to_path(arch: Arch) -> Path:
    return tuple(OPS.index(op) for op in arch.spec)


def path_to_arch(path: Sequence[int], space_name: str = "nb201") -> Arch:
    return Arch(space_name, tuple(OPS[int(i)] for i in path))


@lru_cache(maxsize=1)
def isomorphism_classes() -> tuple[tuple[Path, ...], ...]:
    """The NB201 cells grouped by canonical form (computed once per process)."""
    space = NB201Space()
    classes: dict[Hashable, list[Path]] = {}
    for arch in space.enumerate():
        classes.setdefault(space.canonical(arch), []).append(arch_to_path(arch))
    return tuple(tuple(members) for members in classes.values())


class Supernet(nn.Module):
    """Base class of the supernets: the path coding and samplers of one space (see above)."""

    space_name: ClassVar[str]
    #: Values each path position can take (``op_counts_`` has one row per position).
    path_choices: ClassVar[tuple[int, ...]]
    #: Why a sampler kind ("distinct", "fair") is not defined on this space.
    undefined: ClassVar[dict[str, str]] = {}

    @staticmethod
    def arch_to_path(arch: Arch) -> Path:
        raise NotImplementedError

    @staticmethod
    def sample_path(rng: np.random.Generator) -> Path:
        """A path drawn as the space draws its architectures (uniform over them)."""
        raise NotImplementedError

    @staticmethod
    def distinct_path(rng: np.random.Generator) -> Path:
        """A path drawn uniformly over the space's distinct networks (canonical forms)."""
        raise NotImplementedError

    @staticmethod
    def fair_paths(rng: np.random.Generator) -> list[Path]:
        """FairNAS: paths that together train every choice of every position exactly once."""
        raise NotImplementedError

    def subnet_key(self, key: str, path: Path) -> str:
        """The supernet state-dict key holding the benchmark network's ``key`` for ``path``."""
        raise NotImplementedError


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


class NB201Supernet(Supernet):
    """``NB201Network``'s skeleton (stem, 3 stages, 2 residual reductions, head) over SuperCells.

    Module names mirror ``NB201Network`` so a subnet's state dict maps key by key.
    """

    space_name = "nb201"
    path_choices = (len(OPS),) * NUM_EDGES
    arch_to_path = staticmethod(arch_to_path)

    @staticmethod
    def sample_path(rng: np.random.Generator) -> Path:
        """One op per edge, uniformly: uniform over the 15,625 cells."""
        return tuple(int(k) for k in rng.integers(len(OPS), size=NUM_EDGES))

    @staticmethod
    def distinct_path(rng: np.random.Generator) -> Path:
        """A uniform isomorphism class, then a uniform cell within it."""
        classes = isomorphism_classes()
        members = classes[int(rng.integers(len(classes)))]
        return members[int(rng.integers(len(members)))]

    @staticmethod
    def fair_paths(rng: np.random.Generator) -> list[Path]:
        """Five paths from one random permutation of the ops per edge."""
        perms = np.stack([rng.permutation(len(OPS)) for _ in range(NUM_EDGES)])  # [edge, slot]
        return [tuple(int(k) for k in perms[:, slot]) for slot in range(len(OPS))]

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

    def subnet_key(self, key: str, path: Path) -> str:
        """``cells.i.edges.e.*`` of a cell layer gains the path's op index after ``e``."""
        parts = key.split(".")
        if (parts[0] == "cells" and parts[2:3] == ["edges"]
                and isinstance(self.cells[int(parts[1])], SuperCell)):
            edge = int(parts[3])
            return ".".join([*parts[:4], str(path[edge]), *parts[4:]])
        return key


#: Where each space's supernet lives (imported when first asked for).
SUPERNETS: dict[str, str] = {
    "nb201": "predictors.weight_sharing.supernet:NB201Supernet",
    "nb101": "predictors.weight_sharing.nb101_supernet:NB101Supernet",
    "darts": "predictors.weight_sharing.darts_supernet:DartsSupernet",
}


def supernet_class(space_name: str, who: str) -> type[Supernet]:
    """The supernet of a space; ``DataError`` for a space without one."""
    target = SUPERNETS.get(space_name)
    if target is None:
        raise DataError(f"{who}: no weight-sharing supernet covers the {space_name!r} space; "
                        f"use a benchmark of {', '.join(sorted(SUPERNETS))}")
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def build_supernet(space: SearchSpace, kwargs: Mapping[str, Any], init_seed: int,
                   who: str) -> Supernet:
    """A supernet for the benchmark's network configuration, initialized from ``init_seed``."""
    cls = supernet_class(space.name, who)
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(int(init_seed))
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise DataError(f"{who}: network configuration {dict(kwargs)} does not fit the "
                            f"{space.name} network ({exc}); use the keyword arguments of "
                            f"its to_network") from exc


def extract_subnet(supernet: Supernet, space: SearchSpace, arch: Arch,
                   kwargs: Mapping[str, Any]) -> nn.Module:
    """A standalone benchmark network for ``arch`` holding copies of the supernet's weights
    (each tensor's leading slice of the shape the network needs)."""
    path = supernet.arch_to_path(arch)
    net = build_network(space, arch, kwargs, init_seed=0)
    source = supernet.state_dict()
    state = {}
    for key, target in net.state_dict().items():
        value = source[supernet.subnet_key(key, path)]
        state[key] = value[tuple(slice(0, n) for n in target.shape)].detach().clone()
    net.load_state_dict(state, strict=True)
    device = next(supernet.parameters()).device
    return net.to(device, memory_format=preferred_layout(device))
