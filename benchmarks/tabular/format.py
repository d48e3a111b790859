"""The on-disk tabular benchmark format and its in-memory view.

A benchmark is a directory holding

- ``values.npy``: float32 ``[arch, seed, epoch, metric]``; NaN where a seed/epoch is missing;
- ``archs.txt`` (or ``archs.txt.gz``): one architecture string per line, in the space's string form;
- ``static.npy``: float32 ``[arch, property]`` per-architecture values (params, flops, latency,
  per-epoch training cost on the reference device, ...), optional;
- ``metadata.json``: names of the metric and property axes, directions, epochs, cost model,
  splits, dataset, citation and provenance.

Nothing is unpickled: arrays load with ``allow_pickle=False``. Loading checks every file before
reading any array: ``metadata.json`` must be a JSON object with the required fields of the right
types; each ``.npy`` header must declare float32 and a shape matching the metadata and the number
of architectures, and the data it declares must fill the file exactly (so a truncated file or a
forged huge shape is refused without allocating anything); the architecture index must be UTF-8,
one architecture of the space per line, newline-terminated. Every failure raises
``BenchmarkFormatError``, one line naming the file, the problem and the fix.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import shutil
import tempfile
import zlib
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

    @cached_property
    def data_version(self) -> str:
        """Digest of what an evaluation reads: the architectures, every value and static column,
        and the metadata that gives them meaning (metrics, objective, epochs, static columns,
        cost model). Results stores keep it with each record, so a rebuilt benchmark (a merged
        seed, a refitted cost model) makes its earlier evaluations run again."""
        digest = hashlib.sha256()
        meaning = {k: self.metadata.get(k) for k in
                   ("metrics", "objective", "epochs", "static", "cost")}
        digest.update(json.dumps(meaning, sort_keys=True, default=str).encode())
        for arch in self.archs:
            digest.update(self.space.to_string(arch).encode() + b"\n")
        for array in (self.values, self.static):
            if array is not None:
                digest.update(f"{array.shape}{array.dtype.str}".encode())
                digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

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

    def curve(self, indices: Sequence[int], metric: str, upto: int,
              seed: int | np.ndarray = 0) -> np.ndarray:
        """Learning curves ``[n, upto]`` of one training run per architecture (``seed``: one for
        all, or one per index), epochs 1..upto and nothing later."""
        if not self.has_curves:
            raise BenchmarkFormatError(
                f"benchmark {self.name!r} has no learning curves (final values only); "
                "learning-curve predictors need a benchmark with per-epoch data"
            )
        if not 1 <= upto <= self.epochs:
            raise ValueError(f"fidelity {upto} outside 1..{self.epochs} for {self.name!r}")
        m = self.metric_index(metric)
        rows = np.asarray(indices, dtype=int)
        return self.values[rows, np.broadcast_to(seed, rows.shape), :upto, m].astype(float)

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
        validate_metadata(self.metadata, f"benchmark {directory.name}")
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


# --- validation and loading ---------------------------------------------------------------------
REBUILD = ("restore it (e.g. from version control) or rebuild the benchmark with its converter "
           "or `predbench build merge`")
FIX_METADATA = "fix metadata.json or rebuild the benchmark with the tool that wrote it"
#: Average bytes an ``archs`` line may take: bounds what a compressed index may expand to.
MAX_ARCH_LINE = 4096
_FIELD_TYPES: dict[str, tuple[type, str]] = {
    "name": (str, "a string"), "space": (str, "a string"), "dataset": (str, "a string"),
    "metrics": (dict, "an object"), "objective": (str, "a string"),
    "epochs": (int, "an integer"), "seeds": (int, "an integer"),
}


def _error(where: str | Path, problem: str, fix: str = REBUILD) -> BenchmarkFormatError:
    """One line naming the file, the problem and the fix (whitespace in quoted data collapsed)."""
    return BenchmarkFormatError(" ".join(f"{where}: {problem}; {fix}".split()))


def _short(exc: BaseException, limit: int = 160) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."


def validate_metadata(meta: Any, where: str | Path = "metadata.json") -> None:
    """Check the required fields of ``metadata.json`` and the types every reader relies on."""
    if not isinstance(meta, dict):
        raise _error(where, f"must be a JSON object, not {type(meta).__name__}", FIX_METADATA)
    missing = [k for k in REQUIRED_METADATA if k not in meta]
    if missing:
        raise _error(where, f"lacks required field(s) {missing}; every benchmark's metadata "
                     f"needs {list(REQUIRED_METADATA)}", FIX_METADATA)
    for key, (kind, text) in _FIELD_TYPES.items():
        value = meta[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _error(where, f"field {key!r} must be {text}, not {value!r:.60}", FIX_METADATA)
    for key in ("epochs", "seeds"):
        if meta[key] < 1:
            raise _error(where, f"field {key!r} must be at least 1, not {meta[key]}", FIX_METADATA)
    metrics = meta["metrics"]
    if not metrics:
        raise _error(where, "field 'metrics' names no metric", FIX_METADATA)
    for name, info in metrics.items():
        if not isinstance(info, dict) or info.get("direction", "max") not in ("max", "min"):
            raise _error(where, f"metric {name!r} must be an object whose 'direction' is 'max' or "
                         f"'min', not {info!r:.60}", FIX_METADATA)
    if meta["objective"] not in metrics:
        raise _error(where, f"objective {meta['objective']!r:.60} is not one of the metrics "
                     f"{list(metrics)}", FIX_METADATA)
    static = meta.get("static", [])
    if not isinstance(static, list) or not all(isinstance(s, str) for s in static):
        raise _error(where, f"field 'static' must be a list of names, not {static!r:.60}",
                     FIX_METADATA)
    if len(set(static)) != len(static):
        raise _error(where, "field 'static' repeats a name", FIX_METADATA)
    if not isinstance(meta.get("cost", {}), dict):
        raise _error(where, "field 'cost' must be an object", FIX_METADATA)
    for key in ("num_archs", "unique_canonical"):
        value = meta.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _error(where, f"field {key!r} must be a count, not {value!r:.60}", FIX_METADATA)
    version = meta.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise _error(where, f"format_version {version!r:.20} is not one this predbench reads "
                     f"(up to {FORMAT_VERSION})", "upgrade predbench or rebuild the benchmark")


def read_metadata(directory: Path) -> dict[str, Any]:
    """Parse and validate ``directory/metadata.json``; its search space must be known."""
    path = directory / "metadata.json"
    if not path.is_file():
        raise BenchmarkFormatError(f"{directory} holds no metadata.json: not a benchmark directory")
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise _error(path, f"cannot be read ({_short(exc)})", "check its permissions") from exc
    except UnicodeDecodeError as exc:
        raise _error(path, f"is not UTF-8 (byte {exc.start})", FIX_METADATA) from exc
    except (ValueError, RecursionError) as exc:
        raise _error(path, f"is not valid JSON: {_short(exc)}", FIX_METADATA) from exc
    validate_metadata(meta, path)
    try:
        get_space(meta["space"])
    except KeyError as exc:
        raise _error(path, f"names an unknown search space ({_short(exc)})", FIX_METADATA) from exc
    return meta


def read_npy_header(path: Path) -> tuple[int, ...]:
    """Shape of a float32 ``.npy`` file from its header alone, checked against the file size.

    Nothing is allocated or memory-mapped: a header declaring more data than the file holds
    (truncation, corruption, a forged huge shape) is refused here.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            offset = fh.tell()
    except OSError as exc:
        raise _error(path, f"cannot be read ({_short(exc)})") from exc
    except Exception as exc:  # untrusted bytes: numpy's parser raises more than ValueError
        raise _error(path, f"has no valid .npy header ({_short(exc)})") from exc
    if dtype.kind != "f" or dtype.itemsize != 4:
        raise _error(path, f"holds {dtype}, not float32")
    if any(d < 0 for d in shape):
        raise _error(path, f"declares the negative shape {shape}")
    expected = offset + math.prod(shape) * dtype.itemsize
    if expected != size:
        raise BenchmarkFormatError(f"{path} is corrupt or truncated: its header declares shape "
                                   f"{shape} ({expected} bytes) but the file has {size} bytes; "
                                   f"{REBUILD}")
    return tuple(shape)


