"""What converters share when reading a public benchmark's source files: one error type.

Every converter (``naslib``, ``nasbench_graph``, ``suite_zero``, ``analog_nasbench``) raises
``ConverterError`` and nothing else on a bad source: missing, unreadable, truncated, not UTF-8,
not JSON or not a pickle, a pickle naming a global outside its allow-list, or an unexpected
layout. It is a ``BenchmarkFormatError``, so the command line reports it as one line, exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.tabular.format import BenchmarkFormatError

#: What a malformed record can raise while a converter picks it apart.
LAYOUT_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError,
                 RecursionError)


class ConverterError(BenchmarkFormatError):
    """A converter's source is missing, unreadable, unsafe or not in the layout it expects."""


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


@contextmanager
def layout_errors(src: str | Path, expected: str) -> Iterator[None]:
    """Turn what a malformed record raises inside the block into ``ConverterError``.

    ``expected`` describes the layout (e.g. "a dict of NB201 arch string -> record").
    """
    try:
        yield
    except ConverterError:
        raise
    except LAYOUT_ERRORS as exc:
        raise ConverterError(
            f"{src} does not hold {expected} ({type(exc).__name__}: {_one_line(str(exc))}); "
            "pass a file in that layout"
        ) from exc


def read_json(src: str | Path, what: str) -> Any:
    """Parse a JSON source file (``what`` names the expected kind of file for the message)."""
    src = Path(src)
    if not src.is_file():
        raise ConverterError(f"{src} does not exist; expected {what}")
    try:
        return json.loads(src.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ConverterError(f"{src} cannot be read ({_one_line(str(exc))})") from exc
    except UnicodeDecodeError as exc:
        raise ConverterError(f"{src} is not UTF-8 (byte {exc.start}); expected {what}") from exc
    except (ValueError, RecursionError) as exc:
        raise ConverterError(f"{src} is not valid JSON: {_one_line(str(exc))}; expected {what}"
                             ) from exc
