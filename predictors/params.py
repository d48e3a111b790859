"""Check hyperparameter values against a predictor's constructor before anything runs.

A value must match the type hint of its parameter (``int``, ``float``, ``bool``,
``str``, ``None``, ``Literal``, unions, ``tuple``/``list``/``dict`` of those) and lie within the
interval a class declares for it in ``param_bounds`` (merged along the class hierarchy).
"""

from __future__ import annotations

import inspect
import json
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from predictors.base import Predictor


class ParamError(ValueError, TypeError):
    """A hyperparameter is unknown, of the wrong type or out of range (the message says which)."""


@dataclass(frozen=True)
class Interval:
    """The values a numeric hyperparameter may take; ends are inclusive unless ``open_*``."""

    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return above and below

    def __str__(self) -> str:
        left = "(" if self.open_low or math.isinf(self.low) else "["
        right = ")" if self.open_high or math.isinf(self.high) else "]"
        return f"{left}{self.low:g}, {self.high:g}{right}"


#: Common intervals: counts, non-negative values, positive rates, probabilities, fractions.
COUNT = Interval(1)
NON_NEGATIVE = Interval(0)
POSITIVE = Interval(0, open_low=True)
PROBABILITY = Interval(0, 1)
FRACTION = Interval(0, 1, open_low=True)


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def describe(hint: Any) -> str:
    """How the type hint ``hint`` reads in an error message ("an integer", "a list, each ...")."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return "one of " + ", ".join(_show(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if origin in (tuple, list):
        return f"a list, each item {describe(args[0])}" if args else "a list"
    if origin is dict or hint is dict:
        return "a JSON object"
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
             type(None): "null"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as parsed from JSON) fits the type hint ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is typing.Any:
        return True
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, a) for a in args)
    if origin in (tuple, list):
        if not isinstance(value, (tuple, list)):
            return False
        item = args[0] if args and (origin is list or args[-1] is Ellipsis) else None
        if item is None and args:
            return len(args) == len(value) and all(map(matches, value, args))
        return item is None or all(matches(v, item) for v in value)
    if origin is dict or hint is dict:
        return isinstance(value, dict) and (not args or all(
            matches(k, args[0]) and matches(v, args[1]) for k, v in value.items()))
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is None or hint is type(None):
        return value is None
    return not isinstance(hint, type) or isinstance(value, hint)


def bounds(cls: type[Predictor]) -> dict[str, Interval]:
    """``param_bounds`` of ``cls`` and its bases, the most derived declaration winning."""
    merged: dict[str, Interval] = {}
    for klass in reversed(cls.__mro__):
        merged.update(vars(klass).get("param_bounds", {}))
    return merged


def check_names(cls: type[Predictor], params: Mapping[str, Any]) -> None:
    """Raise ``ParamError`` for parameters ``cls.__init__`` does not take."""
    unknown = set(params) - set(cls.param_names())
    if unknown:
        raise ParamError(f"predictor {cls.name!r} has no parameter(s) {sorted(unknown)}; "
                         f"it takes {cls.param_names()}")


def check_params(cls: type[Predictor], params: Mapping[str, Any]) -> None:
    """Raise ``ParamError`` naming the first unknown, mistyped or out-of-range parameter."""
    check_names(cls, params)
    try:
        hints = cls.param_hints()
    except (NameError, TypeError):  # unresolvable annotations: check what can be checked
        hints = {}
    limits = bounds(cls)
    for name, value in params.items():
        hint = hints.get(name)
        if hint is not None and not matches(value, hint):
            raise ParamError(f"predictor {cls.name!r}: {name}={_show(value)} must be "
                             f"{describe(hint)} (e.g. {name}={_show(_default(cls, name))})")
        interval = limits.get(name)
        if (interval is not None and isinstance(value, (int, float))
                and not isinstance(value, bool) and value not in interval):
            raise ParamError(f"predictor {cls.name!r}: {name}={_show(value)} is out of range; "
                             f"it must lie in {interval}")


def _default(cls: type[Predictor], name: str) -> Any:
    default = inspect.signature(cls.__init__).parameters[name].default
    return None if default is inspect.Parameter.empty else default
