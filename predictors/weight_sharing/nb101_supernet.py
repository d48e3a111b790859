"""The NAS-Bench-101 supernet: the space's maximal 7-vertex cell with every choice in it.

Each supernet cell (on ``NB101Network``'s skeleton: stem, stacks of cells, max pools, classifier)
holds all three operations at each of the five interior vertices and a 1x1 projection of the
cell input to each vertex and to the output. A path is one cell: its pruned spec embedded in
the 7-vertex frame (interior vertex ``i`` at position ``i``, the output at position 6), coded
as the 21 upper-triangular edge bits (row-major) and, per interior position, its op index or
``ABSENT`` (3) where the cell has no vertex there. Every cell of the network follows the path.

Vertex widths: NAS-Bench-101 sets a vertex's width from the cell's graph (the output's width is
split among the vertices feeding it, any other vertex takes its widest successor), so the same
vertex is narrower or wider in different cells. Every supernet module is built at the widest a
vertex can be, the cell's output width; a path runs each vertex at the width NAS-Bench-101
gives it in that cell, on the leading channels of its operation's and projection's
convolution and BatchNorm (``sliced_conv_bn_relu``), and truncates interior edges to the
leading channels as the network does. Every subgraph therefore computes exactly
NAS-Bench-101's cell, and the extracted subnet (those leading slices) is the benchmark network.

Paths are drawn with the space's own sampler (random 7x7 matrices and operations until a valid
cell). Uniform sampling over distinct networks and FairNAS's strict fairness are not defined
here (see ``NB101Supernet.undefined``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from predictors.spaces.base import Arch
from predictors.spaces.nb101 import MAX_NODES, OPS, NB101Space
from predictors.spaces.nb101_net import (
    ConvBNReLU,
    build_skeleton,
    make_vertex_op,
    run_cell,
    vertex_channels,
)
from predictors.weight_sharing.supernet import Path, Supernet

#: The path value of an interior position the cell has no vertex at.
ABSENT = len(OPS)
OUTPUT = MAX_NODES - 1
FRAME_EDGES: tuple[tuple[int, int], ...] = tuple(
    (i, j) for i in range(MAX_NODES) for j in range(i + 1, MAX_NODES))
INTERIOR = range(1, OUTPUT)
_SPACE = NB101Space()


def arch_to_path(arch: Arch) -> Path:
    matrix, ops = arch.spec
    n = len(ops)
    position = [*range(n - 1), OUTPUT]
    edges = {(position[i], position[j]) for i in range(n) for j in range(n) if matrix[i][j]}
    values = [OPS.index(ops[v]) if v < n - 1 else ABSENT for v in INTERIOR]
    return (*(int(e in edges) for e in FRAME_EDGES), *values)


@lru_cache(maxsize=4096)
def decode(path: Path) -> tuple[tuple[int, ...], np.ndarray, tuple[int, ...]]:
    """The frame positions of the path's vertices, its pruned matrix and op values."""
    values = path[len(FRAME_EDGES):]
    kept = (0, *(v for v in INTERIOR if values[v - 1] != ABSENT), OUTPUT)
    frame = np.zeros((MAX_NODES, MAX_NODES), dtype=bool)
    for bit, (i, j) in zip(path[: len(FRAME_EDGES)], FRAME_EDGES, strict=True):
        frame[i, j] = bool(bit)
    ops = (ABSENT, *(values[v - 1] for v in kept[1:-1]), ABSENT)
    return kept, frame[np.ix_(kept, kept)], ops


def sliced_conv_bn_relu(block: ConvBNReLU, x: torch.Tensor, width: int) -> torch.Tensor:
    """``block`` on the leading ``width`` output channels (and as many input channels as
    ``x`` has)."""
    conv, bn = block[0], block[1]
    y = F.conv2d(x, conv.weight[:width, : x.shape[1]], padding=conv.padding)
    y = F.batch_norm(y, bn.running_mean[:width], bn.running_var[:width], bn.weight[:width],
                     bn.bias[:width], bn.training, 0.1 if bn.momentum is None else bn.momentum,
                     bn.eps)
    return F.relu(y)


