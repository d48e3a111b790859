"""Search spaces, looked up by name."""

from __future__ import annotations

from collections.abc import Callable

from predictors.spaces.base import Arch, ArchError, CellGraph, SearchSpace

_FACTORIES: dict[str, Callable[[], SearchSpace]] = {}
_INSTANCES: dict[str, SearchSpace] = {}


def register_space(name: str, factory: Callable[[], SearchSpace]) -> None:
    """Make ``get_space(name)`` build ``factory()`` (once, lazily)."""
    _FACTORIES[name] = factory


def get_space(name: str) -> SearchSpace:
    """The search space called ``name``; raises ``KeyError`` listing the known ones."""
    if name not in _INSTANCES:
        if name not in _FACTORIES:
            raise KeyError(f"unknown search space {name!r}; known: {', '.join(sorted(_FACTORIES))}")
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]


def space_names() -> list[str]:
    return sorted(_FACTORIES)


def _nb201() -> SearchSpace:
    from predictors.spaces.nb201 import NB201Space

    return NB201Space()


register_space("nb201", _nb201)


def _nb101() -> SearchSpace:
    from predictors.spaces.nb101 import NB101Space

    return NB101Space()


def _darts() -> SearchSpace:
    from predictors.spaces.darts import DartsSpace

    return DartsSpace()


def _nbgraph() -> SearchSpace:
    from predictors.spaces.nbgraph import NBGraphSpace

    return NBGraphSpace()


def _nbgraph_proteins() -> SearchSpace:
    from predictors.spaces.nbgraph import PROTEINS_OPS, NBGraphSpace

    return NBGraphSpace("nbgraph-proteins", PROTEINS_OPS)


register_space("nb101", _nb101)
register_space("darts", _darts)
register_space("nbgraph", _nbgraph)
register_space("nbgraph-proteins", _nbgraph_proteins)

__all__ = [
    "Arch",
    "ArchError",
    "CellGraph",
    "SearchSpace",
    "get_space",
    "register_space",
    "space_names",
]