def check_shapes(meta: dict[str, Any], values: tuple[int, ...], static: tuple[int, ...] | None,
                 n: int, where: str | Path = "values", static_where: str | Path = "static") -> None:
    """Check array shapes against the metadata and the number of architectures ``n``."""
    if n == 0:
        raise _error(where, "the benchmark holds no architectures")
    if len(values) != 4:
        raise _error(where, f"values must be [arch, seed, epoch, metric], got shape {values}")
    if values[0] != n:
        raise _error(where, f"values has {values[0]} rows but {n} architectures")
    if values[1] != meta["seeds"]:
        raise _error(where, f"values has {values[1]} seeds; metadata says {meta['seeds']}")
    if values[2] not in (1, meta["epochs"]):
        raise _error(where, f"values has {values[2]} epochs; metadata says {meta['epochs']} "
                     "(or 1 = final)")
    if values[3] != len(meta["metrics"]):
        raise _error(where, f"values has {values[3]} metrics, metadata names "
                     f"{len(meta['metrics'])}")
    if static is not None:
        names = meta.get("static", [])
        if static != (n, len(names)):
            raise _error(static_where, f"static has shape {static}; expected ({n}, {len(names)}) "
                         f"for {names}")


def validate_shapes(meta: dict, values: np.ndarray, static: np.ndarray | None, n: int) -> None:
    """``check_shapes`` on in-memory arrays."""
    check_shapes(meta, values.shape, None if static is None else static.shape, n)


