"""Text snapshots of results stores: round trip, merge without loss, byte stability, errors."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from benchmarks.cli import app
from benchmarks.search.oracle import Step
from benchmarks.search.store import SearchStore
from benchmarks.snapshot import SnapshotError, db_path, dump, restore, snapshot_path
from benchmarks.store import ResultStore
from benchmarks.storefile import StoreError


def _record(i: int, status: str = "ok") -> dict:
    return {"key": f"task-{i}", "status": status, "predictor": "xgb", "train_size": 10 * i,
            "kendall": 0.1 * i, "params": {"depth": i}, "error": None if status == "ok" else "x"}


def _store(path, indices) -> None:
    with ResultStore(path) as store:
        for i in indices:
            store.put(_record(i, "failed" if i == 3 else "ok"))


def test_round_trip_keeps_every_record(tmp_path):
    _store(tmp_path / "a.db", range(5))
    snap, counts = dump(tmp_path / "a.db")
    assert snap == tmp_path / "a.jsonl.gz" and counts == {"evaluations": 5}
    restored, added = restore(snap, tmp_path / "b.db")
    assert added == {"evaluations": 5}
    with ResultStore(tmp_path / "a.db") as a, ResultStore(restored) as b:
        assert list(a.records()) == list(b.records())
        assert b.keys("failed") == {"task-3"}


def test_restore_adds_only_missing_rows_and_keeps_newer_ones(tmp_path):
    _store(tmp_path / "old.db", range(3))
    snap, _ = dump(tmp_path / "old.db")
    with ResultStore(tmp_path / "new.db") as store:
        store.put({**_record(1), "kendall": 0.9})  # the store went further than the snapshot
        store.put(_record(7))
    _, added = restore(snap, tmp_path / "new.db")
    assert added == {"evaluations": 2}
    with ResultStore(tmp_path / "new.db") as store:
        assert store.keys() == {"task-0", "task-1", "task-2", "task-7"}
        assert store.get("task-1")["kendall"] == 0.9
    assert restore(snap, tmp_path / "new.db")[1] == {"evaluations": 0}


def test_unchanged_store_gives_identical_bytes(tmp_path):
    _store(tmp_path / "s.db", [4, 1, 2])
    first = dump(tmp_path / "s.db", tmp_path / "one.jsonl.gz")[0].read_bytes()
    second = dump(tmp_path / "s.db", tmp_path / "two.jsonl.gz")[0].read_bytes()
    assert first == second
    _store(tmp_path / "s.db", [9])
    assert dump(tmp_path / "s.db", tmp_path / "three.jsonl.gz")[0].read_bytes() != first


def test_search_store_round_trips_including_its_without_rowid_table(tmp_path):
    with SearchStore(tmp_path / "search.db") as store:
        store.add_config("b", {"benchmark": "x", "method": "rea", "queries": 2}, "REA")
        store.add_config("a", {"benchmark": "x", "method": "random", "queries": 2}, "random")
        for key in ("b", "a"):
            steps = [Step(i, 0.5 + i, 0.5 + i, 10.0 * i, 1.0 - i, 0.0) for i in range(2)]
            store.write_run(key, 0, 7, steps, ["arch-0", "arch-1"], wall_s=0.1,
                            data_version="v1" if key == "a" else None)
    snap, counts = dump(tmp_path / "search.db")
    assert counts == {"search_configs": 2, "search_runs": 2, "search_steps": 4,
                      "search_versions": 1}
    restored, added = restore(snap, tmp_path / "copy.db")
    assert added == counts
    with SearchStore(restored) as store:
        assert store.config_keys("x") == ["a", "b"]  # restored in key order
        assert store.stale_runs("a", "v2") == {0} and not store.stale_runs("b", "v2")
        assert [t.accuracy.tolist() for t in store.trajectories("a")] == [[0.5, 1.5]]
    assert dump(restored, tmp_path / "again.jsonl.gz")[0].read_bytes() == snap.read_bytes()


def test_dump_refuses_tables_predbench_does_not_write(tmp_path):
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
    conn.close()
    with pytest.raises(StoreError, match="table users is not one predbench writes"):
        dump(tmp_path / "other.db")
    (tmp_path / "text.db").write_text("not a database at all")
    with pytest.raises(StoreError, match="not an SQLite results store"):
        dump(tmp_path / "text.db")
    assert not (tmp_path / "other.jsonl.gz").exists() and not (tmp_path / "text.jsonl.gz").exists()


def test_default_paths_pair_up(tmp_path):
    assert snapshot_path(tmp_path / "r" / "predbench.db") == tmp_path / "r" / "predbench.jsonl.gz"
    assert db_path(tmp_path / "r" / "predbench.jsonl.gz") == tmp_path / "r" / "predbench.db"
    with pytest.raises(SnapshotError, match="ends with"):
        db_path(tmp_path / "predbench.json")


def test_bad_input_is_one_clear_error_and_leaves_the_store_alone(tmp_path):
    with pytest.raises(SnapshotError, match="no such store"):
        dump(tmp_path / "missing.db")
    with pytest.raises(SnapshotError, match="no such snapshot"):
        restore(tmp_path / "missing.jsonl.gz")
    (tmp_path / "junk.jsonl.gz").write_text("not gzip")
    _store(tmp_path / "keep.db", [1])
    with pytest.raises(SnapshotError, match="not a readable gzip"):
        restore(tmp_path / "junk.jsonl.gz", tmp_path / "keep.db")
    with ResultStore(tmp_path / "keep.db") as store:
        assert store.keys() == {"task-1"}


def test_cli_snapshot_then_restore(tmp_path):
    _store(tmp_path / "predbench.db", range(2))
    runner = CliRunner()
    out = runner.invoke(app, ["store", "snapshot", str(tmp_path / "predbench.db")])
    assert out.exit_code == 0, out.output
    (tmp_path / "predbench.db").unlink()
    out = runner.invoke(app, ["store", "restore", str(tmp_path / "predbench.jsonl.gz")])
    assert out.exit_code == 0 and "evaluations: 2" in out.output, out.output
    out = runner.invoke(app, ["store", "snapshot", str(tmp_path / "nothing.db")])
    assert out.exit_code == 2 and "no such store" in out.output
