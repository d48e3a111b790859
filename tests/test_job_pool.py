"""Every pool of worker processes survives its jobs: the pool itself, search runs, generation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import job_plugins  # noqa: F401 - registers the surrogates
import pytest
from job_plugins import fail_setup, misbehave, square
from typer.testing import CliRunner

from benchmarks.builder import fashion_mnist as fm
from benchmarks.builder import generate
from benchmarks.builder.recipe import PRESETS
from benchmarks.cli import app
from benchmarks.jobs import FAILED, TIMEOUT, InProcess, JobFailure, JobPool, worker_slot
from benchmarks.search import SearchSpec, SearchStore
from benchmarks.search.runner import execute_all
from benchmarks.tabular import load_benchmark

runner = CliRunner()


def test_pool_outcomes_match_in_process_ones_and_survive_deaths_and_hangs(tmp_path):
    ok, raises, exits, hangs = ("ok", ""), ("raise", ""), ("exit", ""), ("hang", "")
    once = ("once", str(tmp_path / "marker"))
    jobs = [ok, raises, exits, once, hangs]
    out = dict(JobPool(2, task_timeout=2.0, start_method="fork").map(misbehave, jobs))
    assert out[ok] == "ok" and out[once] == "once"  # its worker died once: it ran again
    assert out[exits] == JobFailure(FAILED, "WorkerDied: the worker process running this task "
                                    "died (exit code 5), 2 times")
    assert out[hangs].status == TIMEOUT and "time limit of 2 s" in out[hangs].error
    here = dict(InProcess().map(misbehave, [ok, raises]))
    assert here[ok] == "ok"
    for failure in (out[raises], here[raises]):
        assert failure.status == FAILED and failure.error == "ValueError: bad job"
        assert "bad job" in failure.traceback


def test_pool_raises_a_failed_setup_and_numbers_its_workers():
    with pytest.raises(LookupError, match="no dataset here"):
        list(JobPool(2, initializer=fail_setup, start_method="fork").map(square, [1, 2]))
    slots = dict(JobPool(2, start_method="fork").map(_slot, range(4)))
    assert set(slots.values()) <= {0, 1} and worker_slot() == 0


def _slot(_: int) -> int:
    return worker_slot()


def _stored(db: SearchStore, key: str) -> dict[int, tuple]:
    """Each stored run's seed and steps, measured times aside."""
    return {t.run_index: (t.seed, t.arch_index.tolist(), t.accuracy.tolist(), t.best.tolist(),
                          t.sim_time.tolist(), t.regret.tolist()) for t in db.trajectories(key)}


def test_search_runs_survive_dead_and_hanging_surrogates(synthetic_bench_dir, tmp_path):
    bench = str(synthetic_bench_dir)
    clean = SearchSpec("synthetic-nb201", "bo", "test-surrogate", queries=25)
    once = SearchSpec("synthetic-nb201", "bo", "test-surrogate-die-once", queries=25,
                      predictor_params={"marker": str(tmp_path / "marker")})
    dies = SearchSpec("synthetic-nb201", "bo", "test-surrogate-exit", queries=25)
    hangs = SearchSpec("synthetic-nb201", "bo", "test-surrogate-sleep", queries=25)
    with SearchStore(tmp_path / "pool.db") as db:
        summary = execute_all([clean, dies, once, hangs], 2, db, load_benchmark(bench), jobs=2,
                              task_timeout=4.0, start_method="fork")
        pooled = {s.key: _stored(db, s.key) for s in (clean, once, dies, hangs)}
    assert sorted((j.spec.predictor, j.run_index) for j in summary.done) == [
        ("test-surrogate", 0), ("test-surrogate", 1), ("test-surrogate-die-once", 0),
        ("test-surrogate-die-once", 1)]
    failures = {(j.spec.predictor, j.run_index): f for j, f in summary.failed}
    assert {k: f.status for k, f in failures.items()} == {
        ("test-surrogate-exit", 0): FAILED, ("test-surrogate-exit", 1): FAILED,
        ("test-surrogate-sleep", 0): TIMEOUT, ("test-surrogate-sleep", 1): TIMEOUT}
    assert pooled[dies.key] == pooled[hangs.key] == {}  # a failed run is not stored
    with SearchStore(tmp_path / "serial.db") as db:  # one job in this process: the same runs
        assert not execute_all([clean, once], 2, db, jobs=1, bench=load_benchmark(bench)).failed
        assert {s.key: _stored(db, s.key) for s in (clean, once)} == {
            s.key: pooled[s.key] for s in (clean, once)}


def test_search_command_reports_failed_runs_and_exits_1(synthetic_bench_dir, tmp_path):
    args = ["search", "--benchmark", str(synthetic_bench_dir), "--method", "random,bo",
            "--predictor", "test-surrogate-raise", "--runs", "2", "--queries", "25",
            "--store", str(tmp_path / "s.db"), "--out", str(tmp_path / "out"),
            "--task-timeout", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert f"2 runs done, 2 failed, 0 timed out, 0 already in {tmp_path / 's.db'}" in result.stdout
    assert "failed: bo/test-surrogate-raise/its run 0: RuntimeError: the surrogate broke" \
        in result.stderr
    again = runner.invoke(app, args)  # the failed runs run again, the stored ones do not
    assert "0 runs done, 2 failed, 0 timed out, 2 already in" in again.stdout
    bad = runner.invoke(app, [*args[:-1], "-1"])
    assert bad.exit_code == 2 and "--task-timeout must be at least 0" in bad.stderr


#: Shard fields that are measured times (or when), the only ones that may differ.
MEASURED = {"finished", "wall_time", "latency_cpu", "epoch_time", "epoch_cpu_time", "cpu_time",
            "train_time", "test_time"}
HAVE_DATA = all((fm.DEFAULT_DIR / f).is_file() for f in fm.FILES.values())


@pytest.mark.skipif(not HAVE_DATA, reason="needs the Debian package dataset-fashion-mnist")
def test_generation_reruns_a_pair_whose_worker_died(tmp_path, monkeypatch):
    real, marker = generate.train_one, tmp_path / "marker"

    def dies_once(arch, seed, recipe, device="cpu"):
        if seed == 1 and not marker.exists():  # as the OOM killer might
            marker.write_text("")
            os._exit(9)
        return real(arch, seed, recipe, device)

    monkeypatch.setattr(generate, "train_one", dies_once)  # forked workers inherit it
    tiny, pairs = PRESETS["tiny"], [(0, 0), (0, 1)]
    done = generate.run_tasks(pairs, tiny, tmp_path / "pool", workers=2, start_method="fork")
    assert sorted(done) == pairs and marker.exists()
    assert generate.run_tasks([(0, 1)], tiny, tmp_path / "here") == [(0, 1)]  # in this process
    shards = [json.loads(Path(d, "a0000-s1.json").read_text()) for d in
              (tmp_path / "pool", tmp_path / "here")]
    pooled, here = ({k: v for k, v in s.items() if k not in MEASURED} for s in shards)
    assert pooled == here