def read_arch_lines(directory: Path, n: int) -> tuple[Path, list[str]]:
    """The ``n`` lines of the architecture index (``archs.txt`` or ``archs.txt.gz``), UTF-8."""
    gz, plain = directory / "archs.txt.gz", directory / "archs.txt"
    path = gz if gz.exists() else plain
    if not path.exists():
        raise BenchmarkFormatError(f"{directory} holds no archs.txt (the architecture index); "
                                   f"{REBUILD}")
    limit = max(n, 1) * MAX_ARCH_LINE
    try:
        opener = gzip.open if path == gz else open
        with opener(path, "rb") as fh:
            data = fh.read(limit + 1)  # a decompression bomb stops here
    except (OSError, EOFError, zlib.error) as exc:
        raise _error(path, f"cannot be read ({_short(exc)})") from exc
    if len(data) > limit:
        raise _error(path, f"is larger than {n} architecture lines can be")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _error(path, f"line {line} is not valid UTF-8") from exc
    lines = text.split("\n")
    if lines[-1]:
        raise _error(path, f"line {len(lines)} does not end with a newline: truncated")
    lines.pop()
    if len(lines) != n:
        raise _error(path, f"has {len(lines)} architectures but values.npy has {n} rows")
    for i, line in enumerate(lines, 1):
        if not line.strip():
            raise _error(path, f"line {i} is empty")
    return path, lines


def _inspect(directory: Path) -> tuple[dict[str, Any], Path, list[str], bool]:
    """Metadata, archs file and lines, and whether static.npy exists; arrays checked by header."""
    meta = read_metadata(directory)
    values_path = directory / "values.npy"
    if not values_path.is_file():
        raise BenchmarkFormatError(f"{directory} holds no values.npy; {REBUILD}")
    values = read_npy_header(values_path)
    n = values[0] if values else 0
    static_path = directory / "static.npy"
    has_static = static_path.exists()
    static = read_npy_header(static_path) if has_static else None
    check_shapes(meta, values, static, n, values_path, static_path)
    archs_path, lines = read_arch_lines(directory, n)
    if meta.get("num_archs", n) != n:
        raise _error(directory / "metadata.json", f"says num_archs={meta['num_archs']} but the "
                     f"benchmark holds {n} architectures", FIX_METADATA)
    return meta, archs_path, lines, has_static


def check_benchmark(directory: str | Path) -> dict[str, Any]:
    """Cheap health check: metadata, array headers against it and the file sizes, archs count.

    Reads no array data. Returns the metadata with ``num_archs`` filled in; raises
    ``BenchmarkFormatError`` naming the file, the problem and the fix.
    """
    meta, _, lines, _ = _inspect(Path(directory))
    return {**meta, "num_archs": len(lines)}


def _load_array(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _error(f"{path} is corrupt or truncated", _short(exc)) from exc


def _parse_archs(space: SearchSpace, path: Path, lines: list[str]) -> list[Arch]:
    archs: list[Arch] = []
    seen: dict[Arch, int] = {}
    for i, line in enumerate(lines, 1):
        try:
            arch = space.from_string(line)
        except (ArchError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise _error(path, f"line {i} is not a {space.name} architecture ({_short(exc)})"
                         ) from exc
        if arch in seen:
            raise _error(path, f"line {i} repeats the architecture of line {seen[arch]}")
        seen[arch] = i
        archs.append(arch)
    return archs


def read_benchmark(directory: str | Path) -> TabularBenchmark:
    """Load one benchmark directory, checking every file before reading any array.

    Raises ``BenchmarkFormatError`` (one line: the file, the problem and the fix) on a missing,
    corrupt, truncated or inconsistent file.
    """
    directory = Path(directory)
    meta, archs_path, lines, has_static = _inspect(directory)
    archs = _parse_archs(get_space(meta["space"]), archs_path, lines)
    values = _load_array(directory / "values.npy")
    static = _load_array(directory / "static.npy") if has_static else None
    validate_shapes(meta, values, static, len(archs))
    return TabularBenchmark(meta, archs, values, static, path=directory)
