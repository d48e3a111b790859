"""Batches that stand in for the images of a benchmark that ships none (``live.SUBSTITUTES``).

Both are shaped for the benchmark's network (``metadata["network"]["input_shape"]``):
``gaussian`` is standard-normal noise, ``fashion-mnist-resized`` is Fashion-MNIST resized to the
network's input size and repeated over its channels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from benchmarks.live import LiveSourceError, dataset_source
from predictors.base import LiveSource


def network_shape(metadata: Mapping[str, Any]) -> tuple[list[int], int]:
    """Input shape and number of classes of the benchmark's network."""
    network = metadata.get("network") or {}
    if "input_shape" not in network:
        raise LiveSourceError(
            f"benchmark {metadata.get('name')!r} has no network configuration "
            "(metadata \"network\" with \"input_shape\"), so no batches can be shaped for it"
        )
    return [int(v) for v in network["input_shape"]], int(network.get("num_classes", 10))


def gaussian_source(metadata: Mapping[str, Any]) -> LiveSource:
    """Standard-normal images of the benchmark's input shape, uniform random labels."""
    shape, classes = network_shape(metadata)

    def batch(split: str, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        offset = {"train": 0, "val": 1}.get(split, 2)
        gen = torch.Generator().manual_seed(int(seed) * 3 + offset)
        return torch.randn(size, *shape, generator=gen), torch.randint(classes, (size,),
                                                                       generator=gen)

    return LiveSource(batch=batch, name=f"gaussian noise {shape}, {classes} random classes")


def resized_source(base: LiveSource, shape: Sequence[int], name: str) -> LiveSource:
    """``base``'s batches bilinearly resized to ``shape[1:]``, channels repeated to ``shape[0]``."""
    channels, height, width = (int(v) for v in shape)

    def batch(split: str, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = base.batch(split, size, seed)
        x = torch.nn.functional.interpolate(x, size=(height, width), mode="bilinear",
                                            align_corners=False)
        if x.shape[1] != channels:
            if x.shape[1] != 1:
                raise LiveSourceError(f"cannot map {x.shape[1]} channels onto {channels}")
            x = x.repeat(1, channels, 1, 1)
        return x.contiguous(), y

    return LiveSource(batch=batch, name=name)


def fashion_mnist_resized_source(metadata: Mapping[str, Any]) -> LiveSource:
    """Fashion-MNIST (default splits of the project's own benchmark) shaped for this network."""
    shape, _ = network_shape(metadata)
    base = dataset_source("fashion-mnist", {"dataset": "fashion-mnist"})
    return resized_source(base, shape, f"{base.name}, resized to {shape[1]}x{shape[2]} and "
                          f"repeated to {shape[0]} channels")
