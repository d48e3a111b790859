"""Shard files: one small JSON file per finished (architecture, seed) training.

A shard directory belongs to one recipe (``recipe.json`` in it); shards are written to a
temporary file, flushed to disk and renamed into place, so a killed run leaves either a whole
shard or none. Missing values (e.g. test metrics of early epochs) are stored as ``null``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.builder.recipe import Recipe

RECIPE_FILE = "recipe.json"


class ShardError(ValueError):
    """A shard directory belongs to another recipe, or a shard file is unreadable."""


def shard_name(index: int, seed: int) -> str:
    return f"a{index:04d}-s{seed}.json"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open_shard_dir(directory: Path, recipe: Recipe) -> Path:
    """Create ``directory`` for ``recipe`` or check that it already belongs to it."""
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / RECIPE_FILE
    if marker.exists():
        stored = Recipe.from_dict(json.loads(marker.read_text()))
        if stored.key != recipe.key:
            raise ShardError(
                f"{directory} holds shards of recipe {stored.name!r} (key {stored.key}), not of "
                f"{recipe.name!r} (key {recipe.key}); use another --shards directory"
            )
    else:
        atomic_write_text(marker, json.dumps(recipe.as_dict(), indent=2) + "\n")
    return directory


def read_recipe(directory: Path) -> Recipe:
    marker = directory / RECIPE_FILE
    if not marker.is_file():
        raise ShardError(f"{directory} is not a shard directory (no {RECIPE_FILE})")
    return Recipe.from_dict(json.loads(marker.read_text()))


def write_shard(directory: Path, record: dict[str, Any]) -> Path:
    path = directory / shard_name(record["index"], record["seed"])
    atomic_write_text(path, json.dumps(_clean(record), separators=(",", ":")) + "\n")
    return path


def done_pairs(directory: Path) -> set[tuple[int, int]]:
    """(arch index, seed) of every shard present (temporary files are ignored)."""
    out = set()
    if directory.is_dir():
        for p in directory.glob("a*-s*.json"):
            a, s = p.stem[1:].split("-s")
            out.add((int(a), int(s)))
    return out


def read_shards(directory: Path) -> Iterator[dict[str, Any]]:
    """Every shard of ``directory`` in (index, seed) order."""
    for index, seed in sorted(done_pairs(directory)):
        path = directory / shard_name(index, seed)
        try:
            yield json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ShardError(f"{path} is corrupt ({exc}); delete it and resume the run") from exc
