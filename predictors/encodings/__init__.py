"""Architecture encodings: pure functions from architectures to model inputs, looked up by name.

``encode(archs, name, space)`` returns a 2-D float array (one row per architecture, fixed width
per space) for vector encodings; graph and sequence encodings document their own return types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from predictors.spaces.base import Arch, SearchSpace

Encoder = Callable[[Sequence[Arch], SearchSpace], Any]
_ENCODERS: dict[str, Encoder] = {}


def register_encoding(name: str) -> Callable[[Encoder], Encoder]:
    """Decorator registering ``fn(archs, space)`` as encoding ``name``."""

    def decorate(fn: Encoder) -> Encoder:
        _ENCODERS[name] = fn
        return fn

    return decorate


def encoding_names() -> list[str]:
    _load_builtin()
    return sorted(_ENCODERS)


def encode(archs: Sequence[Arch], name: str, space: SearchSpace) -> Any:
    """Encode ``archs`` of ``space`` with encoding ``name``."""
    _load_builtin()
    if name not in _ENCODERS:
        raise KeyError(f"unknown encoding {name!r}; known: {', '.join(sorted(_ENCODERS))}")
    return _ENCODERS[name](list(archs), space)


def _load_builtin() -> None:
    from predictors.encodings import (  # noqa: F401  (registers on import)
        adjacency,
        graph,
        path,
        seminas,
    )
