"""Shared fixtures: a tiny synthetic NAS-Bench-201 tabular benchmark and example predictors.

Other test modules reuse ``synthetic_bench_dir`` (a benchmark directory), ``synthetic_bench``
(the loaded benchmark), ``make_synthetic_benchmark`` / ``write_synthetic_benchmark`` (from
``benchmarks.synthetic``, to build variants) and the example predictors registered below through
the public API. Every test runs with one torch intra-op thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from benchmarks.synthetic import (  # noqa: F401  (re-exported to the test modules)
    NETWORK,
    make_synthetic_benchmark,
    write_synthetic_benchmark,
)
from benchmarks.tabular import TabularBenchmark, load_benchmark
from predictors import DataNeeds, FitContext, Prediction, Predictor, QueryContext, register
from predictors.encodings import encode


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tests run tiny networks: one intra-op thread avoids oversubscribing the cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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

    needs = DataNeeds(labels=True)
    predicts_objective = True
    experiment = "vary_train_size"

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
    experiment = "vary_fidelity"

    def __init__(self, window: int = 1):
        self.window = window

    def _fit(self, ctx: FitContext) -> None:
        pass

    def _query(self, archs, ctx: QueryContext) -> Prediction:
        return Prediction(ctx.curves["val_acc"][:, -self.window:].mean(axis=1))


@register("example-live-norm", family="zero_cost")
class ExampleLiveNorm(Predictor):
    """Output norm of the untrained network on one live batch (uses network config + data)."""

    needs = DataNeeds(labels=False, live=True, network=True, properties=("params",))
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
