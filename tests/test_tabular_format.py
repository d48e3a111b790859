"""The tabular benchmark format: round trip, queries, and clear errors on corrupt input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_synthetic_benchmark, write_synthetic_benchmark

from benchmarks.tabular import BenchmarkFormatError, load_benchmark, read_benchmark


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
