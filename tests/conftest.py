"""Shared fixtures: a tiny synthetic NAS-Bench-201 tabular benchmark and example predictors.

Other test modules reuse ``synthetic_bench_dir`` (a benchmark directory), ``synthetic_bench``
(the loaded benchmark), ``write_synthetic_benchmark`` (to write variants) and the example
predictors registered below through the public API.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from benchmarks.live import register_live_dataset
from benchmarks.tabular import TabularBenchmark, load_benchmark
from predictors import DataNeeds, FitContext, Prediction, Predictor, QueryContext, register
from predictors.base import LiveSource
from predictors.encodings import encode
from predictors.spaces import get_space

NETWORK = {"channels": 4, "cells_per_stage": 1, "in_channels": 1, "num_classes": 10,
           "stem_stride": 2, "input_shape": [1, 28, 28]}
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_acc")
OP_QUALITY = {"none": 0.0, "skip_connect": 1.0, "avg_pool_3x3": 1.5, "nor_conv_1x1": 2.5,
              "nor_conv_3x3": 3.5}


# --- a random-tensor live source -------------------------------------------------------------
def synthetic_live_source(metadata: dict) -> LiveSource:
    shape = tuple(metadata["network"]["input_shape"])
    classes = int(metadata["network"]["num_classes"])

    def batch(split: str, size: int, seed: int):
        gen = torch.Generator().manual_seed(seed * 2 + (split == "val"))
        return torch.randn(size, *shape, generator=gen), torch.randint(classes, (size,),
                                                                       generator=gen)

    return LiveSource(batch=batch, name="synthetic random tensors")


register_live_dataset("synthetic", synthetic_live_source)

# The tests run tiny networks: one intra-op thread avoids oversubscribing the cores.
torch.set_num_threads(1)


# --- the synthetic benchmark -----------------------------------------------------------------
def make_synthetic_benchmark(n: int = 300, seeds: int = 2, epochs: int = 12, seed: int = 0,
                             name: str = "synthetic-nb201", zero_cost: tuple[str, ...] = ()
                             ) -> TabularBenchmark:
    """NB201 cells whose accuracy is a deterministic function of the ops plus seed noise.

    ``zero_cost`` measures get tabulated columns ``zc_<m>`` (cell quality plus noise) and
    ``zc_<m>_time`` (seconds, growing with the convolutions), as a benchmark's score table."""
    space = get_space("nb201")
    rng = np.random.default_rng(seed)
    archs, seen = [], set()
    while len(archs) < n:
        arch = space.sample(rng)
        if arch not in seen:
            seen.add(arch)
            archs.append(arch)
    quality = np.array([sum(OP_QUALITY[op] for op in a.spec) for a in archs])
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
    convs = np.array([sum(op.startswith("nor_conv") for op in a.spec) for a in archs], float)
    params = 1000.0 + 400.0 * convs
    columns = [params, params * 50.0, 2.0 + 0.5 * convs]
    zc_names = [f"zc_{m}" for m in zero_cost] + [f"zc_{m}_time" for m in zero_cost]
    columns += [quality + rng.normal(0.0, 0.5, n) for _ in zero_cost]
    columns += [0.1 + 0.05 * convs + 0.01 * k for k in range(len(zero_cost))]
    static = np.stack(columns, axis=1).astype(np.float32)
    metadata = {
        "name": name,
        "space": "nb201",
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
        "network": NETWORK,
        "live": {"dataset": "synthetic"},
    }
    return TabularBenchmark(metadata, archs, values, static)


def write_synthetic_benchmark(directory: Path, **kwargs) -> Path:
    return make_synthetic_benchmark(**kwargs).save(directory)


@pytest.fixture(scope="session")
def synthetic_bench_dir(tmp_path_factory) -> Path:
    return write_synthetic_benchmark(tmp_path_factory.mktemp("data") / "synthetic-nb201")


@pytest.fixture(scope="session")
def synthetic_bench(synthetic_bench_dir) -> TabularBenchmark:
    return load_benchmark(synthetic_bench_dir)


# --- the README's plug-in example, executed so the conformance suite checks it ----------------
def _register_readme_example() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    _, _, rest = readme.partition("<!-- plugin-example -->")
    code = rest.split("```python", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec", dont_inherit=True), {"__name__": "readme_example"})


_register_readme_example()


# --- example predictors, registered through the public API -----------------------------------
@register("example-ridge", family="model_based")
class ExampleRidge(Predictor):
    """The README's plug-in example: ridge regression on the adjacency one-hot encoding."""

    needs = DataNeeds(labels=True, encoding="adjacency_one_hot")

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def _fit(self, ctx: FitContext) -> None:
        x = encode(ctx.archs, "adjacency_one_hot", ctx.space)
        self.model_ = Ridge(alpha=self.alpha).fit(x, ctx.labels)

    def _query(self, archs, ctx: QueryContext) -> Prediction:
        return Prediction(self.model_.predict(encode(archs, "adjacency_one_hot", ctx.space)))


@register("example-last-epoch", family="learning_curve")
class ExampleLastEpoch(Predictor):
    """Scores an architecture by its validation accuracy at the last epoch it was trained."""

    needs = DataNeeds(labels=False, curve_metrics=("val_acc",))

    def __init__(self, window: int = 1):
        self.window = window

    def _fit(self, ctx: FitContext) -> None:
        pass

    def _query(self, archs, ctx: QueryContext) -> Prediction:
        return Prediction(ctx.curves["val_acc"][:, -self.window:].mean(axis=1))


@register("example-live-norm", family="zero_cost")
class ExampleLiveNorm(Predictor):
    """Output norm of the untrained network on one live batch (uses network config + data)."""

    needs = DataNeeds(labels=False, live=True, properties=("params",))
    conformance_params = {"batch_size": 4}

    def __init__(self, batch_size: int = 8):
        self.batch_size = batch_size

    def _fit(self, ctx: FitContext) -> None:
        pass

    def _query(self, archs, ctx: QueryContext) -> Prediction:
        cfg = {k: v for k, v in ctx.network.items() if k != "input_shape"}
        x, _ = ctx.live.batch("train", self.batch_size, 0)
        scores = []
        for arch in archs:
            with torch.random.fork_rng(), torch.no_grad():
                torch.manual_seed(int(ctx.rng.integers(2**31)))
                net = ctx.space.to_network(arch, **cfg)
                scores.append(float(net(x).norm()))
        return Prediction(np.asarray(scores) + 0.0 * ctx.properties["params"])
