"""Whether an interpreter refuses ``pip install`` into itself (PEP 668).

A distribution marks its Python as externally managed with an ``EXTERNALLY-MANAGED`` file in the
standard-library directory (Debian 12, Ubuntu 23.04 and later); inside a virtual environment the
marker does not apply. Run as a script, the exit status is 0 when the running interpreter is
externally managed and 1 when pip may install into it (``scripts/setup.sh`` asks this).
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

MARKER = "EXTERNALLY-MANAGED"


def externally_managed(stdlib: Path | None = None, in_venv: bool | None = None) -> bool:
    """True when the marker is in ``stdlib`` (default: this interpreter's) and the interpreter
    is not a virtual environment's (default: ``sys.prefix != sys.base_prefix``)."""
    stdlib = Path(sysconfig.get_path("stdlib")) if stdlib is None else stdlib
    in_venv = sys.prefix != sys.base_prefix if in_venv is None else in_venv
    return not in_venv and (stdlib / MARKER).is_file()


if __name__ == "__main__":
    sys.exit(0 if externally_managed() else 1)
