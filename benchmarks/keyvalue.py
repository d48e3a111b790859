"""``key=value`` command-line parameters shared by the ``predbench`` commands."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any


def parse_key_values(items: Iterable[str] | None,
                     error: Callable[[str], Exception]) -> dict[str, Any]:
    """``["k=10", "a=ei"]`` -> ``{"k": 10, "a": "ei"}``: JSON values, else strings.

    A malformed item raises ``error(item)``, so each command keeps its own error type and hint.
    """
    params: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise error(item)
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params
