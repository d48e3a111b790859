"""Checks of command-line values that commands run before doing any work.

Output paths (nothing is created here: a path passes when the command could create or overwrite
it later), torch devices and executors.
"""

from __future__ import annotations

import os
from pathlib import Path


class OptionError(ValueError):
    """A command-line value cannot be served (the message names the value and the fix)."""


def _creatable(path: Path, option: str) -> None:
    """Raise unless the nearest existing ancestor of ``path`` is a writable directory."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OptionError(f"{option} {path}: {ancestor} is a file, not a directory; "
                        f"choose another {option}")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OptionError(f"{option} {path}: no permission to write in {ancestor}; "
                        f"choose another {option}")


def output_file(path: Path | str, option: str) -> Path:
    """``path`` if a file can be written there, else ``OptionError`` naming ``option``."""
    path = Path(path)
    if path.is_dir():
        raise OptionError(f"{option} {path} is a directory; give a file path")
    if path.exists() and not os.access(path, os.W_OK):
        raise OptionError(f"{option} {path} is not writable; choose another {option}")
    _creatable(path, option)
    return path


def output_dir(path: Path | str, option: str) -> Path:
    """``path`` if a directory exists or can be created there, else ``OptionError``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OptionError(f"{option} {path} is a file; give a directory path")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise OptionError(f"{option} {path} is not writable; choose another {option}")
        return path
    _creatable(path, option)
    return path


def default_device() -> str:
    """``cuda`` where a CUDA GPU is available, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def device(name: str | None, option: str = "--device") -> str:
    """``name`` if torch can run on it here (cpu, cuda, cuda:N), else ``OptionError``;
    ``None``: :func:`default_device`."""
    import torch

    if name is None:
        return default_device()
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise OptionError(f"{option} {name!r} is not a device; use cpu or cuda") from None
    if dev.type not in ("cpu", "cuda"):
        raise OptionError(f"{option} {name!r} is not supported; use cpu or cuda")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise OptionError(f"{option} {name}: no CUDA GPU is available here; use {option} cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise OptionError(f"{option} {name}: there are only {torch.cuda.device_count()} CUDA "
                          f"device(s); use cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return name


def executor(name: str, option: str = "--executor") -> str:
    """``name`` if jobs can run there (``process``, or ``ray`` with Ray installed), else
    ``OptionError`` (for Ray, one line saying how to install it)."""
    from benchmarks.jobs import EXECUTORS

    if name not in EXECUTORS:
        raise OptionError(f"{option} {name!r} is unknown; use one of {', '.join(EXECUTORS)}")
    if name == "ray":
        from benchmarks.ray_runner import require_ray

        require_ray()
    return name


def at_least(option: str, value: float, low: float = 1) -> float:
    """``value`` if it is at least ``low``, else ``OptionError`` naming ``option``."""
    if not value >= low:
        raise OptionError(f"{option} must be at least {low:g}, got {value:g}")
    return value


def names(text: str | None) -> list[str]:
    """The items of a comma-separated list (``a,b``), blanks dropped."""
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def ints(text: str | None, option: str) -> list[int]:
    """The integers of a comma-separated list, else ``OptionError`` naming ``option``."""
    try:
        return [int(p) for p in names(text)]
    except ValueError:
        raise OptionError(f"{option} {text!r} must list integers, e.g. {option} 1,3,10") from None


def floats(text: str | None, option: str) -> list[float]:
    """The numbers of a comma-separated list, else ``OptionError`` naming ``option``."""
    try:
        return [float(p) for p in names(text)]
    except ValueError:
        raise OptionError(f"{option} {text!r} must list numbers, e.g. {option} 0,0.5,0.9") from None
