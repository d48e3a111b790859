"""`predbench score` stopped part-way goes on from its last whole chunk, to the same file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from benchmarks import score
from benchmarks.cli import app
from benchmarks.score_checkpoint import progress_path
from predictors.zero_cost.proxy import ZeroCostProxy

ARCHS = 7


class Stop(RuntimeError):
    """Stands for a killed or failing run."""


@pytest.fixture
def request_args(synthetic_bench, synthetic_bench_dir, tmp_path, monkeypatch):
    """Score 7 cells with jacov (its init and batch seeds drawn per chunk) in chunks of 2."""
    monkeypatch.setattr(score, "CHUNK", 2)
    archs = tmp_path / "archs.txt"
    archs.write_text("".join(f"{synthetic_bench.space.to_string(a)}\n"
                             for a in synthetic_bench.archs[:ARCHS]))

    def args(out, *extra):
        return ["score", "-p", "jacov", "-b", str(synthetic_bench_dir), "--archs", str(archs),
                "--device", "cpu", "--seed", "5", "-o", str(out), *extra]
    return args


def stop_at_query(monkeypatch, number: int) -> None:
    """Make the ``number``-th query of the run raise ``Stop``."""
    calls = {"n": 0}
    query = ZeroCostProxy.query

    def stopping(self, archs, ctx):
        calls["n"] += 1
        if calls["n"] == number:
            raise Stop("stopped")
        return query(self, archs, ctx)
    monkeypatch.setattr(ZeroCostProxy, "query", stopping)


def test_a_stopped_scoring_goes_on_to_the_file_of_an_uninterrupted_run(
        request_args, tmp_path, monkeypatch):
    whole = tmp_path / "whole.csv"
    assert CliRunner().invoke(app, request_args(whole)).exit_code == 0
    assert not progress_path(whole).exists()

    out = tmp_path / "resumed.csv"
    with monkeypatch.context() as patch:
        stop_at_query(patch, 3)
        stopped = CliRunner().invoke(app, request_args(out))
    assert isinstance(stopped.exception, Stop)
    sidecar = json.loads(progress_path(out).read_text())
    assert sidecar["rows"] == 4 and sidecar["request"]["n"] == ARCHS
    assert not score.record_path(out).exists()
    with out.open("a") as fh:  # a chunk that reached the file just before the stop
        fh.write("|half-written")

    resumed = CliRunner().invoke(app, request_args(out))
    assert resumed.exit_code == 0, resumed.output
    assert "went on after 4" in resumed.output
    assert "jacov scores 3/3 (100%)" in resumed.output  # progress counts what is left
    assert out.read_bytes() == whole.read_bytes()
    assert not progress_path(out).exists()
    record = json.loads(score.record_path(out).read_text())
    first = json.loads(score.record_path(whole).read_text())
    assert record["resumed_after"] == [4] and "resumed_after" not in first
    assert record["n"] == first["n"] == ARCHS and record["seed"] == 5
    assert record["spearman"] == pytest.approx(first["spearman"])
    assert record["cpu_seconds"] > 0 and record["query_seconds"] > 0


def test_a_stopped_scoring_refuses_another_request_and_a_broken_sidecar(
        request_args, tmp_path, monkeypatch):
    out = tmp_path / "s.csv"
    with monkeypatch.context() as patch:
        stop_at_query(patch, 2)
        CliRunner().invoke(app, request_args(out))
    kept = out.read_bytes()
    assert json.loads(progress_path(out).read_text())["rows"] == 2

    other = CliRunner().invoke(app, [*request_args(out)[:-2], "--seed", "6", "-o", str(out)])
    assert other.exit_code == 2 and "another seed" in other.output
    assert "Traceback" not in other.output and progress_path(out).name in other.output
    assert out.read_bytes() == kept  # nothing is lost

    sidecar = json.loads(progress_path(out).read_text())
    progress_path(out).write_text(json.dumps({**sidecar, "rng_state": {"state": 1}}))
    garbled = CliRunner().invoke(app, request_args(out))
    assert garbled.exit_code == 2 and "no state of numpy's default generator" in garbled.output
    progress_path(out).write_text("{not json")
    broken = CliRunner().invoke(app, request_args(out))
    assert broken.exit_code == 2 and "not a readable scoring checkpoint" in broken.output
    assert out.read_bytes() == kept

    progress_path(out).unlink()  # the fix named: start over
    fresh = CliRunner().invoke(app, request_args(out))
    assert fresh.exit_code == 0 and "went on" not in fresh.output


def test_a_scoring_stopped_twice_goes_on_each_time(request_args, tmp_path, monkeypatch):
    whole, out = tmp_path / "whole.csv", tmp_path / "twice.csv"
    assert CliRunner().invoke(app, request_args(whole)).exit_code == 0
    for rows in (2, 4):  # each run stops at its second query
        with monkeypatch.context() as patch:
            stop_at_query(patch, 2)
            assert isinstance(CliRunner().invoke(app, request_args(out)).exception, Stop)
        assert json.loads(progress_path(out).read_text())["rows"] == rows
    assert CliRunner().invoke(app, request_args(out)).exit_code == 0
    assert out.read_bytes() == whole.read_bytes()
    assert json.loads(score.record_path(out).read_text())["resumed_after"] == [2, 4]
