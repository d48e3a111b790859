"""The on-disk tabular benchmark format and its in-memory view.

A benchmark is a directory holding

- ``values.npy``: float32 ``[arch, seed, epoch, metric]``; NaN where a seed/epoch is missing;
- ``archs.txt`` (or ``archs.txt.gz``): one architecture string per line, in the space's string form;
- ``static.npy``: float32 ``[arch, property]`` per-architecture values (params, flops, latency,
  per-epoch training cost on the reference device, ...), optional;
- ``metadata.json``: names of the metric and property axes, directions, epochs, cost model,
  splits, dataset, citation and provenance.

Nothing is unpickled: arrays load with ``allow_pickle=False``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from predictors.spaces import Arch, ArchError, SearchSpace, get_space

FORMAT_VERSION = 1
REQUIRED_METADATA = ("name", "space", "dataset", "metrics", "objective", "epochs", "seeds")
EPOCH_COST = "epoch_time"  # static property: simulated seconds per training epoch


class BenchmarkFormatError(ValueError):
    """A benchmark directory is missing, corrupt or inconsistent."""


@dataclass
class TabularBenchmark:
    """A loaded tabular benchmark. Rows of ``values``/``static`` align with ``archs``."""

    metadata: dict[str, Any]
    archs: list[Arch]
    values: np.ndarray
    static: np.ndarray | None = None
    path: Path | None = None
    _index: dict[Arch, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {a: i for i, a in enumerate(self.archs)}

    # --- description ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.metadata["name"]

    @cached_property
    def space(self) -> SearchSpace:
        return get_space(self.metadata["space"])

    @property
    def metric_names(self) -> list[str]:
        return list(self.metadata["metrics"])

    @property
    def static_names(self) -> list[str]:
        return list(self.metadata.get("static", []))

    @property
    def objective(self) -> str:
        """The default ground-truth metric (e.g. final validation accuracy)."""
        return self.metadata["objective"]

    @property
    def epochs(self) -> int:
        return int(self.metadata["epochs"])

    @property
    def has_curves(self) -> bool:
        return self.values.shape[2] > 1

    @property
    def cost_estimated(self) -> bool:
        """True when training costs come from a cost model rather than measurement."""
        return bool(self.metadata.get("cost", {}).get("estimated", True))

    def __len__(self) -> int:
        return len(self.archs)

    def direction(self, metric: str) -> str:
        return self.metadata["metrics"][metric].get("direction", "max")

    # --- lookups --------------------------------------------------------------------------------
    def index_of(self, arch: Arch) -> int:
        try:
            return self._index[arch]
        except KeyError:
            raise KeyError(f"{arch} is not in benchmark {self.name!r}") from None

    def metric_index(self, metric: str) -> int:
        names = self.metric_names
        if metric not in names:
            raise KeyError(f"benchmark {self.name!r} has no metric {metric!r}; it has {names}")
        return names.index(metric)

    @cached_property
    def canonical_keys(self) -> list[Hashable]:
        space = self.space
        return [space.canonical(a) for a in self.archs]

    def final(self, metric: str | None = None, seed: int | None = None) -> np.ndarray:
        """Value at the last epoch per architecture: one seed, or the mean over seeds present."""
        m = self.metric_index(metric or self.objective)
        last = self.values[:, :, -1, m]
        if seed is not None:
            return last[:, seed].astype(float)
        with np.errstate(all="ignore"):
            counts = np.sum(~np.isnan(last), axis=1)
            sums = np.nansum(last, axis=1)
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    def curve(self, indices: Sequence[int], metric: str, upto: int, seed: int = 0) -> np.ndarray:
        """Learning curves ``[n, upto]`` of one training run, epochs 1..upto and nothing later."""
        if not self.has_curves:
            raise BenchmarkFormatError(
                f"benchmark {self.name!r} has no learning curves (final values only); "
                "learning-curve predictors need a benchmark with per-epoch data"
            )
        if not 1 <= upto <= self.epochs:
            raise ValueError(f"fidelity {upto} outside 1..{self.epochs} for {self.name!r}")
        m = self.metric_index(metric)
        return self.values[np.asarray(indices, dtype=int), seed, :upto, m].astype(float)

    def static_value(self, name: str, indices: Sequence[int] | None = None) -> np.ndarray:
        if self.static is None or name not in self.static_names:
            raise KeyError(f"benchmark {self.name!r} has no per-architecture {name!r}")
        col = self.static[:, self.static_names.index(name)].astype(float)
        return col if indices is None else col[np.asarray(indices, dtype=int)]

    def epoch_cost(self, indices: Sequence[int]) -> np.ndarray:
        """Simulated seconds per training epoch on the benchmark's reference device."""
        return self.static_value(EPOCH_COST, indices)

    def train_cost(self, indices: Sequence[int]) -> np.ndarray:
        """Simulated seconds of a full training run."""
        return self.epoch_cost(indices) * self.epochs

    def partial_cost(self, indices: Sequence[int], fidelity: int) -> np.ndarray:
        """Simulated seconds to train up to ``fidelity`` epochs."""
        return self.epoch_cost(indices) * fidelity

    # --- persistence ----------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write atomically: a half-written benchmark directory never appears."""
        directory = Path(directory)
        validate_shapes(self.metadata, self.values, self.static, len(self.archs))
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        tmp.chmod(0o755)  # mkdtemp creates 0700; a benchmark directory is meant to be shared
        try:
            meta = {**self.metadata, "format_version": FORMAT_VERSION}
            (tmp / "metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
            np.save(tmp / "values.npy", self.values.astype(np.float32), allow_pickle=False)
            if self.static is not None:
                np.save(tmp / "static.npy", self.static.astype(np.float32), allow_pickle=False)
            lines = "".join(self.space.to_string(a) + "\n" for a in self.archs).encode()
            if len(lines) > 1 << 20:
                with gzip.GzipFile(tmp / "archs.txt.gz", "wb", mtime=0) as fh:
                    fh.write(lines)
            else:
                (tmp / "archs.txt").write_bytes(lines)
            if directory.exists():
                shutil.rmtree(directory)
            os.replace(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return directory


def validate_shapes(meta: dict, values: np.ndarray, static: np.ndarray | None, n: int) -> None:
    if values.ndim != 4:
        raise BenchmarkFormatError(
            f"values must be [arch, seed, epoch, metric], got {values.shape}"
        )
    if values.shape[0] != n:
        raise BenchmarkFormatError(f"values has {values.shape[0]} rows but {n} architectures")
    if values.shape[3] != len(meta["metrics"]):
        raise BenchmarkFormatError(
            f"values has {values.shape[3]} metrics, metadata names {len(meta['metrics'])}"
        )
    if values.shape[2] not in (1, int(meta["epochs"])):
        raise BenchmarkFormatError(
            f"values has {values.shape[2]} epochs; metadata says {meta['epochs']} (or 1 = final)"
        )
    if static is not None:
        names = meta.get("static", [])
        if static.ndim != 2 or static.shape != (n, len(names)):
            raise BenchmarkFormatError(
                f"static has shape {static.shape}; expected ({n}, {len(names)}) for {names}"
            )


def _load_array(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BenchmarkFormatError(
            f"{path} is corrupt or truncated ({exc}); restore it (git checkout) or rebuild the "
            "benchmark with its converter"
        ) from exc


def read_benchmark(directory: str | Path) -> TabularBenchmark:
    """Load one benchmark directory, checking every file; errors name the file and the fix."""
    directory = Path(directory)
    meta_path = directory / "metadata.json"
    if not meta_path.is_file():
        raise BenchmarkFormatError(f"{directory} holds no metadata.json: not a benchmark directory")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise BenchmarkFormatError(f"{meta_path} is not valid JSON: {exc}") from exc
    missing = [k for k in REQUIRED_METADATA if k not in meta]
    if missing:
        raise BenchmarkFormatError(
            f"{meta_path} lacks required field(s) {missing}; every benchmark's metadata needs "
            f"{list(REQUIRED_METADATA)}"
        )
    values = _load_array(directory / "values.npy")
    static = _load_array(directory / "static.npy") if (directory / "static.npy").exists() else None
    if (directory / "archs.txt.gz").exists():
        with gzip.open(directory / "archs.txt.gz", "rt") as fh:
            lines = fh.read().splitlines()
    elif (directory / "archs.txt").exists():
        lines = (directory / "archs.txt").read_text().splitlines()
    else:
        raise BenchmarkFormatError(f"{directory} holds no archs.txt (the architecture index)")
    try:
        space = get_space(meta["space"])
    except KeyError as exc:
        raise BenchmarkFormatError(str(exc)) from exc
    try:
        archs = [space.from_string(line) for line in lines]
    except ArchError as exc:
        raise BenchmarkFormatError(f"{directory}/archs: {exc}") from exc
    validate_shapes(meta, values, static, len(archs))
    return TabularBenchmark(meta, archs, values, static, path=directory)
