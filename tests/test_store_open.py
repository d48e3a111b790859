"""Stores open only on a path that can be one: a bad ``--store`` is one line and exit 2, before
any work, and the file there is left as it was."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from test_snapshot_hostile import folder_state, make_store
from typer.testing import CliRunner

from benchmarks.cli import app
from benchmarks.search.store import SearchStore
from benchmarks.snapshot import dump
from benchmarks.store import ResultStore
from benchmarks.storefile import StoreError

runner = CliRunner()


def _sqlite(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql)
    conn.close()


def bad_store(kind: str, folder: Path) -> tuple[Path, str]:
    """A store path of the given kind under ``folder`` and a fragment of its error."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "predbench.db"
    if kind == "directory":
        path.mkdir()
        return path, "is a directory"
    if kind == "under a file":
        (folder / "file.txt").write_text("x")
        return folder / "file.txt" / "predbench.db", "cannot create its folder"
    if kind == "not SQLite":
        path.write_text("these are not the results you are looking for\n" * 3)
        return path, "not an SQLite results store"
    if kind == "other columns":
        _sqlite(path, "CREATE TABLE evaluations (key TEXT PRIMARY KEY, kendall TEXT)")
        return path, "table evaluations has another schema"
    if kind == "search store":
        SearchStore(path).close()
        return path, "another kind of store"
    if kind == "evaluation store":
        make_store(path, 1)
        return path, "another kind of store"
    if kind == "other search schema":
        _sqlite(path, "CREATE TABLE search_runs (config_key TEXT)")
        return path, "table search_runs has another schema"
    if kind == "unrelated":
        _sqlite(path, "CREATE TABLE users (name TEXT)")
        return path, "another kind of store"
    raise AssertionError(kind)


EVALUATION_CASES = ["directory", "under a file", "not SQLite", "other columns", "search store",
                    "unrelated"]
SEARCH_CASES = ["directory", "under a file", "not SQLite", "evaluation store",
                "other search schema"]


def _one_line_exit_2(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.mark.parametrize("kind", EVALUATION_CASES)
def test_result_store_refuses_a_bad_path_and_leaves_it_alone(tmp_path, kind):
    path, fragment = bad_store(kind, tmp_path / "case")
    before = folder_state(tmp_path)
    with pytest.raises(StoreError, match=fragment) as info:
        ResultStore(path)
    assert str(path) in str(info.value)
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("kind", SEARCH_CASES)
def test_search_store_refuses_a_bad_path_and_leaves_it_alone(tmp_path, kind):
    path, fragment = bad_store(kind, tmp_path / "case")
    before = folder_state(tmp_path)
    with pytest.raises(StoreError, match=fragment):
        SearchStore(path)
    assert folder_state(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="not writable"):
            ResultStore(folder / "predbench.db")
    finally:
        folder.chmod(0o700)


def test_special_file_is_refused():
    with pytest.raises(StoreError, match="not a regular file"):
        ResultStore(Path(os.devnull))


def test_good_stores_reopen(tmp_path):
    make_store(tmp_path / "r.db", 2)
    with ResultStore(tmp_path / "r.db") as store:
        assert len(store) == 2
    SearchStore(tmp_path / "s.db").close()
    SearchStore(tmp_path / "s.db").close()


@pytest.mark.parametrize("kind", EVALUATION_CASES)
def test_run_refuses_a_bad_store_before_evaluating(synthetic_bench_dir, tmp_path, kind):
    path, fragment = bad_store(kind, tmp_path / "case")
    before = folder_state(tmp_path)
    result = runner.invoke(app, ["run", "-b", str(synthetic_bench_dir), "-p", "example-ridge",
                                 "--train-size", "20", "--test-size", "40", "--trials", "1",
                                 "--store", str(path)])
    _one_line_exit_2(result, str(path), fragment)
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("kind", ["directory", "search store"])
def test_reproduce_refuses_a_bad_store(synthetic_bench_dir, tmp_path, kind):
    path, fragment = bad_store(kind, tmp_path / "case")
    before = folder_state(tmp_path)
    result = runner.invoke(app, ["reproduce", "-b", str(synthetic_bench_dir), "--predictors",
                                 "example-ridge", "--trials", "1", "--workers", "1",
                                 "--store", str(path), "--out", str(tmp_path / "case" / "out")])
    _one_line_exit_2(result, str(path), fragment)
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("kind", ["not SQLite", "other columns", "search store", "unrelated"])
def test_plot_and_snapshot_refuse_a_bad_store(tmp_path, kind):
    path, fragment = bad_store(kind, tmp_path / "case")
    before = folder_state(tmp_path)
    result = runner.invoke(app, ["plot", "--store", str(path), "--out", str(tmp_path / "out")])
    _one_line_exit_2(result, str(path), fragment)
    if kind != "search store":  # a search store snapshots fine
        result = runner.invoke(app, ["store", "snapshot", str(path)])
        _one_line_exit_2(result, str(path))
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("kind", EVALUATION_CASES)
def test_restore_refuses_a_bad_store(tmp_path, kind):
    snap, _ = dump(make_store(tmp_path / "good.db", 2), tmp_path / "good.jsonl.gz")
    path, fragment = bad_store(kind, tmp_path / "case")
    before = folder_state(tmp_path / "case")
    result = runner.invoke(app, ["store", "restore", str(snap), "--db", str(path)])
    _one_line_exit_2(result, str(path), fragment)
    assert folder_state(tmp_path / "case") == before


@pytest.mark.parametrize("kind", SEARCH_CASES)
def test_search_refuses_a_bad_store_before_searching(synthetic_bench_dir, tmp_path, kind):
    path, fragment = bad_store(kind, tmp_path / "case")
    before = folder_state(tmp_path)
    result = runner.invoke(app, ["search", "--benchmark", str(synthetic_bench_dir), "--method",
                                 "random", "--runs", "1", "--queries", "5", "--store", str(path),
                                 "--out", str(tmp_path / "case" / "out")])
    _one_line_exit_2(result, str(path), fragment)
    assert folder_state(tmp_path) == before
