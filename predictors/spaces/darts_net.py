"""Torch modules of the DARTS / NAS-Bench-301 CIFAR-10 network that NAS-Bench-Suite-Zero scored.

The network is NASLib's NAS-Bench-301 network as NAS-Bench-Suite-Zero scored it (C = 32): a
3x3 conv-BN stem with ``stem_multiplier x C`` channels, ``layers`` cells (reduction cells at one
and two thirds of the depth, each doubling the channels and halving the resolution), global
average pooling and a linear classifier. Each cell preprocesses its two inputs (c_{k-2},
c_{k-1}) to ``C`` channels with a 1x1 ReLU-conv-BN, or a factorized reduction where c_{k-2}
still has twice the resolution; node ``j`` sums two operations on earlier nodes and the cell
outputs the concatenation of its four nodes. Inside the cells BatchNorm has no affine terms, as
in DARTS. An optional auxiliary head (as in DARTS' evaluation network, used only in training)
is off by default: NAS-Bench-Suite-Zero's parameter counts do not include one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from predictors.spaces.nb201_net import ReLUConvBN


class FactorizedReduce(nn.Module):
    """Halve the resolution with two offset 1x1 stride-2 convolutions, concatenated."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True):
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def _separable(c: int, kernel: int, stride: int, dilation: int) -> list[nn.Module]:
    """ReLU, depthwise conv, pointwise conv, BatchNorm (no affine terms)."""
    padding = dilation * (kernel - 1) // 2
    return [
        nn.ReLU(inplace=False),
        nn.Conv2d(c, c, kernel, stride=stride, padding=padding, dilation=dilation, groups=c,
                  bias=False),
        nn.Conv2d(c, c, 1, bias=False),
        nn.BatchNorm2d(c, affine=False),
    ]


def make_op(name: str, c: int, stride: int) -> nn.Module:
    """One DARTS operation on ``c`` channels (``stride`` 2 on a reduction cell's inputs)."""
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine=False)
    if name == "max_pool_3x3":
        return nn.Sequential(nn.MaxPool2d(3, stride=stride, padding=1),
                             nn.BatchNorm2d(c, affine=False))
    if name == "avg_pool_3x3":
        return nn.Sequential(nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False),
                             nn.BatchNorm2d(c, affine=False))
    if name in ("sep_conv_3x3", "sep_conv_5x5"):
        kernel = int(name[-1])
        return nn.Sequential(*_separable(c, kernel, stride, 1), *_separable(c, kernel, 1, 1))
    if name in ("dil_conv_3x3", "dil_conv_5x5"):
        return nn.Sequential(*_separable(c, int(name[-1]), stride, 2))
    raise ValueError(f"unknown DARTS op {name!r}")


def preprocessors(c_prev_prev: int, c_prev: int, c: int,
                  reduction_prev: bool) -> tuple[nn.Module, nn.Module]:
    """A cell's 1x1 ReLU-conv-BN of its two inputs to ``c`` channels (a factorized reduction
    of c_{k-2} where the previous cell reduced)."""
    first = FactorizedReduce(c_prev_prev, c) if reduction_prev else ReLUConvBN(c_prev_prev, c, 1)
    return first, ReLUConvBN(c_prev, c, 1)


class DartsCell(nn.Module):
    """A normal or reduction cell of eight ``(op, input)`` pairs, two per node."""

    def __init__(self, pairs: Sequence[tuple[str, int]], c_prev_prev: int, c_prev: int, c: int,
                 reduction: bool, reduction_prev: bool):
        super().__init__()
        self.inputs = tuple(int(src) for _, src in pairs)
        self.preprocess0, self.preprocess1 = preprocessors(c_prev_prev, c_prev, c, reduction_prev)
        self.ops = nn.ModuleList(
            make_op(op, c, 2 if reduction and src < 2 else 1) for op, src in pairs)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(len(self.ops) // 2):
            a, b = 2 * k, 2 * k + 1
            states.append(self.ops[a](states[self.inputs[a]])
                          + self.ops[b](states[self.inputs[b]]))
        return torch.cat(states[2:], dim=1)


class AuxiliaryHead(nn.Module):
    """DARTS' auxiliary classifier on an 8x8 feature map (training-time only)."""

    def __init__(self, c: int, num_classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


#: ``make_cell(reduction, reduction_prev, c_prev_prev, c_prev, c)`` builds one cell.
MakeCell = Callable[[bool, bool, int, int, int], nn.Module]


def build_skeleton(net: nn.Module, make_cell: MakeCell, channels: int, layers: int,
                   stem_multiplier: int, in_channels: int, num_classes: int,
                   auxiliary: bool) -> None:
    """Give ``net`` the DARTS macro skeleton with ``make_cell`` as its cells.

    Sets ``stem``, ``cells`` (reductions at one and two thirds of the depth), ``aux_index``,
    ``auxiliary_head``, ``aux_logits``, ``pool`` and ``classifier``; a network and a supernet
    built on it share module names.
    """
    if channels < 1 or channels % 2 or layers < 3 or stem_multiplier < 1:
        raise ValueError("channels must be even and positive, layers at least 3, "
                         "stem_multiplier positive")
    c_stem = stem_multiplier * channels
    net.stem = nn.Sequential(nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False),
                             nn.BatchNorm2d(c_stem))
    reductions = {layers // 3, 2 * layers // 3}
    c_prev_prev, c_prev, c = c_stem, c_stem, channels
    cells: list[nn.Module] = []
    reduction_prev = False
    net.aux_index = 2 * layers // 3 if auxiliary else -1
    c_aux = 0
    for i in range(layers):
        reduction = i in reductions
        if reduction:
            c *= 2
        cells.append(make_cell(reduction, reduction_prev, c_prev_prev, c_prev, c))
        reduction_prev = reduction
        c_prev_prev, c_prev = c_prev, 4 * c
        if i == net.aux_index:
            c_aux = c_prev
    net.cells = nn.ModuleList(cells)
    net.auxiliary_head = AuxiliaryHead(c_aux, num_classes) if auxiliary else None
    net.aux_logits = None
    net.pool = nn.AdaptiveAvgPool2d(1)
    net.classifier = nn.Linear(c_prev, num_classes)


class DartsNetwork(nn.Module):
    """Stem, ``layers`` cells (two reductions), global pooling, classifier.

    ``forward`` returns the logits; with ``auxiliary=True`` the auxiliary logits of the last
    forward pass in training mode are kept in ``aux_logits``.
    """

    def __init__(self, normal: Sequence[tuple[str, int]], reduce: Sequence[tuple[str, int]],
                 channels: int = 32, layers: int = 8, stem_multiplier: int = 3,
                 in_channels: int = 3, num_classes: int = 10, auxiliary: bool = False):
        super().__init__()
        self.aux_logits: torch.Tensor | None = None

        def make_cell(reduction: bool, reduction_prev: bool, c_prev_prev: int, c_prev: int,
                      c: int) -> nn.Module:
            return DartsCell(reduce if reduction else normal, c_prev_prev, c_prev, c,
                             reduction, reduction_prev)

        build_skeleton(self, make_cell, channels, layers, stem_multiplier, in_channels,
                       num_classes, auxiliary)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1)
            if i == self.aux_index and self.training and self.auxiliary_head is not None:
                self.aux_logits = self.auxiliary_head(s1)
        return self.pool(s1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
