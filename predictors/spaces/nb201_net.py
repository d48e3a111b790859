"""Torch modules of the NAS-Bench-201 macro skeleton: stem, 3 stages of cells, 2 reductions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int, affine: bool, track: bool) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, affine, track)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, affine, track)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 op {name!r}")


class NB201Cell(nn.Module):
    """One cell: node j = sum over i<j of op_ij(node i); output is node 3."""

    def __init__(self, ops: Sequence[str], channels: int, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__()
        self.ops = tuple(ops)
        self.edges = nn.ModuleList(
            make_op(op, channels, affine, track_running_stats) for op in self.ops
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in range(1, 4):
            total = None
            for e, (src, dst) in enumerate(EDGES):
                if dst != j or self.ops[e] == "none":
                    continue
                term = self.edges[e](nodes[src])
                total = term if total is None else total + term
            nodes.append(total if total is not None else torch.zeros_like(x))
        return nodes[-1]


class ResidualReduction(nn.Module):
    """NAS-Bench-201's basic residual block between stages (stride 2, channels doubled)."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True, track: bool = True):
        super().__init__()
        self.a = ReLUConvBN(c_in, c_out, 3, 2, affine, track)
        self.b = ReLUConvBN(c_out, c_out, 3, 1, affine, track)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2, stride=2, padding=0, ceil_mode=True),
            nn.Conv2d(c_in, c_out, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.b(self.a(x))


def build_skeleton(net: nn.Module, make_cell: Callable[[int], nn.Module], channels: int,
                   cells_per_stage: int, in_channels: int, num_classes: int, stem_stride: int,
                   affine: bool, track_running_stats: bool) -> None:
    """Give ``net`` the NAS-Bench-201 macro skeleton with ``make_cell(width)`` as its cells.

    Sets ``stem``, ``cells``, ``head``, ``pool`` and ``classifier``; a network and a supernet
    built on it share module names, so their state dicts map key by key.
    """
    if channels < 1 or cells_per_stage < 1:
        raise ValueError("channels and cells_per_stage must be positive")
    c = channels
    net.stem = nn.Sequential(
        nn.Conv2d(in_channels, c, 3, stride=stem_stride, padding=1, bias=False),
        nn.BatchNorm2d(c),
    )
    layers: list[nn.Module] = []
    for stage in range(3):
        width = c * 2**stage
        if stage > 0:
            layers.append(ResidualReduction(width // 2, width, affine, track_running_stats))
        layers.extend(make_cell(width) for _ in range(cells_per_stage))
    net.cells = nn.Sequential(*layers)
    net.head = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU(inplace=False))
    net.pool = nn.AdaptiveAvgPool2d(1)
    net.classifier = nn.Linear(4 * c, num_classes)


class NB201Network(nn.Module):
    """Stem conv, three stages of ``cells_per_stage`` cells (C, 2C, 4C), classifier head.

    ``stem_stride=2`` halves the input resolution at the stem (cheaper on small images).
    """

    def __init__(self, ops: Sequence[str], channels: int = 16, cells_per_stage: int = 5,
                 in_channels: int = 3, num_classes: int = 10, stem_stride: int = 1,
                 affine: bool = True, track_running_stats: bool = True):
        super().__init__()
        self.ops = tuple(ops)
        build_skeleton(self, lambda width: NB201Cell(self.ops, width, affine, track_running_stats),
                       channels, cells_per_stage, in_channels, num_classes, stem_stride, affine,
                       track_running_stats)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.cells(self.stem(x)))
        return self.pool(out).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
