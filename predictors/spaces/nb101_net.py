"""Torch modules of the NAS-Bench-101 CIFAR-10 network: stem, three stacks of cells, classifier.

The network follows NAS-Bench-101 (Ying et al. 2019): a 3x3 conv-BN-ReLU stem with 128 channels,
three stacks of three cells with a 2x2 max pool and doubled channels between stacks, global
average pooling and a linear classifier. Inside a cell, tensors flowing into an interior vertex
are summed, tensors flowing into the output are concatenated; the input is always projected by a
1x1 conv-BN-ReLU to the width of the vertex it feeds; an interior edge between vertices of
different widths keeps the leading channels of its source. Weights are initialized as in the
PyTorch port NAS-Bench-Suite-Zero scored: convolutions N(0, 2 / (k * k * out_channels)),
BatchNorm scale 1 and shift 0, classifier N(0, 0.01^2) with zero bias.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn


class ConvBNReLU(nn.Sequential):
    """Convolution (no bias, 'same' padding), BatchNorm, ReLU: NAS-Bench-101's conv op."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=False),
        )


def make_vertex_op(name: str, channels: int) -> nn.Module:
    if name == "conv3x3-bn-relu":
        return ConvBNReLU(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBNReLU(channels, channels, 1)
    if name == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"unknown NB101 op {name!r}")


def vertex_channels(c_in: int, c_out: int, matrix: np.ndarray) -> list[int]:
    """Width of every vertex: the output's width is split (remainder to the first vertices)
    among the interior vertices that feed it; every other interior vertex takes the widest of
    its successors."""
    n = matrix.shape[0]
    widths = [0] * n
    widths[0], widths[-1] = c_in, c_out
    if n == 2:
        return widths
    feeders = [v for v in range(1, n - 1) if matrix[v, n - 1]]
    share, extra = divmod(c_out, len(feeders))
    for rank, v in enumerate(feeders):
        widths[v] = share + (1 if rank < extra else 0)
    for v in range(n - 3, 0, -1):
        if not matrix[v, n - 1]:
            widths[v] = max(widths[d] for d in range(v + 1, n - 1) if matrix[v, d])
    return widths


def run_cell(x: torch.Tensor, matrix: np.ndarray, widths: Sequence[int],
             project: Callable[[int, torch.Tensor], torch.Tensor],
             vertex: Callable[[int, torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """One cell's computation on a pruned ``matrix`` with vertex ``widths``: ``project(v, x)``
    maps the input to vertex ``v``'s width, ``vertex(v, t)`` applies ``v``'s operation."""
    n = matrix.shape[0]
    states: list[torch.Tensor] = [x]
    for v in range(1, n - 1):
        width = widths[v]
        total = project(v, x) if matrix[0, v] else None
        for src in range(1, v):
            if matrix[src, v]:
                term = states[src][:, :width]
                total = term if total is None else total + term
        states.append(vertex(v, total))
    outputs = [states[v] for v in range(1, n - 1) if matrix[v, n - 1]]
    out = torch.cat(outputs, dim=1) if len(outputs) > 1 else (outputs[0] if outputs else None)
    if matrix[0, n - 1]:
        projected = project(n - 1, x)
        out = projected if out is None else out + projected
    return out


class NB101Cell(nn.Module):
    """One cell of a pruned NAS-Bench-101 spec (every vertex lies on an input-output path)."""

    def __init__(self, matrix: np.ndarray, ops: Sequence[str], c_in: int, c_out: int):
        super().__init__()
        self.matrix = np.asarray(matrix, dtype=bool)
        n = self.matrix.shape[0]
        self.widths = vertex_channels(c_in, c_out, self.matrix)
        self.vertex_ops = nn.ModuleDict(
            {str(v): make_vertex_op(ops[v], self.widths[v]) for v in range(1, n - 1)})
        self.projections = nn.ModuleDict(
            {str(v): ConvBNReLU(c_in, self.widths[v], 1) for v in range(1, n)
             if self.matrix[0, v]})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_cell(x, self.matrix, self.widths,
                        lambda v, t: self.projections[str(v)](t),
                        lambda v, t: self.vertex_ops[str(v)](t))


def build_skeleton(net: nn.Module, make_cell: Callable[[int, int], nn.Module],
                   stem_channels: int, num_stacks: int, cells_per_stack: int, in_channels: int,
                   num_classes: int) -> None:
    """Give ``net`` NAS-Bench-101's macro skeleton with ``make_cell(c_in, c_out)`` as its cells.

    Sets ``stem``, ``cells`` (max pools between stacks), ``pool`` and ``classifier`` and
    initializes the weights; a network and a supernet built on it share module names.
    """
    if stem_channels < 1 or num_stacks < 1 or cells_per_stack < 1:
        raise ValueError("stem_channels, num_stacks and cells_per_stack must be positive")
    net.stem = ConvBNReLU(in_channels, stem_channels, 3)
    layers: list[nn.Module] = []
    c_in = c_out = stem_channels
    for stack in range(num_stacks):
        if stack > 0:
            layers.append(nn.MaxPool2d(2, stride=2))
            c_out *= 2
        for _ in range(cells_per_stack):
            layers.append(make_cell(c_in, c_out))
            c_in = c_out
    net.cells = nn.Sequential(*layers)
    net.pool = nn.AdaptiveAvgPool2d(1)
    net.classifier = nn.Linear(c_out, num_classes)
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
            nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_out))
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.01)
            nn.init.zeros_(module.bias)


class NB101Network(nn.Module):
    """Stem, ``num_stacks`` stacks of ``cells_per_stack`` cells, global pooling, classifier."""

    def __init__(self, matrix: Sequence[Sequence[int]], ops: Sequence[str],
                 stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3,
                 in_channels: int = 3, num_classes: int = 10):
        super().__init__()
        m = np.asarray(matrix, dtype=np.int8)
        build_skeleton(self, lambda c_in, c_out: NB101Cell(m, ops, c_in, c_out), stem_channels,
                       num_stacks, cells_per_stack, in_channels, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.cells(self.stem(x))).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
