"""Small synthetic benchmarks, for tests and the predictor conformance suite.

NAS-Bench-201 by default; NAS-Bench-101 and DARTS (``space=``) on tiny networks of their own.
Accuracies are a deterministic function of a cell's operations plus seed noise, so a predictor
that learns anything ranks the cells better than chance. The benchmark's live data source is
``"synthetic"`` (random tensors), registered when this module is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from benchmarks.live import register_live_dataset
from benchmarks.tabular import TabularBenchmark
from predictors.base import LiveSource
from predictors.spaces import get_space

#: A tiny network configuration: every cell builds and runs in milliseconds.
NETWORK = {"channels": 4, "cells_per_stage": 1, "in_channels": 1, "num_classes": 10,
           "stem_stride": 2, "input_shape": [1, 28, 28]}
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_acc")
#: How much each operation adds to a cell's accuracy.
OP_QUALITY = {"none": 0.0, "skip_connect": 1.0, "avg_pool_3x3": 1.5, "nor_conv_1x1": 2.5,
              "nor_conv_3x3": 3.5}
#: Per space: its tiny network configuration and its operations' quality.
SPACES: dict[str, tuple[dict, dict[str, float]]] = {
    "nb201": (NETWORK, OP_QUALITY),
    "nb101": ({"stem_channels": 4, "cells_per_stack": 1, "in_channels": 1, "num_classes": 10,
               "input_shape": [1, 16, 16]},
              {"maxpool3x3": 1.5, "conv1x1-bn-relu": 2.5, "conv3x3-bn-relu": 3.5}),
    "darts": ({"channels": 4, "layers": 3, "stem_multiplier": 1, "in_channels": 1,
               "num_classes": 10, "input_shape": [1, 16, 16]},
              {"skip_connect": 1.0, "max_pool_3x3": 1.2, "avg_pool_3x3": 1.5,
               "dil_conv_3x3": 2.5, "dil_conv_5x5": 2.8, "sep_conv_3x3": 3.5,
               "sep_conv_5x5": 3.2}),
}


def cell_ops(arch) -> list[str]:
    """The operations of an NB201, NB101 or DARTS architecture."""
    if arch.space == "nb101":
        return list(arch.spec[1][1:-1])
    if arch.space == "darts":
        return [op for cell in arch.spec for op, _ in cell]
    return list(arch.spec)


def synthetic_live_source(metadata: dict) -> LiveSource:
    """Random input tensors and labels of the benchmark's network input shape."""
    shape = tuple(metadata["network"]["input_shape"])
    classes = int(metadata["network"]["num_classes"])

    def batch(split: str, size: int, seed: int):
        gen = torch.Generator().manual_seed(seed * 2 + (split == "val"))
        return torch.randn(size, *shape, generator=gen), torch.randint(classes, (size,),
                                                                       generator=gen)

    return LiveSource(batch=batch, name="synthetic random tensors")


register_live_dataset("synthetic", synthetic_live_source)


def make_synthetic_benchmark(n: int = 300, seeds: int = 2, epochs: int = 12, seed: int = 0,
                             name: str | None = None, zero_cost: tuple[str, ...] = (),
                             space: str = "nb201") -> TabularBenchmark:
    """Cells of ``space`` whose accuracy is a deterministic function of the ops plus seed noise
    (named ``synthetic-<space>`` unless ``name`` is given).

    ``zero_cost`` measures get tabulated columns ``zc_<m>`` (cell quality plus noise) and
    ``zc_<m>_time`` (seconds, growing with the convolutions), as a benchmark's score table."""
    network, op_quality = SPACES[space]
    name = name or f"synthetic-{space}"
    space_name, space = space, get_space(space)
    rng = np.random.default_rng(seed)
    archs, seen = [], set()
    while len(archs) < n:
        arch = space.sample(rng)
        if arch not in seen:
            seen.add(arch)
            archs.append(arch)
    quality = np.array([sum(op_quality[op] for op in cell_ops(a)) for a in archs])
    final = 60.0 + 30.0 * quality / quality.max()  # percent
    epoch = np.arange(1, epochs + 1)
    values = np.empty((n, seeds, epochs, len(METRICS)), dtype=np.float32)
    for s in range(seeds):
        noisy = final + rng.normal(0.0, 1.0, n)
        curve = noisy[:, None] * (1.0 - np.exp(-epoch[None, :] / 3.0))
        curve = curve + rng.normal(0.0, 0.3, curve.shape)
        values[:, s, :, 3] = curve                      # val_acc
        values[:, s, :, 4] = curve - 1.0                # test_acc
        values[:, s, :, 1] = curve + 2.0                # train_acc
        values[:, s, :, 2] = (100.0 - curve) / 40.0     # val_loss
        values[:, s, :, 0] = (100.0 - curve) / 45.0     # train_loss
    convs = np.array([sum("conv" in op for op in cell_ops(a)) for a in archs], float)
    params = 1000.0 + 400.0 * convs
    columns = [params, params * 50.0, 2.0 + 0.5 * convs]
    zc_names = [f"zc_{m}" for m in zero_cost] + [f"zc_{m}_time" for m in zero_cost]
    columns += [quality + rng.normal(0.0, 0.5, n) for _ in zero_cost]
    columns += [0.1 + 0.05 * convs + 0.01 * k for k in range(len(zero_cost))]
    static = np.stack(columns, axis=1).astype(np.float32)
    metadata = {
        "name": name,
        "space": space_name,
        "dataset": "synthetic",
        "metrics": {"train_loss": {"direction": "min"}, "train_acc": {"direction": "max"},
                    "val_loss": {"direction": "min"},
                    "val_acc": {"direction": "max", "unit": "percent"},
                    "test_acc": {"direction": "max", "unit": "percent"}},
        "objective": "val_acc",
        "epochs": epochs,
        "seeds": seeds,
        "static": ["params", "flops", "epoch_time", *zc_names],
        "cost": {"estimated": False},
        "network": network,
        "live": {"dataset": "synthetic"},
    }
    return TabularBenchmark(metadata, archs, values, static)


def write_synthetic_benchmark(directory: Path, **kwargs) -> Path:
    """Write :func:`make_synthetic_benchmark` (same keywords) into ``directory``."""
    return make_synthetic_benchmark(**kwargs).save(directory)


def with_properties(bench: TabularBenchmark, names: Sequence[str], seed: int = 7
                    ) -> TabularBenchmark:
    """``bench`` plus a random column for each tabulated property in ``names`` it lacks."""
    extra = [p for p in names if p not in bench.static_names]
    if not extra:
        return bench
    rng = np.random.default_rng(seed)
    static = np.concatenate([bench.static, rng.normal(size=(len(bench), len(extra)))], axis=1)
    meta = {**bench.metadata, "static": bench.static_names + extra}
    return TabularBenchmark(meta, bench.archs, bench.values, static.astype(np.float32))