class NB101SuperCell(nn.Module):
    """All ops at every interior position (``vertex_ops[pos][k]``) and a projection of the
    input to every position (``projections[pos]``), each ``c_out`` channels wide."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.c_in, self.c_out = c_in, c_out
        self.vertex_ops = nn.ModuleDict(
            {str(v): nn.ModuleList(make_vertex_op(op, c_out) for op in OPS) for v in INTERIOR})
        self.projections = nn.ModuleDict(
            {str(v): ConvBNReLU(c_in, c_out, 1) for v in range(1, MAX_NODES)})

    def forward(self, x: torch.Tensor, path: Path) -> torch.Tensor:
        kept, matrix, ops = decode(path)
        widths = vertex_channels(self.c_in, self.c_out, matrix)

        def vertex(v: int, t: torch.Tensor) -> torch.Tensor:
            op = self.vertex_ops[str(kept[v])][ops[v]]
            return sliced_conv_bn_relu(op, t, widths[v]) if isinstance(op, ConvBNReLU) else op(t)

        return run_cell(x, matrix, widths,
                        lambda v, t: sliced_conv_bn_relu(self.projections[str(kept[v])], t,
                                                         widths[v]),
                        vertex)


class NB101Supernet(Supernet):
    """``NB101Network``'s skeleton over ``NB101SuperCell``s; module names mirror the network's
    (``cells.i.vertex_ops.<pos>.<op>`` for the network's ``cells.i.vertex_ops.<vertex>``)."""

    space_name = "nb101"
    path_choices = (2,) * len(FRAME_EDGES) + (len(OPS) + 1,) * len(INTERIOR)
    undefined = {
        "distinct": (
            "RS-WS draws uniformly among distinct networks (isomorphism classes), but the "
            "423,624 NAS-Bench-101 classes are not enumerated here and the space's sampler "
            "(random matrices and operations until a valid cell) favours some classes over "
            "others; use oneshot (the space's own sampler) or greedynas"),
        "fair": (
            "FairNAS's strict fairness trains every choice of every position exactly once per "
            "step, but an NB101 path also chooses which of the 21 edges and 5 vertices exist "
            "(at most 9 edges, vertices off input-output paths pruned), so whole cells cannot "
            "train every vertex operation and edge equally often; use oneshot or greedynas"),
    }
    arch_to_path = staticmethod(arch_to_path)

    def __init__(self, stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3,
                 in_channels: int = 3, num_classes: int = 10):
        super().__init__()
        build_skeleton(self, NB101SuperCell, stem_channels, num_stacks, cells_per_stack,
                       in_channels, num_classes)

    @staticmethod
    def sample_path(rng: np.random.Generator) -> Path:
        """NAS-Bench-101's sampler: random 7x7 matrix and ops until a valid cell."""
        return arch_to_path(_SPACE.sample(rng))

    def forward(self, x: torch.Tensor, path: Path) -> torch.Tensor:
        out = self.stem(x)
        for layer in self.cells:
            out = layer(out, path) if isinstance(layer, NB101SuperCell) else layer(out)
        return self.classifier(self.pool(out).flatten(1))

    def subnet_key(self, key: str, path: Path) -> str:
        """Cell vertex ``v`` of the network -> its frame position (and op, for operations)."""
        parts = key.split(".")
        if parts[0] != "cells" or parts[2] not in ("vertex_ops", "projections"):
            return key
        kept, _, ops = decode(path)
        v = int(parts[3])
        head = [*parts[:3], str(kept[v])]
        if parts[2] == "vertex_ops":
            head.append(str(ops[v]))
        return ".".join([*head, *parts[4:]])

