"""Property-based tests of the converters: corrupt sources raise ConverterError, nothing else.

Small valid sources are built here (NASLib NB201/NB301/NB101 pickles, a NAS-Bench-Graph table,
a Suite-Zero JSON, an AnalogNAS-Bench pickle), then mutated as bytes (truncation, flipped,
inserted or deleted bytes, random bytes) or as structure (a node replaced by a random value).
A conversion either writes a benchmark that loads, or raises ``ConverterError`` in one line.
"""

from __future__ import annotations

import copy
import json
import pickle
import shutil
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import edit_bytes

from benchmarks.tabular import ConverterError, nasbench_graph, naslib, read_benchmark, suite_zero
from benchmarks.tabular.analog_nasbench import read_table
from benchmarks.tabular.safe_pickle import CorruptPickleError, numpy_globals, restricted_load
from predictors.spaces import get_space
from predictors.spaces.darts import OPS as DARTS_OPS
from predictors.spaces.nb201 import NB201Space

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**4, 10**4) | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=5,
)


# --- valid sources ------------------------------------------------------------------------------
def nb201_source() -> dict:
    space = get_space("nb201")
    data = {}
    for i, arch in enumerate(list(space.enumerate())[:3]):
        rec = {"train_acc1es": [10.0, 30.0 + i], "eval_acc1es": np.array([5.0, 40.0 + i]),
               "train_losses": [2.0, 1.0], "eval_losses": [2.1, 1.1], "train_times": [3.0, 3.0],
               "flop": 10.0 + i, "params": np.float64(0.1 * (i + 1)), "latency": 0.01}
        data[space.to_string(arch)] = {"cifar10-valid": rec}
    return data


def nb301_source() -> dict:
    space = get_space("darts")
    rng = np.random.default_rng(0)
    return {
        tuple(tuple((src, DARTS_OPS.index(op)) for op, src in cell) for cell in arch.spec): {
            "val_accuracies": [50.0, 60.0 + i], "train_losses": [1.0, 0.5], "runtime": 300.0}
        for i, arch in enumerate(space.sample(rng) for _ in range(2))
    }


def _class_in(module: str, name: str) -> type:
    """A class pickled under ``module.name``, as the foreign package's own would be."""
    return type(name, (), {"__module__": module, "__qualname__": name})


def _pickled_with_modules(obj_factory: Callable[[dict[str, type]], Any],
                          classes: dict[str, tuple[str, str]]) -> bytes:
    """Pickle ``obj_factory(classes)`` while stand-in modules make the classes findable."""
    made = {key: _class_in(*where) for key, where in classes.items()}
    names = {".".join(c.__module__.split(".")[:i + 1]) for c in made.values()
             for i in range(c.__module__.count(".") + 1)}
    modules = {name: types.ModuleType(name) for name in names}
    for cls in made.values():
        setattr(modules[cls.__module__], cls.__name__, cls)
    with pytest.MonkeyPatch.context() as mp:
        for name, module in modules.items():
            mp.setitem(sys.modules, name, module)
        return pickle.dumps(obj_factory(made), protocol=4)


def nb101_source() -> bytes:
    def build(cls: dict[str, type]) -> Any:
        obj = cls["api"]()
        matrix = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]], dtype=np.int8)
        obj.fixed_statistics = {"h1": {"module_adjacency": matrix, "trainable_parameters": 1000,
                                       "module_operations": ["input", "conv3x3-bn-relu",
                                                             "output"]}}
        run = {"final_validation_accuracy": 0.9, "final_test_accuracy": 0.89,
               "final_train_accuracy": 1.0, "final_training_time": 1080.0}
        obj.computed_statistics = {"h1": {108: [run, dict(run)]}}
        return obj

    return _pickled_with_modules(build, {"api": ("nasbench.api", "NASBench")})


def analog_source() -> bytes:
    def build(cls: dict[str, type]) -> Any:
        data = {}
        for i, key in enumerate([(0, 2, 3, 2, 3, 1), (1, 1, 1, 1, 1, 1)]):
            rec = cls["arch"]()
            for name in ("baseline", "ptq", "qat", "noisy", "analog"):
                setattr(rec, f"{name}_accuracy", 50.0 + i)
            for kind in ("baseline", "analog"):
                for t in (60, 3600, 86400, 2592000):
                    drift = cls["drift"]()
                    drift.value, drift.uncertainty = 40.0 + i, 1.0
                    setattr(rec, f"{kind}_drift_{t}", drift)
            data[key] = rec
        return data

    return _pickled_with_modules(build, {"arch": ("analognasbench.data", "Architecture"),
                                         "drift": ("analognasbench.data", "DriftMeasurement")})


def graph_source() -> dict:
    return {k: {"valid_perf": 0.5 + 0.1 * i, "perf": 0.4 + 0.1 * i, "latency": 0.001 * (i + 1),
                "para": np.float64(1.5 + i)} for i, k in enumerate((0, 10000, 20000))}


