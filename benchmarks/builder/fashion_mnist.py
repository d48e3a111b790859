"""Fashion-MNIST from the Debian package ``dataset-fashion-mnist``: IDX parsing, splits, batches.

Splits are fixed by a seed: a permutation of the 60,000 training images puts the first
``val_size`` in the validation split and the next ``train_size`` in the training split (so a
larger training split extends a smaller one); the test split is the first ``test_size`` of the
10,000 test images. Images are scaled to [0, 1] and normalized with the mean and standard
deviation of all 60,000 training images.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from predictors.base import LiveSource

if TYPE_CHECKING:
    import torch

DATA_DIR_ENV = "PREDBENCH_FASHION_MNIST"
DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
NUM_TRAIN_POOL = 60_000
NUM_TEST_POOL = 10_000
SPLITS = ("train", "val", "test")


class DatasetMissingError(FileNotFoundError):
    """The Fashion-MNIST files are not installed."""


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV, DEFAULT_DIR))


def read_idx(path: Path) -> np.ndarray:
    """Parse one gzipped IDX file (unsigned-byte data) into an array of its declared shape."""
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: {data.size} values for shape {dims}")
    return data.reshape(dims)


@lru_cache(maxsize=1)
def load_raw() -> dict[str, np.ndarray]:
    """The four arrays as uint8 (cached per process); clear error when the package is missing."""
    root = data_dir()
    missing = [name for name in FILES.values() if not (root / name).is_file()]
    if missing:
        raise DatasetMissingError(
            f"Fashion-MNIST not found in {root} (missing {', '.join(missing)}); install the "
            f"Debian package: `apt-get install dataset-fashion-mnist` (or point ${DATA_DIR_ENV} "
            "at a directory holding the four IDX .gz files)"
        )
    out = {key: read_idx(root / name) for key, name in FILES.items()}
    if out["train_images"].shape != (NUM_TRAIN_POOL, 28, 28) or out["test_images"].shape != (
        NUM_TEST_POOL, 28, 28
    ):
        raise ValueError(f"unexpected Fashion-MNIST shapes in {root}")
    return out


@lru_cache(maxsize=1)
def normalization() -> tuple[float, float]:
    """Mean and standard deviation of all training pixels scaled to [0, 1]."""
    pix = load_raw()["train_images"].astype(np.float64) / 255.0
    return float(pix.mean()), float(pix.std())


@dataclass(frozen=True)
class SplitSpec:
    """Sizes and seed of the fixed splits (see the module docstring)."""

    seed: int = 0
    train_size: int = 10_000
    val_size: int = 10_000
    test_size: int = NUM_TEST_POOL

    def __post_init__(self) -> None:
        if self.train_size < 1 or self.val_size < 1 or self.test_size < 1:
            raise ValueError("split sizes must be positive")
        if self.train_size + self.val_size > NUM_TRAIN_POOL:
            raise ValueError(
                f"train_size + val_size = {self.train_size + self.val_size} exceeds the "
                f"{NUM_TRAIN_POOL} Fashion-MNIST training images"
            )
        if self.test_size > NUM_TEST_POOL:
            raise ValueError(f"test_size {self.test_size} exceeds {NUM_TEST_POOL} test images")

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": "fashion-mnist",
            "seed": self.seed,
            "train_size": self.train_size,
            "val_size": self.val_size,
            "test_size": self.test_size,
            "rule": (
                "permutation of the 60,000 training images by numpy default_rng(seed): first "
                "val_size -> val, next train_size -> train; test = first test_size of the 10,000 "
                "test images; pixels/255 normalized by the training-pool mean and std"
            ),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SplitSpec:
        return cls(
            seed=int(d.get("seed", 0)),
            train_size=int(d.get("train_size", 10_000)),
            val_size=int(d.get("val_size", 10_000)),
            test_size=int(d.get("test_size", NUM_TEST_POOL)),
        )


def split_indices(spec: SplitSpec) -> dict[str, np.ndarray]:
    """Indices of each split into its image pool (train/val: training pool; test: test pool)."""
    perm = np.random.default_rng(spec.seed).permutation(NUM_TRAIN_POOL)
    return {
        "val": perm[: spec.val_size],
        "train": perm[spec.val_size: spec.val_size + spec.train_size],
        "test": np.arange(spec.test_size),
    }


@lru_cache(maxsize=4)
def split_tensors(spec: SplitSpec) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Normalized ``[n, 1, 28, 28]`` float images and long labels per split (cached)."""
    import torch

    raw = load_raw()
    mean, std = normalization()
    idx = split_indices(spec)
    out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for split in SPLITS:
        pool = "test" if split == "test" else "train"
        images = raw[f"{pool}_images"][idx[split]].astype(np.float32) / 255.0
        x = torch.from_numpy((images - mean) / std).unsqueeze(1).contiguous()
        y = torch.from_numpy(raw[f"{pool}_labels"][idx[split]].astype(np.int64))
        out[split] = (x, y)
    return out


def live_source(metadata: dict[str, Any]) -> LiveSource:
    """Batches from a benchmark's own train/val split, described by ``metadata["live"]``.

    ``batch(split, size, seed)`` draws ``size`` distinct examples with ``default_rng(seed)``,
    so the same call always returns the same batch.
    """
    live = metadata.get("live", metadata)
    spec = SplitSpec.from_dict(live)

    def batch(split: str, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        if split not in ("train", "val"):
            raise ValueError(f"live batches come from 'train' or 'val', not {split!r}")
        x, y = split_tensors(spec)[split]
        if not 1 <= size <= len(y):
            raise ValueError(f"batch size {size} outside 1..{len(y)} for split {split!r}")
        pick = torch.from_numpy(np.random.default_rng(seed).choice(len(y), size, replace=False))
        return x[pick].clone(), y[pick].clone()

    return LiveSource(batch=batch, name=f"fashion-mnist ({spec.train_size} train, "
                      f"{spec.val_size} val, split seed {spec.seed})")
