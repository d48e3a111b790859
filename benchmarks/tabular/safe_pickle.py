"""Restricted unpickling for converters of public benchmark files.

Public benchmarks ship as pickles of their authors' classes; unpickling them with ``pickle.load``
would import and run whatever globals the file names. ``restricted_load`` resolves exactly the
``(module, name)`` globals it is given, mapped to replacements of the caller's choice (typically
plain data-holder classes), and refuses every other global and every persistent id.

``inspect_globals`` lists the globals a pickle names without resolving any of them, so a
converter author can see what a file holds before writing its allow-list.

Errors: a refused global raises ``UnsafePickleError``; a file that cannot be read or is not a
well-formed pickle (truncated, corrupt, not a pickle at all) raises ``CorruptPickleError``. Both
are ``ConverterError`` (and ``pickle.UnpicklingError``); nothing else escapes. The file is read
into memory first, so a length field claiming more bytes than the file holds cannot make the
unpickler allocate them.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import pickletools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from benchmarks.tabular.source import ConverterError

log = logging.getLogger(__name__)

Global = tuple[str, str]
Source = str | os.PathLike | IO[bytes]


class UnsafePickleError(ConverterError, pickle.UnpicklingError):
    """A pickle names a global (or persistent id) outside the converter's allow-list."""


class CorruptPickleError(ConverterError, pickle.UnpicklingError):
    """A pickle cannot be read or is not well formed (truncated, corrupt, not a pickle)."""


class DataHolder:
    """A plain attribute bag standing in for a class of a foreign package.

    Unpickling a class instance calls ``__new__`` and then sets ``__dict__`` (or calls
    ``__setstate__``); this class accepts both, so it can replace any simple data class.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)
        if args:
            self.__dict__["_args"] = args

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
            state = {**(state[0] or {}), **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.__dict__["_state"] = state

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(sorted(self.__dict__))})"


def _dtype(*args: Any) -> np.dtype:
    """numpy's dtype, refusing object dtypes (their pickled data would be arbitrary objects)."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise UnsafePickleError(f"a pickled numpy dtype holds Python objects ({dtype}); "
                                "refusing it")
    return dtype


def _scalar(dtype: np.dtype, data: bytes) -> np.generic:
    """numpy's scalar reconstructor for plain dtypes: bytes -> one value of ``dtype``."""
    return np.frombuffer(data, dtype=_dtype(dtype))[0]


def _empty_array(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's ``_reconstruct``, ignoring the pickle's placeholder shape: ``__setstate__`` sets the
    real shape and checks it against the data, so a forged shape allocates nothing."""
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"a pickled array has the subtype {subtype!r}; refusing it")
    return np.empty(0, dtype=np.uint8)


def numpy_globals(arrays: bool = True) -> dict[Global, Callable]:
    """Allow-list entries for numpy dtypes and scalars (and with ``arrays``, ndarrays), made safe:
    no object dtype, no allocation from a pickled shape."""
    out: dict[Global, Callable] = {("numpy", "dtype"): _dtype}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        out[(module, "scalar")] = _scalar
        if arrays:
            out[(module, "_reconstruct")] = _empty_array
    if arrays:
        out[("numpy", "ndarray")] = np.ndarray
    return out


def _describe(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return str(source)
    return str(getattr(source, "name", "<stream>"))


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], allowed: Mapping[Global, Callable], where: str):
        super().__init__(file)
        self._allowed = dict(allowed)
        self._where = where

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._where} names the global {module}.{name}, which is not on this "
                f"converter's allow-list ({sorted(f'{m}.{n}' for m, n in self._allowed)}); "
                "refusing to load it. If the file is trusted and its format changed, extend the "
                "allow-list with a plain data-holder replacement"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(
            f"{self._where} uses a persistent id ({pid!r}); refusing to load it"
        )


def _read(source: Source) -> bytes:
    try:
        if isinstance(source, str | os.PathLike):
            return Path(source).read_bytes()
        return source.read()
    except OSError as exc:
        raise CorruptPickleError(f"{_describe(source)} cannot be read ({exc})") from exc


def _corrupt(where: str, exc: Exception) -> CorruptPickleError:
    text = " ".join(str(exc).split())[:160]
    return CorruptPickleError(
        f"{where} is not a well-formed pickle ({type(exc).__name__}: {text}); it is truncated or "
        "corrupt: download or copy it again"
    )


def restricted_load(source: Source, allowed: Mapping[Global, Callable]) -> object:
    """Unpickle ``source`` (a path or a binary file object), resolving only ``allowed`` globals.

    ``allowed`` maps ``(module, name)`` as written in the pickle to the object to use instead,
    e.g. ``{("pkg.mod", "Record"): DataHolder, ("builtins", "set"): set}``. Any other global or
    a persistent id raises ``UnsafePickleError`` naming it and the file; a malformed file raises
    ``CorruptPickleError``.
    """
    where = _describe(source)
    data = _read(source)
    try:
        return _RestrictedUnpickler(io.BytesIO(data), allowed, where).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # untrusted bytes: any failure means a bad file
        raise _corrupt(where, exc) from exc


def inspect_globals(source: Source) -> dict[Global, int]:
    """Count the globals a pickle names, by reading its opcodes (nothing is resolved or run).

    Handles ``GLOBAL``/``INST`` (protocols 0-3) and ``STACK_GLOBAL`` (protocol 4+, where module
    and name are the two most recent string pushes, possibly fetched back from the memo).
    """
    data = _read(source)
    try:
        counts = _count_globals(data)
    except Exception as exc:  # untrusted bytes: any failure means a bad file
        raise _corrupt(_describe(source), exc) from exc
    log.debug("%s names globals %s", _describe(source), sorted(counts))
    return counts


def _count_globals(data: bytes) -> dict[Global, int]:
    counts: dict[Global, int] = {}
    memo: dict[int, Any] = {}
    strings: list[Any] = []
    last_push: Any = None
    for op, arg, _pos in pickletools.genops(io.BytesIO(data)):
        if op.name in ("GLOBAL", "INST"):
            module, name = arg.split(" ", 1)
            key = (module, name)
            counts[key] = counts.get(key, 0) + 1
            last_push = None
            continue
        if op.name == "STACK_GLOBAL":
            key = (str(strings[-2]), str(strings[-1]))
            counts[key] = counts.get(key, 0) + 1
            last_push = None
            continue
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            last_push = arg
            strings.append(arg)
        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
            last_push = memo.get(int(arg))
            strings.append(last_push)
        elif op.name == "MEMOIZE":
            memo[len(memo)] = last_push
        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[int(arg)] = last_push
        else:
            last_push = None
        if len(strings) > 2:
            del strings[:-2]
    return counts
