"""Predictor registry: registration, lookup, make, families, entry-point plug-ins."""

from __future__ import annotations

import pytest

from predictors import registry
from predictors.base import DataNeeds, Prediction, Predictor
from predictors.builtin_index import BUILTIN_FAMILIES
from predictors.registry import (
    UnknownPredictorError,
    available,
    families,
    family_of,
    get,
    make,
    register,
)


class _Plugin(Predictor):
    needs = DataNeeds(labels=False)

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def _fit(self, ctx) -> None:
        pass

    def _query(self, archs, ctx) -> Prediction:
        return Prediction([self.scale] * len(archs))


def test_example_predictors_are_registered_with_family():
    assert available()["example-ridge"].family == "model_based"
    assert family_of("example-last-epoch") == "learning_curve"
    assert set(available("zero_cost")) >= {"example-live-norm"}
    assert all(c.family == "zero_cost" for c in available("zero_cost").values())


def test_make_checks_parameters():
    pred = make("example-ridge", alpha=2.0)
    assert pred.get_params() == {"alpha": 2.0}
    with pytest.raises(TypeError, match=r"no parameter\(s\) \['beta'\]"):
        make("example-ridge", beta=1)


def test_unknown_predictor_message_names_fix():
    with pytest.raises(UnknownPredictorError, match="predbench list") as info:
        get("does-not-exist")
    assert str(info.value).startswith("unknown predictor 'does-not-exist'")


def test_register_rejects_bad_family_duplicates_and_non_predictors():
    with pytest.raises(ValueError, match="unknown family"):
        register("x", family="magic")
    with pytest.raises(ValueError, match="already registered"):
        register("example-ridge", family="model_based")(_Plugin)
    with pytest.raises(TypeError, match="Predictor subclass"):
        register("not-a-predictor", family="baseline")(dict)


def test_entry_point_plugin_is_loaded(monkeypatch):
    class FakeEntryPoint:
        name = "plugin-scale"

        def load(self):
            return _Plugin

    class Broken:
        name = "broken"

        def load(self):
            raise ImportError("plugin dependency missing")

    saved = dict(registry._REGISTRY)
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "entry_points",
                        lambda group: [Broken(), FakeEntryPoint()]
                        if group == registry.ENTRY_POINT_GROUP else [])
    try:
        assert "plugin-scale" in available()  # a broken plug-in does not block the others
        assert make("plugin-scale", scale=3.0).get_params() == {"scale": 3.0}
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)
        _Plugin.name = ""


def test_builtin_index_matches_the_imported_predictors(monkeypatch):
    imported = {n: c.family for n, c in available().items()
                if c.__module__.startswith("predictors.")}
    table = "".join(f'    "{n}": "{f}",\n' for n, f in imported.items())
    assert BUILTIN_FAMILIES == imported, f"predictors/builtin_index.py should read:\n{table}"
    monkeypatch.setattr(registry, "_loaded", False)  # as a fresh process: from the index
    assert families() == {n: c.family for n, c in available().items()}
