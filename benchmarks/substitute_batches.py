"""Batches that stand in for the images of a benchmark that ships none (``live.SUBSTITUTES``).

All are shaped for the benchmark's network (``metadata["network"]["input_shape"]``):
``gaussian`` is standard-normal noise, ``fashion-mnist-resized`` is Fashion-MNIST resized to the
network's input size and repeated over its channels, ``digits-resized`` the same for
scikit-learn's bundled handwritten digits (8x8 images, no download).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
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


#: Examples of scikit-learn's digits that form the ``val`` split (the rest are ``train``),
#: after a permutation by ``numpy.random.default_rng(0)``.
DIGITS_VAL = 500


@functools.lru_cache(maxsize=1)
def _digits() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """scikit-learn's 1,797 8x8 digits as ``[N, 1, 8, 8]`` float tensors standardized by the
    mean and std of all pixels, with their labels, split into ``train`` and ``val``."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = torch.from_numpy(data.images.astype(np.float32))[:, None]
    x = (x - x.mean()) / x.std()
    y = torch.from_numpy(data.target.astype(np.int64))
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(y)))
    val, train = order[:DIGITS_VAL], order[DIGITS_VAL:]
    return {"train": (x[train], y[train]), "val": (x[val], y[val])}


def digits_source(classes: int = 10) -> LiveSource:
    """scikit-learn's digits at 8x8: ``batch(split, size, seed)`` draws ``size`` examples of
    the split with ``numpy.random.default_rng(seed)``, distinct while the split has enough
    (1,297 train, 500 val), with replacement beyond; labels modulo ``classes``."""

    def batch(split: str, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        if split not in ("train", "val"):
            raise ValueError(f"digits batches come from 'train' or 'val', not {split!r}")
        x, y = _digits()[split]
        pick = np.random.default_rng(seed).choice(len(y), size, replace=size > len(y))
        index = torch.from_numpy(pick)
        return x[index].clone(), y[index] % classes

    return LiveSource(batch=batch, name="scikit-learn digits (1,797 8x8 images)")


def digits_resized_source(metadata: Mapping[str, Any]) -> LiveSource:
    """scikit-learn's handwritten digits shaped for this network (bilinear resize, channels
    repeated); a data source available offline wherever scikit-learn is installed."""
    shape, classes = network_shape(metadata)
    base = digits_source(classes)
    return resized_source(base, shape, f"{base.name}, resized to {shape[1]}x{shape[2]} and "
                          f"repeated to {shape[0]} channels")
