"""Registry of predictor classes by name and family, extendable through entry points.

Third-party packages add predictors by declaring an entry point in the group
``predbench.predictors`` that points at a module (importing it runs its ``@register``
decorators) or at a ``Predictor`` subclass carrying ``name`` and ``family``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from predictors.base import Predictor
from predictors.params import check_names

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "predbench.predictors"
FAMILIES = ("baseline", "model_based", "learning_curve", "hybrid", "zero_cost",
            "weight_sharing", "ensemble")
#: Modules of this package whose import registers the built-in predictors.
BUILTIN_MODULES = (
    "predictors.zero_cost",
    "predictors.model_based",
    "predictors.learning_curve",
    "predictors.hybrid",
    "predictors.weight_sharing",
    "predictors.ensemble",
)

_REGISTRY: dict[str, type[Predictor]] = {}
_loaded = False

P = TypeVar("P", bound=type[Predictor])


class UnknownPredictorError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


def register(name: str, family: str) -> Callable[[P], P]:
    """Class decorator: ``@register("xgb", family="model_based")``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; use one of {FAMILIES}")

    def decorate(cls: P) -> P:
        if not (isinstance(cls, type) and issubclass(cls, Predictor)):
            raise TypeError(f"@register needs a Predictor subclass, got {cls!r}")
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"predictor name {name!r} already registered by {existing!r}")
        cls.name = name
        cls.family = family
        _REGISTRY[name] = cls
        return cls

    return decorate


def load_all() -> None:
    """Import built-in predictor modules and entry-point plugins (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception:  # a broken plugin must not take the built-ins down
            log.exception("could not load predictor plugin %s", ep.name)
            continue
        if isinstance(obj, type) and issubclass(obj, Predictor) and obj.name not in _REGISTRY:
            register(obj.name or ep.name, obj.family or "model_based")(obj)


def available(family: str | None = None) -> dict[str, type[Predictor]]:
    """Registered predictor classes by name (optionally of one family), sorted by name."""
    load_all()
    return {n: c for n, c in sorted(_REGISTRY.items()) if family is None or c.family == family}


def families() -> dict[str, str]:
    """The family of every available predictor by name, sorted by name, as :func:`available`
    has them; the built-ins' come from ``predictors.builtin_index`` without importing them,
    unless they are imported already or a plug-in is installed (then everything loads)."""
    if not _loaded and not entry_points(group=ENTRY_POINT_GROUP):
        from predictors.builtin_index import BUILTIN_FAMILIES

        known = {**BUILTIN_FAMILIES, **{n: c.family for n, c in _REGISTRY.items()}}
        return dict(sorted(known.items()))
    return {name: cls.family for name, cls in available().items()}


def get(name: str) -> type[Predictor]:
    load_all()
    if name not in _REGISTRY:
        raise UnknownPredictorError(
            f"unknown predictor {name!r}; run `predbench list` to see the registered ones "
            f"({', '.join(sorted(_REGISTRY))})"
        )
    return _REGISTRY[name]


def family_of(name: str) -> str:
    return get(name).family


#: Settings presets of a sweep, lightest first: ``quick`` (the first run: minutes on 2 cores),
#: ``standard`` (epochs, iterations and ensemble rounds cut so a CPU sweep fits in hours) and
#: ``full`` (every predictor at its defaults, the study's settings).
PRESETS = ("quick", "standard", "full")


def preset_params(name: str, preset: str = "standard") -> dict[str, Any]:
    """The settings ``name`` runs with under ``preset`` (one of ``PRESETS``)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}")
    cls = get(name)
    if preset == "full":
        return {}
    if preset == "quick":
        return {**cls.reproduce_params, **cls.quick_params}
    return dict(cls.reproduce_params)


def sweep_params(name: str, full: bool = False) -> dict[str, Any]:
    """The settings a sweep runs ``name`` with: the ``standard`` preset, or its defaults when
    ``full``."""
    return preset_params(name, "full" if full else "standard")


def make(name: str, **params: Any) -> Predictor:
    """Instantiate a registered predictor with keyword hyperparameters."""
    cls = get(name)
    check_names(cls, params)
    return cls(**params)
