"""The restricted unpickler loads allow-listed globals only and refuses everything else."""

from __future__ import annotations

import io
import os
import pickle
from collections import OrderedDict

import pytest

from benchmarks.tabular.safe_pickle import (
    DataHolder,
    UnsafePickleError,
    inspect_globals,
    restricted_load,
)


class Record:
    """A stand-in for a foreign package's data class (pickled under this test module's name)."""

    def __init__(self, accuracy: float, tags: list[str]):
        self.accuracy = accuracy
        self.tags = tags


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


ALLOWED = {(__name__, "Record"): DataHolder}


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_allowed_global_maps_to_replacement(tmp_path, protocol):
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps({"a": Record(91.5, ["x"]), "b": [1, 2.0]}, protocol=protocol))
    out = restricted_load(path, ALLOWED)
    assert isinstance(out["a"], DataHolder) and not isinstance(out["a"], Record)
    assert out["a"].accuracy == 91.5 and out["a"].tags == ["x"]
    assert out["b"] == [1, 2.0]
    assert inspect_globals(path) == {(__name__, "Record"): 1}


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_refuses_os_system(tmp_path, protocol):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([Evil()], protocol=protocol))
    with pytest.raises(UnsafePickleError) as info:
        restricted_load(path, ALLOWED)
    message = str(info.value)
    assert "system" in message and str(path) in message
    system_global = next(iter(inspect_globals(path)))
    assert system_global[1] == "system"


def test_refuses_a_harmless_global_not_on_the_list():
    stream = io.BytesIO(pickle.dumps(OrderedDict(a=1), protocol=4))
    with pytest.raises(UnsafePickleError, match="collections.OrderedDict"):
        restricted_load(stream, ALLOWED)
    stream.seek(0)
    assert restricted_load(stream, {("collections", "OrderedDict"): dict}) == {"a": 1}


def test_refuses_persistent_ids():
    class PidPickler(pickle.Pickler):
        def persistent_id(self, obj):
            return "ext" if obj == "external" else None

    buf = io.BytesIO()
    PidPickler(buf, protocol=4).dump(["external"])
    buf.seek(0)
    with pytest.raises(UnsafePickleError, match="persistent id"):
        restricted_load(buf, ALLOWED)