def suite_zero_source() -> dict:
    keys = ["(0, 2, 3, 2, 3, 1)", "(1, 1, 1, 1, 1, 1)", "(2, 4, 1, 4, 2, 4)"]
    return {"cifar10": {k: {"val_accuracy": 80.0 + i, "synflow": {"score": 1.0 + i, "time": 0.5}}
                        for i, k in enumerate(keys)}}


# --- conversions, each from bytes on disk -------------------------------------------------------
def convert_naslib(kind: str) -> Callable[[Path, Path], None]:
    return lambda src, out: naslib.convert(kind, src, out, allow_pickle=True)


def convert_graph(src: Path, out: Path) -> None:
    nasbench_graph.convert_dataset("cora", out, source=src)


def convert_suite_zero(src: Path, out: Path) -> None:
    suite_zero.convert(src, out)


def convert_analog(src: Path, out: Path) -> None:
    archs, meta, values = read_table(src, NB201Space())  # the rest times real networks
    assert len(archs) == values.shape[0] and values.shape[1] == len(meta)


SOURCES: dict[str, tuple[Callable[[], Any], Callable[[Path, Path], None]]] = {
    "nb201": (lambda: pickle.dumps(nb201_source()), convert_naslib("nb201")),
    "nb301": (lambda: pickle.dumps(nb301_source()), convert_naslib("nb301")),
    "nb101": (nb101_source, convert_naslib("nb101")),
    "graph": (lambda: pickle.dumps(graph_source()), convert_graph),
    "suite_zero": (lambda: json.dumps(suite_zero_source()).encode(), convert_suite_zero),
    "analog": (analog_source, convert_analog),
}


@pytest.fixture(scope="module")
def valid_sources() -> dict[str, bytes]:
    return {name: make() for name, (make, _) in SOURCES.items()}


def _outcome(name: str, raw: bytes) -> bool:
    """Convert ``raw``: True when it converted (and what it wrote loads), else False."""
    work = Path(tempfile.mkdtemp(prefix="convert-"))
    try:
        src, out = work / "source", work / "out"
        src.write_bytes(raw)
        try:
            SOURCES[name][1](src, out)
        except ConverterError as exc:
            assert "\n" not in str(exc)
            return False
        written = [out] if (out / "metadata.json").is_file() else sorted(out.glob("*"))
        for directory in written:
            assert len(read_benchmark(directory)) > 0
        return True
    finally:
        shutil.rmtree(work)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_valid_sources_convert(valid_sources, name):
    assert _outcome(name, valid_sources[name])


@SETTINGS
@given(st.data(), st.sampled_from(sorted(SOURCES)))
def test_mutated_bytes(valid_sources, data, name):
    raw = valid_sources[name]
    if data.draw(st.integers(0, 9)) == 0:
        raw = data.draw(st.binary(max_size=64))
    else:
        for _ in range(data.draw(st.integers(1, 3))):
            raw = edit_bytes(raw, data.draw)
    _outcome(name, raw)


def _nodes(obj: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every container entry in a nested dict/list structure."""
    out = [path]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += _nodes(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            out += _nodes(value, (*path, i))
    return out


def _replace(obj: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    obj = copy.copy(obj)
    obj[path[0]] = _replace(obj[path[0]], path[1:], value)
    return obj


STRUCTURED = {"nb201": nb201_source, "nb301": nb301_source, "graph": graph_source,
              "suite_zero": suite_zero_source}


@SETTINGS
@given(st.data(), st.sampled_from(sorted(STRUCTURED)))
def test_mutated_structure(data, name):
    source = STRUCTURED[name]()
    path = data.draw(st.sampled_from(_nodes(source)))
    mutated = _replace(source, path, data.draw(VALUES))
    if name == "suite_zero":
        raw = json.dumps(mutated).encode()
    else:
        raw = pickle.dumps(mutated)
    _outcome(name, raw)


def test_forged_array_shape_allocates_nothing(tmp_path):
    """A pickled ndarray whose shapes claim 10^12 elements is refused at once."""
    huge = b"\x8a\x05" + (10**12).to_bytes(5, "little") + b"\x85"  # LONG1 10^12, TUPLE1
    payload = pickle.dumps(np.zeros(2, np.float32), protocol=3)  # protocol 3: no frames
    assert payload.count(b"K\x00\x85") == 1 and payload.count(b"K\x02\x85") == 1
    path = tmp_path / "forged.pickle"
    path.write_bytes(payload.replace(b"K\x00\x85", huge).replace(b"K\x02\x85", huge))
    start = time.perf_counter()
    with pytest.raises(CorruptPickleError, match="not a well-formed pickle"):
        restricted_load(path, numpy_globals())
    assert time.perf_counter() - start < 1.0
    path.write_bytes(payload)
    np.testing.assert_array_equal(restricted_load(path, numpy_globals()), np.zeros(2))


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "objects.pickle"
    path.write_bytes(pickle.dumps({"x": np.array([1, "a"], dtype=object)}))
    with pytest.raises(ConverterError, match="holds Python objects"):
        naslib.convert("nb201", path, tmp_path / "out", allow_pickle=True)
