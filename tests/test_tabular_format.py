"""The tabular benchmark format: round trip, queries, and clear errors on corrupt input."""

from __future__ import annotations

import gzip
import json
import math
import re
import time

import numpy as np
import pytest
from conftest import make_synthetic_benchmark, write_synthetic_benchmark
from typer.testing import CliRunner

from benchmarks import cli, tabular
from benchmarks.tabular import BenchmarkFormatError, check_benchmark, load_benchmark, read_benchmark
from benchmarks.tabular import format as format_module


def test_round_trip_and_queries(tmp_path):
    bench = make_synthetic_benchmark(n=50)
    loaded = read_benchmark(bench.save(tmp_path / "b"))
    assert loaded.archs == bench.archs and loaded.epochs == 12 and loaded.has_curves
    np.testing.assert_array_equal(loaded.values, bench.values)
    final = loaded.final("val_acc")
    assert final == pytest.approx(bench.values[:, :, -1, 3].astype(float).mean(axis=1))
    assert loaded.final("val_acc", seed=1) == pytest.approx(bench.values[:, 1, -1, 3])
    curve = loaded.curve([0, 2], "val_acc", upto=4)
    assert curve.shape == (2, 4)
    np.testing.assert_array_equal(curve, bench.values[[0, 2], 0, :4, 3])
    assert loaded.train_cost([1]) == pytest.approx(loaded.epoch_cost([1]) * 12)
    assert loaded.partial_cost([1], 3) == pytest.approx(loaded.epoch_cost([1]) * 3)
    assert loaded.direction("val_loss") == "min" and loaded.cost_estimated is False
    with pytest.raises(ValueError, match="fidelity 13 outside 1..12"):
        loaded.curve([0], "val_acc", upto=13)
    with pytest.raises(KeyError, match="no per-architecture 'latency'"):
        loaded.static_value("latency")


def test_load_by_name_from_data_path(tmp_path, monkeypatch):
    write_synthetic_benchmark(tmp_path / "named", n=30, name="named")
    monkeypatch.setenv("PREDBENCH_DATA", str(tmp_path))
    assert load_benchmark("named").name == "named"
    with pytest.raises(BenchmarkFormatError, match="no benchmark named 'absent'"):
        load_benchmark("absent")


def test_save_is_atomic_and_validates(tmp_path):
    bench = make_synthetic_benchmark(n=30)
    bench.values = bench.values[:, :, :5, :]  # neither 12 epochs nor final-only
    with pytest.raises(BenchmarkFormatError, match="5 epochs"):
        bench.save(tmp_path / "bad")
    assert not any(tmp_path.iterdir()), "nothing half-written may be left behind"


@pytest.mark.parametrize("corrupt, message", [
    (lambda d: (d / "values.npy").write_bytes((d / "values.npy").read_bytes()[:200]),
     "corrupt or truncated"),
    (lambda d: (d / "metadata.json").write_text("{not json"), "not valid JSON"),
    (lambda d: (d / "metadata.json").write_text(json.dumps(
        {k: v for k, v in json.loads((d / "metadata.json").read_text()).items()
         if k != "objective"})), "lacks required field(s) ['objective']"),
    (lambda d: (d / "archs.txt").write_text("|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|\n"
                                            * 30), "unknown op 'bogus'"),
    (lambda d: (d / "archs.txt").unlink(), "no archs.txt"),
    (lambda d: (d / "archs.txt").write_text((d / "archs.txt").read_text() * 2),
     "has 60 architectures but values.npy has 30 rows"),
])
def test_corrupt_directories_raise_clear_errors(tmp_path, corrupt, message):
    directory = write_synthetic_benchmark(tmp_path / "b", n=30)
    corrupt(directory)
    with pytest.raises(BenchmarkFormatError) as info:
        read_benchmark(directory)
    assert message in str(info.value)


# --- validation before loading ------------------------------------------------------------------
def _rewrite_meta(directory, **changes):
    meta = json.loads((directory / "metadata.json").read_text())
    meta.update(changes)
    (directory / "metadata.json").write_text(json.dumps(meta))


def _write_npy_header(path, shape, descr="<f4", body=b"\0" * 64):
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": descr, "fortran_order": False, "shape": shape})
        fh.write(body)


