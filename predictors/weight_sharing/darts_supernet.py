"""The DARTS / NAS-Bench-301 supernet: every candidate edge of a cell holds all seven operations.

A cell's node ``j`` (2..5) may read any earlier node, so a cell has 14 candidate edges
``(node, input)``; the supernet's cells (``DartsNetwork``'s skeleton: stem, reductions at one and
two thirds of the depth, preprocessing of both inputs) hold one module per operation on each,
with stride 2 on a reduction cell's edges from its inputs, as the network has. A path is a
genotype: per cell type (normal, reduce), per node, its two chosen inputs and their operations,
flattened as ``(input, op index)`` for the eight pairs of the normal cell, then the reduction
cell's; every normal cell follows the normal half and every reduction cell the other, as a
benchmark network does. Both pairs of a node read distinct inputs, so they use distinct edges;
an ``(edge, op)`` module is shared by every genotype that puts that operation on that edge.

Paths are drawn with the space's own sampler, uniform over genotypes and over their canonical
forms (each form is drawn in all 2^8 orders of its nodes' pairs equally often), so uniform and
distinct-network sampling coincide. FairNAS's strict fairness is not defined here (see
``DartsSupernet.undefined``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from predictors.spaces.base import Arch
from predictors.spaces.darts import NUM_NODES, OPS, DartsSpace
from predictors.spaces.darts_net import build_skeleton, make_op, preprocessors
from predictors.weight_sharing.supernet import Path, Supernet

#: Candidate edges of a cell, ``(node k, input)`` for the node ``k + 2`` reading ``input``.
EDGES: tuple[tuple[int, int], ...] = tuple((k, src) for k in range(NUM_NODES)
                                           for src in range(k + 2))
EDGE_INDEX = {edge: e for e, edge in enumerate(EDGES)}
PAIRS = 2 * NUM_NODES
Pairs = Sequence[tuple[int, int]]
_SPACE = DartsSpace()


def arch_to_path(arch: Arch) -> Path:
    return tuple(v for cell in arch.spec for op, src in cell for v in (int(src), OPS.index(op)))


def cell_pairs(path: Path, reduction: bool) -> list[tuple[int, int]]:
    """The ``(input, op index)`` pairs of the path's normal or reduction cell."""
    start = 2 * PAIRS * int(reduction)
    return [(path[start + 2 * p], path[start + 2 * p + 1]) for p in range(PAIRS)]


class DartsSuperCell(nn.Module):
    """One normal or reduction cell with every operation on every candidate edge
    (``edges[e][k]``)."""

    def __init__(self, reduction: bool, reduction_prev: bool, c_prev_prev: int, c_prev: int,
                 c: int):
        super().__init__()
        self.reduction = reduction
        self.preprocess0, self.preprocess1 = preprocessors(c_prev_prev, c_prev, c, reduction_prev)
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(op, c, 2 if reduction and src < 2 else 1) for op in OPS)
            for _, src in EDGES)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, pairs: Pairs) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(NUM_NODES):
            terms = [self.edges[EDGE_INDEX[k, src]][op](states[src])
                     for src, op in pairs[2 * k: 2 * k + 2]]
            states.append(terms[0] + terms[1])
        return torch.cat(states[2:], dim=1)


class DartsSupernet(Supernet):
    """``DartsNetwork``'s skeleton over ``DartsSuperCell``s; module names mirror the network's
    (``cells.i.edges.e.k`` for the network's ``cells.i.ops.p``)."""

    space_name = "darts"
    path_choices = tuple(n for _ in range(2) for p in range(PAIRS) for n in (p // 2 + 2, len(OPS)))
    undefined = {"fair": (
        "FairNAS's strict fairness trains every operation of every candidate edge exactly once "
        "per step, but a DARTS node uses 2 of its 2 to 5 candidate inputs: node 3 alone has 3 x "
        "7 = 21 (input, operation) choices and a path takes 2, so no set of whole paths trains "
        "them all equally often; use oneshot, rsws or greedynas")}
    arch_to_path = staticmethod(arch_to_path)

    def __init__(self, channels: int = 32, layers: int = 8, stem_multiplier: int = 3,
                 in_channels: int = 3, num_classes: int = 10, auxiliary: bool = False):
        super().__init__()
        build_skeleton(self, DartsSuperCell, channels, layers, stem_multiplier, in_channels,
                       num_classes, auxiliary)

    @staticmethod
    def sample_path(rng: np.random.Generator) -> Path:
        """The space's genotype sampler: per node two distinct inputs, an op each."""
        return arch_to_path(_SPACE.sample(rng))

    #: Uniform over canonical genotypes: the space's sampler already is.
    distinct_path = sample_path

    def forward(self, x: torch.Tensor, path: Path) -> torch.Tensor:
        halves = (cell_pairs(path, False), cell_pairs(path, True))
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, halves[cell.reduction])
        return self.classifier(self.pool(s1).flatten(1))

    def subnet_key(self, key: str, path: Path) -> str:
        """``cells.i.ops.p.*`` -> ``cells.i.edges.<edge of pair p>.<its op>.*``."""
        parts = key.split(".")
        if parts[0] != "cells" or parts[2] != "ops":
            return key
        k = int(parts[3])
        src, op = cell_pairs(path, self.cells[int(parts[1])].reduction)[k]
        return ".".join([*parts[:2], "edges", str(EDGE_INDEX[k // 2, src]), str(op), *parts[4:]])
