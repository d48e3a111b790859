"""Hostile and damaged snapshots: refused with one clear line, the store left byte-identical.

A snapshot is data only: SQL in it is never run, and names come from the code's tables.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks.cli import app
from benchmarks.snapshot import SnapshotError, dump, restore
from benchmarks.store import TABLES, ResultStore

SCHEMA = TABLES[0].sql
runner = CliRunner()


def _record(i: int) -> dict:
    return {"key": f"task-{i}", "status": "ok", "predictor": "xgb", "train_size": 10 + i,
            "kendall": 0.25 * i, "params": {"depth": i}}


def make_store(path: Path, n: int = 3) -> Path:
    with ResultStore(path) as store:
        for i in range(n):
            store.put(_record(i))
    return path


def snapshot_lines(db: Path, tmp: Path) -> list[dict]:
    snap, _ = dump(db, tmp / "valid.jsonl.gz")
    with gzip.open(snap, "rt") as lines:
        return [json.loads(line) for line in lines]


def write_snapshot(path: Path, lines: list) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    return path


def folder_state(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (a store closed cleanly has no -wal left)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture()
def valid(tmp_path) -> dict:
    """A store and the lines of its snapshot; hostile snapshots are variations of these."""
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    db = make_store(store_dir / "predbench.db")
    return {"db": db, "lines": snapshot_lines(db, tmp_path)}


def _row(lines: list[dict], **changes) -> dict:
    """The first row line, with some values changed or columns added."""
    return {"table": "evaluations", "row": {**lines[1]["row"], **changes}}


def _without(lines: list[dict], column: str) -> dict:
    row = dict(lines[1]["row"])
    del row[column]
    return {"table": "evaluations", "row": row}


OUTSIDE = "outside.db"  # what an ATTACH would create, next to the snapshot

HOSTILE = {
    "drop table": lambda ls: [{"table": "evaluations", "schema": "DROP TABLE evaluations"}],
    "delete": lambda ls: [{"table": "evaluations", "schema": "DELETE FROM evaluations"}],
    "update kendall": lambda ls: [{"table": "evaluations",
                                   "schema": "UPDATE evaluations SET kendall = 1.0"}],
    "attach database": lambda ls: [{"table": "evaluations",
                                    "schema": f"ATTACH DATABASE '{OUTSIDE}' AS evil"}],
    "attach through a quoted table name": lambda ls: [
        {"table": 'evaluations"; ATTACH DATABASE \'' + OUTSIDE + '\' AS evil; --',
         "schema": SCHEMA}],
    "schema then drop": lambda ls: [
        {"table": "evaluations", "schema": SCHEMA + "; DROP TABLE evaluations"}],
    "sql in a row's table name": lambda ls: [
        ls[0], {"table": 'evaluations" (key) VALUES (1); DROP TABLE "evaluations',
                "row": ls[1]["row"]}],
    "sql in a column name": lambda ls: [
        ls[0], _row(ls, **{'kendall") VALUES (1); DELETE FROM evaluations; --': 1})],
    "schema text altered": lambda ls: [
        {"table": "evaluations", "schema": SCHEMA.replace("kendall REAL", "kendall TEXT")
         .replace('"kendall" REAL', '"kendall" TEXT')}, *ls[1:]],
    "schema with another column": lambda ls: [
        {"table": "evaluations", "schema": SCHEMA[:-1] + ", extra TEXT)"}, *ls[1:]],
    "unknown table": lambda ls: [{"table": "users", "schema": "CREATE TABLE users (x TEXT)"}],
    "sqlite_master": lambda ls: [{"table": "sqlite_master", "schema": SCHEMA}],
    "text for a real": lambda ls: [ls[0], _row(ls, kendall="1; DROP TABLE evaluations")],
    "float for an integer": lambda ls: [ls[0], _row(ls, train_size=1.5)],
    "boolean for an integer": lambda ls: [ls[0], _row(ls, trial=True)],
    "integer beyond 64 bits": lambda ls: [ls[0], _row(ls, trial=2 ** 70)],
    "NaN for a real": lambda ls: [ls[0], _row(ls, kendall=float("nan"))],
    "number for text": lambda ls: [ls[0], _row(ls, status=3)],
    "record not JSON": lambda ls: [ls[0], _row(ls, record="{not json")],
    "record a JSON list": lambda ls: [ls[0], _row(ls, record="[1, 2]")],
    "null record": lambda ls: [ls[0], _row(ls, record=None)],
    "null key": lambda ls: [ls[0], _row(ls, key=None)],
    "missing key column": lambda ls: [ls[0], _without(ls, "key")],
    "missing created_at": lambda ls: [ls[0], _without(ls, "created_at")],
    "lone surrogate in a key": lambda ls: [
        ls[0], json.dumps(_row(ls, key="x")).replace('"key": "x"', '"key": "\\ud800"')],
    "row before its schema": lambda ls: [ls[1], ls[0]],
    "valid rows then a bad one": lambda ls: [*ls, _row(ls, key="late", trial="x")],
    "row not an object": lambda ls: [ls[0], {"table": "evaluations", "row": [1, 2]}],
    "extra key in a line": lambda ls: [ls[0], {**ls[1], "sql": "DROP TABLE evaluations"}],
    "not JSON": lambda ls: [ls[0], "DROP TABLE evaluations;"],
    "deeply nested JSON": lambda ls: [ls[0], "[" * 100_000],
    "empty snapshot": lambda ls: [],
}


def _assert_one_line_exit_2(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    for fragment in fragments:
        assert fragment in result.output


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_snapshot_is_refused_and_the_store_is_unchanged(valid, tmp_path, monkeypatch,
                                                                 case):
    monkeypatch.chdir(tmp_path)  # a relative ATTACH would land here
    snap = write_snapshot(tmp_path / "hostile.jsonl.gz", HOSTILE[case](valid["lines"]))
    before = folder_state(valid["db"].parent)
    with pytest.raises(SnapshotError, match="hostile.jsonl.gz"):
        restore(snap, valid["db"])
    assert folder_state(valid["db"].parent) == before
    result = runner.invoke(app, ["store", "restore", str(snap), "--db", str(valid["db"])])
    _assert_one_line_exit_2(result, str(snap))
    assert folder_state(valid["db"].parent) == before
    assert not (tmp_path / OUTSIDE).exists()
    with ResultStore(valid["db"]) as store:
        assert {r["key"]: r["kendall"] for r in store.records()} == {
            "task-0": 0.0, "task-1": 0.25, "task-2": 0.5}


@pytest.mark.parametrize("case", ["drop table", "valid rows then a bad one",
                                  "row before its schema"])
def test_refused_restore_creates_no_store(valid, tmp_path, case):
    snap = write_snapshot(tmp_path / "hostile.jsonl.gz", HOSTILE[case](valid["lines"]))
    target = tmp_path / "new" / "predbench.db"
    with pytest.raises(SnapshotError):
        restore(snap, target)
    assert not (tmp_path / "new").exists()


def test_message_names_file_line_problem_and_fix(valid, tmp_path):
    snap = write_snapshot(tmp_path / "bad.jsonl.gz", HOSTILE["float for an integer"](
        valid["lines"]))
    with pytest.raises(SnapshotError) as info:
        restore(snap, valid["db"])
    message = str(info.value)
    assert message.startswith(f"{snap}, line 2: evaluations.train_size must be integer")
    assert "predbench store snapshot" in message and "\n" not in message


@pytest.mark.parametrize("damage", ["truncated", "not gzip", "not UTF-8", "bad crc"])
def test_damaged_files_are_refused(valid, tmp_path, damage):
    good = write_snapshot(tmp_path / "good.jsonl.gz", valid["lines"]).read_bytes()
    data = {
        "truncated": good[: len(good) // 2],
        "not gzip": b"CREATE TABLE x (y); DROP TABLE evaluations;",
        "not UTF-8": gzip.compress(json.dumps(valid["lines"][0]).encode() + b"\n\xff\xfe\n"),
        "bad crc": good[:-8] + bytes(8),
    }[damage]
    snap = tmp_path / "damaged.jsonl.gz"
    snap.write_bytes(data)
    before = folder_state(valid["db"].parent)
    with pytest.raises(SnapshotError, match="damaged.jsonl.gz, line"):
        restore(snap, valid["db"])
    assert folder_state(valid["db"].parent) == before
