"""Every registered predictor passes the conformance suite of ``predictors.testing``.

The example predictors of ``conftest.py`` and the README's plug-in example (registered through
the public API) are checked too. The parameter checks below are about the hyperparameter
declarations, which ``predictors.params`` enforces.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest
import torch

from predictors import Predictor, registry
from predictors.params import ParamError, bounds, check_params
from predictors.registry import PRESETS, available, make, preset_params
from predictors.testing import check_predictor, conformance_checks, parametrize_with_checks

NAMES = sorted(available())


def test_suite_is_not_empty():
    assert {"example-ridge", "my-kernel-ridge"} <= set(NAMES)


@parametrize_with_checks(NAMES)
def test_conformance(check):
    check()


#: On a machine with a GPU every predictor passes the suite with ``device="cuda"`` in its
#: contexts too (an empty, skipped parameter set where there is none).
@parametrize_with_checks(NAMES if torch.cuda.is_available() else [], device="cuda")
def test_conformance_on_gpu(check):
    check()


#: Encoded predictors of each kind of input, with tabulated zero-cost scores as extra features
#: (columns of a vector encoding; graph-level features of a graph network).
@parametrize_with_checks(["xgb", "mlp", "gcn", "bonas", "gates"],
                         params={"zc_features": ("synflow", "jacov")})
def test_conformance_with_zero_cost_features(check):
    check()


@pytest.mark.parametrize("name", NAMES)
def test_own_settings_pass_the_parameter_check_and_bounds_bite(name):
    cls = available()[name]
    presets = [preset_params(name, preset) for preset in PRESETS]
    for params in (make(name).get_params(), cls.conformance_params, *presets):
        check_params(cls, params)
    for param, interval in bounds(cls).items():
        if param in cls.param_names():
            outside = interval.low - 1 if interval.low > -np.inf else interval.high + 1
            with pytest.raises(ParamError, match=f"{param}=.* out of range"):
                check_params(cls, {param: outside})


# --- plug-in authors run the same suite on their own predictor -------------------------------
PLUGIN = '''
import numpy as np

from predictors import DataNeeds, Prediction, Predictor, register
from predictors.encodings import encode


@register("{name}", family="model_based")
class LeastSquares(Predictor):
    """Ridge regression on the adjacency one-hot encoding, solved in closed form."""

    needs = DataNeeds(labels=True)

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def _fit(self, ctx):
        x = encode(ctx.archs, "adjacency_one_hot", ctx.space)
        self.mean_ = float(np.mean(ctx.labels))
        gram = x.T @ x + self.alpha * np.eye(x.shape[1])
        self.coef_ = np.linalg.solve(gram, x.T @ (ctx.labels - self.mean_))
        {fit_extra}

    def _query(self, archs, ctx):
        scores = encode(archs, "adjacency_one_hot", ctx.space) @ self.coef_ + self.mean_
        return Prediction({scores})
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Writes a plug-in module into a temporary package on ``sys.path`` and imports it; what
    it registers is forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    package = tmp_path / f"plugins_{tmp_path.name.replace('-', '_')}"
    package.mkdir()
    (package / "__init__.py").write_text("")

    def write(name: str, fit_extra: str = "pass", scores: str = "scores"):
        module = name.replace("-", "_")
        (package / f"{module}.py").write_text(
            PLUGIN.format(name=name, fit_extra=fit_extra, scores=scores))
        return importlib.import_module(f"{package.name}.{module}").LeastSquares

    return write


def test_a_plugin_predictor_passes_the_suite(plugin):
    cls = plugin("plugin-least-squares")
    names = [check.name for check in conformance_checks(cls)]
    assert names[-1] == "ranks_better_than_random" and len(names) == len(set(names))
    check_predictor(cls)
    check_predictor("plugin-least-squares", {"alpha": 3.0})
    mark = parametrize_with_checks(["plugin-least-squares"])
    assert mark.args[0] == "check" and "plugin-least-squares-predictions_are_finite" in \
        mark.kwargs["ids"]


def test_the_checks_hand_the_predictor_the_device_asked_for(plugin):
    cls = plugin("plugin-on-cuda", fit_extra="assert ctx.device == 'cuda', ctx.device")
    check_predictor(cls, device="cuda")  # the contexts name the device; this one runs no torch
    with pytest.raises(AssertionError, match="'plugin-on-cuda' fails conformance check .*: cpu$"):
        check_predictor(cls)
    mark = parametrize_with_checks([cls], device="cuda")
    assert "plugin-on-cuda-cuda-predictions_are_finite" in mark.kwargs["ids"]


@pytest.mark.parametrize(("fit_extra", "scores", "failed"), [
    ("pass", "np.full(len(archs), np.nan)", "predictions_are_finite"),
    ("pass", "-scores", "ranks_better_than_random"),
    ("self.alpha = 2 * self.alpha", "scores", "fit_leaves_hyperparameters_alone"),
    ("ctx.labels[:] = 0.0", "scores", "fit_and_query_leave_their_inputs_alone"),
])
def test_a_broken_plugin_fails_the_named_check(plugin, fit_extra, scores, failed):
    cls = plugin(f"plugin-broken-{failed.replace('_', '-')}", fit_extra, scores)
    with pytest.raises(AssertionError, match=f"fails conformance check '{failed}'"):
        check_predictor(cls)


def test_a_check_names_the_error_a_predictor_raises(plugin):
    plugin("plugin-raises", fit_extra="raise RuntimeError('boom')")
    with pytest.raises(AssertionError, match="'plugin-raises' fails conformance check "
                                             "'fit_and_query_leave_their_inputs_alone': "
                                             "RuntimeError: boom"):
        check_predictor("plugin-raises")


def test_an_unregistered_class_is_refused():
    class Unregistered(Predictor):
        def _fit(self, ctx): ...

        def _query(self, archs, ctx): ...

    with pytest.raises(ValueError, match="not a registered predictor"):
        check_predictor(Unregistered)


def test_importing_the_suite_does_not_import_pytest():
    code = "import sys, predictors.testing; sys.exit('pytest' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
