"""Converters on small fixtures written here: NAS-Bench-Graph, Suite-Zero, NASLib pickles."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from typer.testing import CliRunner

from benchmarks import cli
from benchmarks.tabular import (
    load_benchmark,
    nasbench_graph,
    naslib,
    read_benchmark,
    suite_zero,
)
from benchmarks.tabular.safe_pickle import UnsafePickleError
from predictors.spaces import get_space

# --- NAS-Bench-Graph ----------------------------------------------------------------------------
KEYS = (0, 10000, 20000, 88887)  # package keys: link index, then one base-10 digit per op


def _bench_fixture(path):
    table = {
        k: {"valid_perf": 0.5 + 0.1 * i, "perf": 0.45 + 0.1 * i if i != 1 else 0.9,
            "latency": 0.001 * (i + 1), "para": np.float64(1.5 + i)}
        for i, k in enumerate(KEYS)
    }
    path.write_bytes(pickle.dumps(table))
    return table


def test_nasbench_graph_converter(tmp_path):
    src = tmp_path / "cora.bench"
    _bench_fixture(src)
    bench = nasbench_graph.convert_dataset("cora", tmp_path / "out", source=src)
    loaded = read_benchmark(tmp_path / "out")
    space = get_space("nbgraph")
    assert [space.to_string(a) for a in loaded.archs][0] == "0,0,0,0|gat,gat,gat,gat"
    assert loaded.archs == bench.archs and len(loaded) == 4
    np.testing.assert_allclose(loaded.final("valid_acc"), [50, 60, 70, 80], rtol=1e-6)
    np.testing.assert_allclose(loaded.final("test_acc"), [45, 90, 65, 75], rtol=1e-6)
    np.testing.assert_allclose(loaded.static_value("params"), [1.5e6, 2.5e6, 3.5e6, 4.5e6])
    np.testing.assert_allclose(loaded.epoch_cost([3]), [0.012], rtol=1e-5)
    assert loaded.metadata["cost"]["estimated"] is True and loaded.cost_estimated
    assert loaded.metadata["valid_test_kendall_tau"] == pytest.approx(2 / 6)
    assert loaded.objective == "valid_acc"


def test_nasbench_graph_refuses_foreign_globals(tmp_path):
    src = tmp_path / "evil.bench"
    src.write_bytes(pickle.dumps({0: {"valid_perf": __import__("collections").OrderedDict()}}))
    with pytest.raises(UnsafePickleError, match="OrderedDict"):
        nasbench_graph.read_bench(src)
    with pytest.raises(nasbench_graph.ConverterError, match="unknown NAS-Bench-Graph dataset"):
        nasbench_graph.convert_dataset("mnist", tmp_path / "x", source=src)


def test_committed_nasbench_graph_data():
    bench = load_benchmark("nasbench-graph-cora")
    assert len(bench) == 26206 and bench.space.name == "nbgraph"
    assert 0.5 < bench.metadata["valid_test_kendall_tau"] < 0.6
    assert len(load_benchmark("nasbench-graph-proteins")) == 2021


# --- NAS-Bench-Suite-Zero -----------------------------------------------------------------------
def _zc_record(key, acc, synflow):
    return {"idx": "1", "arch": key, "val_accuracy": acc,
            "synflow": {"score": synflow, "time": 0.5},
            "params": {"score": synflow / 10, "time": 0.1}}


def test_suite_zero_converter(tmp_path):
    table = {
        "cifar10": {
            "(2, 2, 2, 0, 3, 4)": _zc_record("(2, 2, 2, 0, 3, 4)", 88.98, 74.3),
            "(1, 0, 2, 2, 2, 1)": _zc_record("(1, 0, 2, 2, 2, 1)", 81.0, 40.0),
            "(2, 4, 1, 4, 2, 4)": _zc_record("(2, 4, 1, 4, 2, 4)", 60.5, 12.0),
        },
        "cifar100": {"(2, 2, 2, 0, 3, 4)": _zc_record("(2, 2, 2, 0, 3, 4)", 60.0, 74.3)},
    }
    src = tmp_path / "zc_nasbench201.json"
    src.write_text(json.dumps(table))
    out = suite_zero.convert(src, tmp_path / "data")
    assert set(out) == {"cifar10", "cifar100"}
    bench = read_benchmark(tmp_path / "data" / "suite-zero-nb201-cifar10")
    assert bench.static_names == ["zc_params", "zc_synflow", "zc_params_time", "zc_synflow_time"]
    np.testing.assert_allclose(bench.static_value("zc_synflow"), [74.3, 40.0, 12.0], rtol=1e-6)
    np.testing.assert_allclose(bench.final(), [88.98, 81.0, 60.5], rtol=1e-6)
    nb201 = get_space("nb201")
    assert bench.archs[0] == nb201.from_op_indices((2, 2, 2, 0, 3, 4))
    assert bench.metadata["cost"]["available"] is False


def test_suite_zero_errors(tmp_path):
    bad = tmp_path / "zc.json"
    bad.write_text(json.dumps({"cifar10": {"(9, 9)": {"val_accuracy": 1.0}}}))
    with pytest.raises(suite_zero.ConverterError, match="bad architecture key"):
        suite_zero.convert(bad, tmp_path / "d")
    bad.write_text("{not json")
    with pytest.raises(suite_zero.ConverterError, match="not valid JSON"):
        suite_zero.convert(bad, tmp_path / "d")


# --- NASLib pickles -----------------------------------------------------------------------------
def _nb201_fixture(path, epochs=4):
    space = get_space("nb201")
    archs = list(space.enumerate())[:3]
    data = {}
    for i, a in enumerate(archs):
        rec = {"train_acc1es": list(np.linspace(10, 50 + i, epochs)),
               "eval_acc1es": np.linspace(5, 40 + i, epochs),  # numpy arrays are allowed
               "train_losses": [2.0] * epochs, "eval_losses": [2.1] * epochs,
               "train_times": [3.0 + i] * epochs, "eval_times": [1.0] * epochs,
               "flop": 10.0 + i, "params": 0.1 * (i + 1), "latency": 0.01}
        data[space.to_string(a)] = {"cifar10-valid": rec, "cifar100": rec}
    path.write_bytes(pickle.dumps(data))
    return archs


def test_naslib_nb201(tmp_path):
    src = tmp_path / "nb201.pickle"
    archs = _nb201_fixture(src)
    with pytest.raises(naslib.ConverterError, match="allow_pickle=True"):
        naslib.convert("nb201", src, tmp_path / "d")
    out = naslib.convert("nb201", src, tmp_path / "d", allow_pickle=True)
    assert set(out) == {"cifar10-valid", "cifar100"}
    bench = read_benchmark(tmp_path / "d" / "naslib-nb201-cifar10-valid")
    assert bench.archs == archs and bench.epochs == 4 and bench.has_curves
    np.testing.assert_allclose(bench.final("val_acc"), [40, 41, 42], rtol=1e-6)
    np.testing.assert_allclose(bench.curve([0], "train_acc", 4)[0], np.linspace(10, 50, 4),
                               rtol=1e-6)
    np.testing.assert_allclose(bench.epoch_cost([0, 2]), [3.0, 5.0])


def test_naslib_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    src = tmp_path / "evil.pickle"
    src.write_bytes(pickle.dumps({"x": Evil()}))
    with pytest.raises(UnsafePickleError, match="builtins.print"):
        naslib.convert("nb201", src, tmp_path / "d", allow_pickle=True)
    with pytest.raises(naslib.ConverterError, match="unknown NASLib data kind"):
        naslib.convert("nlp", src, tmp_path / "d", allow_pickle=True)


def test_naslib_nb301(tmp_path):
    space = get_space("darts")
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(3)]
    from predictors.spaces.darts import OPS

    data = {
        tuple(tuple((src, OPS.index(op)) for op, src in cell) for cell in a.spec): {
            "val_accuracies": [50.0, 60.0 + i, 70.0 + i], "train_losses": [1.0, 0.5, 0.2],
            "runtime": 300.0}
        for i, a in enumerate(archs)
    }
    src = tmp_path / "nb301.pickle"
    src.write_bytes(pickle.dumps(data))
    bench = naslib.convert("nb301", src, tmp_path / "nb301", allow_pickle=True)
    assert bench.archs == archs
    np.testing.assert_allclose(bench.final("val_acc"), [70, 71, 72])
    np.testing.assert_allclose(bench.epoch_cost([0]), [100.0])


def test_naslib_nb101(tmp_path, monkeypatch):
    # a stand-in for the NAS-Bench-101 API object, pickled under the module name it has there
    import sys
    import types

    monkeypatch.setitem(sys.modules, "nasbench", types.ModuleType("nasbench"))

    mod = types.ModuleType("nasbench.api")

    class NASBench:
        pass

    NASBench.__module__ = "nasbench.api"
    NASBench.__qualname__ = "NASBench"
    mod.NASBench = NASBench
    monkeypatch.setitem(sys.modules, "nasbench.api", mod)
    obj = NASBench()
    m = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]], dtype=np.int8)
    obj.fixed_statistics = {
        "h1": {"module_adjacency": m, "module_operations": ["input", "maxpool3x3", "output"],
               "trainable_parameters": 1000},
    }
    run = {"final_validation_accuracy": 0.9, "final_test_accuracy": 0.89,
           "final_train_accuracy": 1.0, "final_training_time": 1080.0}
    obj.computed_statistics = {"h1": {108: [run, run]}}
    src = tmp_path / "nb101.pkl"
    src.write_bytes(pickle.dumps(obj))
    monkeypatch.delitem(sys.modules, "nasbench.api")
    bench = naslib.convert("nb101", src, tmp_path / "nb101", allow_pickle=True)
    assert bench.values.shape == (1, 2, 1, 3)
    np.testing.assert_allclose(bench.final("val_acc"), [90.0], rtol=1e-6)
    np.testing.assert_allclose(bench.epoch_cost([0]), [10.0])
    assert get_space("nb101").to_string(bench.archs[0]) == "011,001,000|input,maxpool3x3,output"


# --- command line -------------------------------------------------------------------------------
def _one_line_error(result, fragment):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and fragment in result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1


def test_convert_command(tmp_path):
    runner = CliRunner()
    src = tmp_path / "nb201.pickle"
    _nb201_fixture(src)
    naslib_args = ["convert", "naslib", "nb201", str(src), str(tmp_path / "d")]
    _one_line_error(runner.invoke(cli.app, naslib_args), "(CLI: --allow-pickle)")
    done = runner.invoke(cli.app, [*naslib_args, "--allow-pickle"])
    assert done.exit_code == 0, done.output
    assert "wrote naslib-nb201-cifar10-valid (3 architectures)" in done.output
    assert len(read_benchmark(tmp_path / "d" / "naslib-nb201-cifar10-valid")) == 3
    src.write_bytes(src.read_bytes()[:100])
    _one_line_error(runner.invoke(cli.app, [*naslib_args, "--allow-pickle"]),
                    "is not a well-formed pickle")
    table = tmp_path / "zc.json"
    table.write_bytes(b'{"cifar10": "\xff"}')
    _one_line_error(runner.invoke(cli.app, ["convert", "suite-zero", str(table), str(tmp_path)]),
                    "is not UTF-8 (byte 13)")
    _one_line_error(runner.invoke(cli.app, ["convert", "nasbench-graph", str(tmp_path),
                                            "--source", str(src)]),
                    "--source needs exactly one --dataset")


def test_suite_zero_command_takes_the_directory_as_argument_or_out(tmp_path):
    runner = CliRunner()
    src = tmp_path / "zc_nasbench201.json"
    src.write_text(json.dumps({"cifar10": {"(2, 2, 2, 0, 3, 4)": _zc_record(
        "(2, 2, 2, 0, 3, 4)", 88.98, 74.3)}}))
    for args, where in ([str(tmp_path / "a")], "a"), (["--out", str(tmp_path / "b")], "b"):
        done = runner.invoke(cli.app, ["convert", "suite-zero", str(src), *args])
        assert done.exit_code == 0, done.output
        assert len(read_benchmark(tmp_path / where / "suite-zero-nb201-cifar10")) == 1
    for args in ([], [str(tmp_path / "c"), "--out", str(tmp_path / "d")]):
        _one_line_error(runner.invoke(cli.app, ["convert", "suite-zero", str(src), *args]),
                        "give the data directory once")
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()


def test_analog_command_reports_errors_in_one_line(tmp_path, capsys):
    timings = tmp_path / "cost_measurements.csv"
    timings.write_text("arch,flops\nx,1\n")
    for args, fragment in [
        (["--check-only", "--check", str(tmp_path / "zc.json")], "holds no metadata.json"),
        (["--timings", str(timings)], "lacks the column(s) ['seconds_per_image', 'device']"),
    ]:
        with pytest.raises(SystemExit) as info:
            cli.main(["convert", "analog-nasbench", "--out", str(tmp_path / "out"), *args])
        err = capsys.readouterr().err
        assert info.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1
        assert fragment in err
