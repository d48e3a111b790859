"""The README's promises that a test can check."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from predictors import FitContext, QueryContext, make
from predictors.registry import available, family_of
from predictors.spaces import get_space

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_plugin_example_is_registered_and_learns():
    assert "my-kernel-ridge" in available()
    assert family_of("my-kernel-ridge") == "model_based"
    space = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = list({space.sample(rng) for _ in range(160)})
    labels = np.array([sum(op.startswith("nor_conv") for op in a.spec) for a in archs], float)
    pred = make("my-kernel-ridge").fit(FitContext(space, archs[:120], labels[:120]))
    scores = pred.query(archs[120:], QueryContext(space)).mean
    assert np.corrcoef(scores, labels[120:])[0, 1] > 0.8


def test_plugin_check_example_runs():
    """The README's two lines for a plug-in author check its example predictor."""
    block = README.partition("<!-- plugin-check -->")[2].split("```python", 1)[1].split("```")[0]
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    checks = namespace["test_my_kernel_ridge"].pytestmark[0].args[1]
    assert {check.name for check in checks} >= {"predictions_are_finite",
                                                 "ranks_better_than_random"}


def test_readme_opens_with_the_two_commands():
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    lines = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    first = "bash scripts/setup.sh && . scripts/activate && predbench reproduce --trials 3"
    assert lines == [first, "python -m pytest"]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "bash scripts/setup.sh" in ci and "python -m pytest" in ci


def test_readme_counts_the_registered_predictors():
    assert f"**{len(_builtin())} registered predictors**" in README


def _builtin() -> list[str]:
    return [n for n, cls in available().items() if cls.__module__.startswith("predictors.")]
