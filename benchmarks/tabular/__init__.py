"""Tabular benchmarks: the on-disk format, the catalogue of available ones, converters."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from benchmarks.tabular.format import (
    BenchmarkFormatError,
    TabularBenchmark,
    check_benchmark,
    read_benchmark,
)
from benchmarks.tabular.source import ConverterError

#: Environment variable naming extra directories (``:``-separated) that hold benchmarks.
DATA_PATH_ENV = "PREDBENCH_DATA"


def data_dirs() -> list[Path]:
    """Where named benchmarks are looked up: $PREDBENCH_DATA entries, then the repo's data/."""
    dirs = [Path(p) for p in os.environ.get(DATA_PATH_ENV, "").split(os.pathsep) if p]
    dirs.append(Path(__file__).resolve().parents[2] / "data")
    return dirs


def benchmark_names() -> list[str]:
    """Names of every benchmark directory found in ``data_dirs()``."""
    names: set[str] = set()
    for d in data_dirs():
        if d.is_dir():
            names.update(p.name for p in d.iterdir() if (p / "metadata.json").is_file())
    return sorted(names)


def resolve(name_or_path: str | os.PathLike) -> Path:
    path = Path(name_or_path)
    if (path / "metadata.json").is_file():
        return path
    for d in data_dirs():
        if (d / str(name_or_path) / "metadata.json").is_file():
            return d / str(name_or_path)
    raise BenchmarkFormatError(
        f"no benchmark named {str(name_or_path)!r}; available: {', '.join(benchmark_names())} "
        "(run `predbench benchmarks`), or pass the path of a benchmark directory"
    )


@lru_cache(maxsize=8)
def _load_cached(path: str, stamp: tuple) -> TabularBenchmark:
    return read_benchmark(path)


def _stamp(path: Path) -> tuple:
    """Name, size and modification time of every file: a changed file means a fresh load."""
    stats = [(p.name, p.stat()) for p in sorted(path.iterdir()) if p.is_file()]
    return tuple((name, st.st_size, st.st_mtime_ns) for name, st in stats)


def load_benchmark(name_or_path: str | os.PathLike) -> TabularBenchmark:
    """Load a benchmark by name (from the data directories) or by directory path."""
    path = resolve(name_or_path).resolve()
    return _load_cached(str(path), _stamp(path))


__all__ = [
    "BenchmarkFormatError",
    "ConverterError",
    "TabularBenchmark",
    "benchmark_names",
    "check_benchmark",
    "data_dirs",
    "load_benchmark",
    "read_benchmark",
    "resolve",
]