def test_huge_declared_shape_is_refused_without_allocating(tmp_path):
    directory = write_synthetic_benchmark(tmp_path / "b", n=30)
    _write_npy_header(directory / "values.npy", (30, 2, 10**5, 10**5 // 3))  # ~10^12 floats
    start = time.perf_counter()
    for read in (read_benchmark, check_benchmark):
        with pytest.raises(BenchmarkFormatError, match="values.npy is corrupt or truncated: "
                                                       "its header declares shape"):
            read(directory)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("descr, shape, message", [
    ("<f8", (30, 2, 12, 5), "holds float64, not float32"),
    ("|O", (30, 2, 12, 5), "holds object, not float32"),
    ("<f4", (31, 2, 12, 5), "header declares shape (31, 2, 12, 5)"),
    ("<f4", (0, 2, 12, 5), "holds no architectures"),
])
def test_npy_header_checked_against_dtype_and_file_size(tmp_path, descr, shape, message):
    directory = write_synthetic_benchmark(tmp_path / "b", n=30)
    body = np.zeros(math.prod(shape), np.float32).tobytes() if shape[0] == 0 else b"\0" * 64
    _write_npy_header(directory / "values.npy", shape, descr, body)
    with pytest.raises(BenchmarkFormatError) as info:
        read_benchmark(directory)
    assert message in str(info.value) and "values.npy" in str(info.value)


@pytest.mark.parametrize("changes, message", [
    ({"epochs": "12"}, "field 'epochs' must be an integer"),
    ({"seeds": 0}, "field 'seeds' must be at least 1"),
    ({"seeds": 3}, "values.npy: values has 2 seeds; metadata says 3"),
    ({"metrics": ["val_acc"]}, "field 'metrics' must be an object"),
    ({"metrics": {"val_acc": {"direction": "up"}}}, "metric 'val_acc' must be an object"),
    ({"objective": "speed"}, "objective 'speed' is not one of the metrics"),
    ({"static": "params"}, "field 'static' must be a list of names"),
    ({"space": "nb999"}, "unknown search space"),
    ({"num_archs": 31}, "says num_archs=31 but the benchmark holds 30"),
    ({"format_version": 99}, "format_version 99 is not one this predbench reads"),
])
def test_metadata_fields_are_checked(tmp_path, changes, message):
    directory = write_synthetic_benchmark(tmp_path / "b", n=30)
    _rewrite_meta(directory, **changes)
    with pytest.raises(BenchmarkFormatError) as info:
        check_benchmark(directory)
    assert message in str(info.value) and (".json:" in str(info.value) or ".npy:" in message)


@pytest.mark.parametrize("content, message", [
    (b"[1, 2]", "must be a JSON object, not list"),
    (b'{"name": "\xff"}', "is not UTF-8 (byte 10)"),
    (b"[" * 100_000, "is not valid JSON"),
])
def test_metadata_that_is_not_an_object(tmp_path, content, message):
    directory = write_synthetic_benchmark(tmp_path / "b", n=30)
    (directory / "metadata.json").write_bytes(content)
    with pytest.raises(BenchmarkFormatError, match=re.escape(message)):
        read_benchmark(directory)


def _archs_bytes(directory):
    return (directory / "archs.txt").read_bytes()


def _set_line(index, line):
    """A corruption of archs.txt: line ``index`` (0-based) replaced by ``line(lines)``."""
    def corrupt(data):
        lines = data.split(b"\n")[:-1]
        lines[index] = line(lines)
        return b"\n".join(lines) + b"\n"
    return corrupt


@pytest.mark.parametrize("corrupt, message", [
    (_set_line(1, lambda lines: b"\xff" + lines[1]), "line 2 is not valid UTF-8"),
    (lambda b: b[:-10], "line 30 does not end with a newline: truncated"),
    (_set_line(1, lambda lines: b""), "line 2 is empty"),
    (_set_line(29, lambda lines: lines[0]), "line 30 repeats the architecture of line 1"),
    (_set_line(0, lambda lines: "λ".encode() + lines[0]),
     "line 1 is not a nb201 architecture"),
])
def test_archs_file_errors_name_the_line(tmp_path, corrupt, message):
    directory = write_synthetic_benchmark(tmp_path / "b", n=30)
    (directory / "archs.txt").write_bytes(corrupt(_archs_bytes(directory)))
    with pytest.raises(BenchmarkFormatError) as info:
        read_benchmark(directory)
    assert message in str(info.value) and "archs.txt" in str(info.value)


def test_compressed_archs_truncated_or_a_bomb(tmp_path, monkeypatch):
    directory = write_synthetic_benchmark(tmp_path / "b", n=30)
    lines = _archs_bytes(directory)
    (directory / "archs.txt").unlink()
    packed = gzip.compress(lines)
    (directory / "archs.txt.gz").write_bytes(packed)
    assert len(read_benchmark(directory)) == 30
    (directory / "archs.txt.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(BenchmarkFormatError, match="archs.txt.gz: cannot be read"):
        read_benchmark(directory)
    (directory / "archs.txt.gz").write_bytes(gzip.compress(lines + b"\n" * 10**6))
    monkeypatch.setattr(format_module, "MAX_ARCH_LINE", 1000)
    with pytest.raises(BenchmarkFormatError, match="larger than 30 architecture lines"):
        read_benchmark(directory)


def test_check_benchmark_is_header_only(tmp_path):
    directory = write_synthetic_benchmark(tmp_path / "b", n=30)
    assert check_benchmark(directory)["num_archs"] == 30
    # a body full of NaN bits still passes the cheap check and loads: only structure is checked
    size = (directory / "values.npy").stat().st_size
    with open(directory / "values.npy", "r+b") as fh:
        fh.seek(size - 8)
        fh.write(b"\xff" * 8)
    assert check_benchmark(directory)["name"] == "synthetic-nb201"
    assert np.isnan(read_benchmark(directory).values[-1, -1, -1, -1])


def test_benchmarks_listing_marks_broken_ones(tmp_path, monkeypatch):
    write_synthetic_benchmark(tmp_path / "good", n=30, name="good")
    bad = write_synthetic_benchmark(tmp_path / "bad", n=30, name="bad")
    (bad / "values.npy").write_bytes((bad / "values.npy").read_bytes()[:300])
    monkeypatch.setattr(tabular, "data_dirs", lambda: [tmp_path])
    result = CliRunner().invoke(cli.app, ["benchmarks"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("bad BROKEN: ") and "values.npy" in lines[0]
    assert "corrupt or truncated" in lines[0]
    assert lines[1].startswith("good space=nb201 archs=30 unique=")
