"""Property tests of restore: whatever a snapshot file holds, only SnapshotError escapes (or
StoreError for a well-formed snapshot of another kind of store), and a refused snapshot leaves
the store byte-identical."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_snapshot_hostile import folder_state, make_store

from benchmarks.snapshot import TABLES, SnapshotError, dump, restore
from benchmarks.store import ResultStore
from benchmarks.storefile import StoreError

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict:
    """Bytes of a small closed store and of its snapshot (gzip and text)."""
    folder = tmp_path_factory.mktemp("pristine")
    db = make_store(folder / "predbench.db", n=2)
    snap, _ = dump(db)
    return {"db": db.read_bytes(), "snapshot": snap.read_bytes(),
            "text": gzip.decompress(snap.read_bytes())}


def check_restore(pristine: dict, data: bytes, parent: Path) -> None:
    """Restore ``data`` into a copy of the pristine store: it either goes in, leaving a store
    that opens, or is refused with one line and the store is unchanged. Only a snapshot holding
    no evaluations table (a search store's) may be refused with StoreError."""
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        folder = Path(tmp) / "store"
        folder.mkdir()
        db = folder / "predbench.db"
        db.write_bytes(pristine["db"])
        snap = Path(tmp) / "s.jsonl.gz"
        snap.write_bytes(data)
        try:
            restore(snap, db)
        except (SnapshotError, StoreError) as exc:
            assert "\n" not in str(exc)
            if isinstance(exc, StoreError):
                lines = [json.loads(line) for line in gzip.decompress(data).splitlines()]
                assert "another kind of store" in str(exc)
                assert not any(line["table"] == "evaluations" for line in lines)
            assert folder_state(folder) == {"predbench.db": pristine["db"]}
        else:
            with ResultStore(db) as store:
                assert len(store) >= 2


@SETTINGS
@given(data=st.binary(max_size=300), compress=st.booleans())
def test_random_bytes(pristine, tmp_path, data, compress):
    check_restore(pristine, gzip.compress(data) if compress else data, tmp_path)


COLUMNS = [c.name for c in TABLES["evaluations"].columns]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=6)
table_names = st.sampled_from([*TABLES, "users", 'evaluations"--', ""]) | st.text(max_size=12)
schemas = st.sampled_from([t.sql for t in TABLES.values()]) | st.text(max_size=30)
rows = st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=6), json_values, max_size=25)
lines = st.one_of(
    st.fixed_dictionaries({"table": table_names, "schema": schemas}),
    st.fixed_dictionaries({"table": table_names, "row": rows}),
    st.dictionaries(st.sampled_from(["table", "schema", "row", "x"]), json_values, max_size=3),
    json_values,
)


@SETTINGS
@given(lines=st.lists(lines, max_size=6))
def test_random_json_lines(pristine, tmp_path, lines):
    text = "".join(json.dumps(line) + "\n" for line in lines)
    check_restore(pristine, gzip.compress(text.encode()), tmp_path)


values = json_values | st.integers(-(1 << 65), 1 << 65) | st.sampled_from(["{}", '{"a": [1]}'])


@SETTINGS
@given(changed=st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=6), values,
                               max_size=3),
       dropped=st.sets(st.sampled_from(COLUMNS), max_size=2))
def test_real_snapshot_with_random_row_values(pristine, tmp_path, changed, dropped):
    header, row = (json.loads(line) for line in pristine["text"].splitlines()[:2])
    values = {k: v for k, v in {**row["row"], **changed}.items() if k not in dropped}
    text = json.dumps(header) + "\n" + json.dumps({"table": "evaluations", "row": values})
    check_restore(pristine, gzip.compress(text.encode()), tmp_path)


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, byte) edits: 0 flips bits, 1 inserts, 2 deletes, 3 truncates."""
    out = bytearray(data)
    for kind, position, byte in edits:
        at = position % (len(out) + 1)
        if kind == 0 and at < len(out):
            out[at] ^= byte or 1
        elif kind == 1:
            out.insert(at, byte)
        elif kind == 2 and at < len(out):
            del out[at]
        elif kind == 3:
            del out[at:]
    return bytes(out)


edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1 << 16), st.integers(0, 255)),
                 min_size=1, max_size=4)


@SETTINGS
@given(edits=edits)
def test_mutated_gzip_bytes_of_a_real_snapshot(pristine, tmp_path, edits):
    check_restore(pristine, _mutate(pristine["snapshot"], edits), tmp_path)


@SETTINGS
@given(edits=edits)
def test_mutated_text_of_a_real_snapshot(pristine, tmp_path, edits):
    check_restore(pristine, gzip.compress(_mutate(pristine["text"], edits)), tmp_path)
