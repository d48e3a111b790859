"""Live data sources: real batches for predictors that run networks (zero-cost, weight sharing).

A benchmark names its source in ``metadata.json`` as ``"live": {"dataset": "<name>", ...}``.
A dataset name maps to a factory ``factory(metadata: dict) -> LiveSource``: either registered at
run time with :func:`register_live_dataset`, or listed in ``BUILTIN_DATASETS`` as an import
path ``"module:function"`` that is imported only when first needed. This is the one lookup of
data sources: a benchmark's own (:func:`live_source_for`), a named one (:func:`dataset_source`,
e.g. the benchmark builder's splits), and the ``SUBSTITUTES`` that stand in for the images of a
benchmark that ships none (``predbench score --batch-source``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from predictors.base import LiveSource

LiveFactory = Callable[[dict[str, Any]], LiveSource]

#: Built-in providers, resolved lazily by import path.
BUILTIN_DATASETS: dict[str, str] = {
    "fashion-mnist": "benchmarks.builder.fashion_mnist:live_source",
    "gaussian": "benchmarks.substitute_batches:gaussian_source",
    "fashion-mnist-resized": "benchmarks.substitute_batches:fashion_mnist_resized_source",
    "digits-resized": "benchmarks.substitute_batches:digits_resized_source",
}
#: Sources shaped for any benchmark's network, standing in for images it does not ship.
SUBSTITUTES = ("fashion-mnist-resized", "gaussian", "digits-resized")

_FACTORIES: dict[str, LiveFactory] = {}


class LiveSourceError(ValueError):
    """A benchmark has no usable live data source."""


def register_live_dataset(name: str, factory: LiveFactory) -> None:
    """Make benchmarks whose metadata says ``"live": {"dataset": name}`` use ``factory``."""
    _FACTORIES[name] = factory


def live_dataset_names() -> list[str]:
    return sorted(set(_FACTORIES) | set(BUILTIN_DATASETS))


def _resolve(name: str) -> LiveFactory:
    if name in _FACTORIES:
        return _FACTORIES[name]
    target = BUILTIN_DATASETS.get(name)
    if target is None:
        raise LiveSourceError(
            f"unknown live dataset {name!r}; known: {', '.join(live_dataset_names())}. "
            "Register one with benchmarks.live.register_live_dataset(name, factory)"
        )
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise LiveSourceError(
            f"live dataset {name!r} needs module {module_name!r}, which is not installed "
            f"({exc}); install the full package (pip install -e .)"
        ) from exc
    factory = getattr(module, attr)
    _FACTORIES[name] = factory
    return factory


def dataset_source(name: str, metadata: dict[str, Any]) -> LiveSource:
    """The source registered as ``name``, built from ``metadata`` (a benchmark's, or the
    ``"live"`` entry it would hold)."""
    return _resolve(name)(metadata)


def live_source_for(metadata: dict[str, Any]) -> LiveSource:
    """The live source a benchmark's metadata names; a clear error when it names none."""
    spec = metadata.get("live")
    bench = metadata.get("name", "?")
    if not spec or not isinstance(spec, dict) or "dataset" not in spec:
        raise LiveSourceError(
            f"benchmark {bench!r} has no live data source, so predictors that run networks "
            "(zero-cost proxies, weight sharing) cannot be evaluated on it; use a benchmark "
            "whose metadata.json names one under \"live\": {\"dataset\": ...}"
        )
    return dataset_source(str(spec["dataset"]), metadata)
