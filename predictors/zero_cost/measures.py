"""The ``@measure`` registry of zero-cost score functions.

A measure is ``fn(net, inputs, targets, loss_fn, **opts) -> float``: it scores an untrained
network from one minibatch (``targets`` may be ``None`` for data-free measures). Measures must
leave the caller's network as they found it: they use hooks, ``torch.autograd.grad`` (never
``.grad``), copies, and restore training modes and buffers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MeasureFn = Callable[..., float]


class ScoreUndefined(ArithmeticError):
    """A measure cannot produce a score for this network/batch; the message says why."""


@dataclass(frozen=True)
class MeasureSpec:
    """A registered measure: its function and whether it needs real data."""

    name: str
    fn: MeasureFn
    data_free: bool = False


_MEASURES: dict[str, MeasureSpec] = {}


def measure(name: str, data_free: bool = False) -> Callable[[MeasureFn], MeasureFn]:
    """Register ``fn`` as the zero-cost measure ``name`` (decorator)."""

    def decorate(fn: MeasureFn) -> MeasureFn:
        existing = _MEASURES.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"measure {name!r} already registered by {existing.fn!r}")
        _MEASURES[name] = MeasureSpec(name, fn, data_free)
        return fn

    return decorate


def get_measure(name: str) -> MeasureSpec:
    """The registered measure ``name``; a clear error listing the known ones otherwise."""
    if name not in _MEASURES:
        raise KeyError(f"unknown zero-cost measure {name!r}; known: {', '.join(measure_names())}")
    return _MEASURES[name]


def measure_names() -> list[str]:
    return sorted(_MEASURES)
