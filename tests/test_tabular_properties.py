"""Property-based tests of the benchmark loader: mutated files raise BenchmarkFormatError only.

Each example copies a small valid benchmark, mutates one file (metadata.json, values.npy,
static.npy, the archs index) and loads it: either it loads consistently, or the loader and the
cheap check raise ``BenchmarkFormatError`` with a one-line message.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import write_synthetic_benchmark
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import edit_bytes

from benchmarks.tabular import BenchmarkFormatError, check_benchmark, read_benchmark

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
N_ARCHS = 12
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return write_synthetic_benchmark(tmp_path_factory.mktemp("base") / "b", n=N_ARCHS, epochs=3)


def _load_outcome(directory: Path) -> None:
    """Load ``directory``; only BenchmarkFormatError (one line) may escape; loads are consistent."""
    try:
        meta = check_benchmark(directory)
    except BenchmarkFormatError as exc:
        assert "\n" not in str(exc)
        with pytest.raises(BenchmarkFormatError):
            read_benchmark(directory)
        return
    try:
        bench = read_benchmark(directory)
    except BenchmarkFormatError as exc:  # the cheap check does not parse architectures
        assert "\n" not in str(exc) and "archs" in str(exc)
        return
    assert bench.values.dtype.kind == "f" and bench.values.dtype.itemsize == 4
    assert bench.values.shape[0] == len(bench.archs) == meta["num_archs"]
    assert bench.values.shape[1] == meta["seeds"]
    assert bench.values.shape[3] == len(bench.metric_names)
    assert bench.static is None or bench.static.shape == (len(bench), len(bench.static_names))


def _mutated(base: Path, name: str, data: bytes, drop: str | None = None):
    work = Path(tempfile.mkdtemp(prefix="mutated-"))
    directory = Path(shutil.copytree(base, work / "b"))
    if drop:
        (directory / drop).unlink()
    (directory / name).write_bytes(data)
    return work, directory


def _check(base: Path, name: str, data: bytes, drop: str | None = None) -> None:
    work, directory = _mutated(base, name, data, drop)
    try:
        _load_outcome(directory)
    finally:
        shutil.rmtree(work)


@SETTINGS
@given(st.data())
def test_mutated_metadata(base, data):
    meta = json.loads((base / "metadata.json").read_text())
    kind = data.draw(st.sampled_from(["drop", "set", "bytes", "json"]))
    if kind == "drop":
        meta.pop(data.draw(st.sampled_from(sorted(meta))))
        raw = json.dumps(meta).encode()
    elif kind == "set":
        key = data.draw(st.sampled_from([*sorted(meta), "num_archs", "format_version"]))
        meta[key] = data.draw(JSON_VALUES)
        raw = json.dumps(meta).encode()
    elif kind == "bytes":
        raw = edit_bytes(json.dumps(meta).encode(), data.draw)
    else:
        raw = json.dumps(data.draw(JSON_VALUES)).encode()
    _check(base, "metadata.json", raw)


@SETTINGS
@given(st.data(), st.sampled_from(["values.npy", "static.npy"]))
def test_mutated_npy(base, data, name):
    raw = (base / name).read_bytes()
    if data.draw(st.booleans()):
        header_end = raw.index(b"\n") + 1
        edited = edit_bytes(raw[:header_end], data.draw) + raw[header_end:]
    else:
        edited = edit_bytes(raw, data.draw)
    _check(base, name, edited)


@SETTINGS
@given(st.data(), st.sampled_from(["values.npy", "static.npy"]))
def test_forged_npy_headers(base, data, name):
    raw = (base / name).read_bytes()
    body = raw[raw.index(b"\n") + 1:]
    ndim = data.draw(st.integers(0, 5))
    shape = tuple(data.draw(st.lists(st.integers(0, 10**7), min_size=ndim, max_size=ndim)))
    descr = data.draw(st.sampled_from(["<f4", ">f4", "<f8", "<i4", "|u1", "|O", "<c8"]))
    header = {"descr": descr, "fortran_order": data.draw(st.booleans()), "shape": shape}
    with tempfile.TemporaryFile() as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.seek(0)
        forged = fh.read()
    cut = data.draw(st.integers(0, len(body)))
    _check(base, name, forged + body[:cut])


@SETTINGS
@given(st.data(), st.booleans())
def test_mutated_archs(base, data, compressed):
    raw = (base / "archs.txt").read_bytes()
    lines = raw.split(b"\n")[:-1]
    kind = data.draw(st.sampled_from(["bytes", "drop", "repeat", "swap_in", "random"]))
    if kind == "bytes":
        edited = edit_bytes(raw, data.draw)
    elif kind == "drop":
        del lines[data.draw(st.integers(0, len(lines) - 1))]
        edited = b"\n".join(lines) + b"\n"
    elif kind == "repeat":
        lines.append(lines[data.draw(st.integers(0, len(lines) - 1))])
        edited = b"\n".join(lines) + b"\n"
    elif kind == "swap_in":
        lines[data.draw(st.integers(0, len(lines) - 1))] = data.draw(st.text(max_size=40)).encode()
        edited = b"\n".join(lines) + b"\n"
    else:
        edited = data.draw(st.binary(max_size=200))
    if compressed:
        packed = gzip.compress(edited)
        if data.draw(st.booleans()):
            packed = edit_bytes(packed, data.draw)
        _check(base, "archs.txt.gz", packed, drop="archs.txt")
    else:
        _check(base, "archs.txt", edited)


def test_unmutated_copy_loads(base):
    work, directory = _mutated(base, "archs.txt", (base / "archs.txt").read_bytes())
    try:
        bench = read_benchmark(directory)
        assert len(bench) == N_ARCHS and check_benchmark(directory)["num_archs"] == N_ARCHS
    finally:
        shutil.rmtree(work)
