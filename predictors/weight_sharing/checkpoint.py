"""Atomic supernet checkpoints keyed by a fingerprint of everything that shapes training.

The file name carries the fingerprint, so fits with different hyperparameters, data or seeds
sharing one directory never resume from each other; a fit asking for more steps than a saved
run resumes from it (the schedule does not depend on the total).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)


def fingerprint(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def checkpoint_path(directory: str | os.PathLike, name: str, key: str) -> Path:
    return Path(directory) / f"{name}-{key}.pt"


def save(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` with ``torch.save`` to a temporary file, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load(path: Path) -> dict[str, Any] | None:
    """The saved state, or ``None`` when there is none; a corrupt file raises a clear error."""
    if not path.is_file():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise RuntimeError(f"supernet checkpoint {path} is unreadable ({exc}); delete it to "
                           "train from scratch") from exc
