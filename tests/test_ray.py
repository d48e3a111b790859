"""The Ray executor on a local two-CPU Ray cluster: the records and outcomes of the process pool,
retried worker deaths, timeouts, a missing benchmark on a worker, the shards of a tiny
``build generate``, and one line without Ray."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import job_plugins  # noqa: F401 - registers the surrogates
import pytest
import sweep_plugins  # noqa: F401 - registers the misbehaving predictors
from job_plugins import misbehave
from typer.testing import CliRunner

from benchmarks.builder import fashion_mnist
from benchmarks.builder.shards import read_shards
from benchmarks.cli import app
from benchmarks.executor import TIMEOUT, RayExecutor
from benchmarks.experiments import run_sweep
from benchmarks.harness import EvalTask
from benchmarks.jobs import FAILED, JobFailure, JobPool, job_runner
from benchmarks.ray_runner import NodeSetupError
from benchmarks.search import SearchSpec, SearchStore
from benchmarks.search.runner import execute_all
from benchmarks.store import ResultStore

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS.parent / "scripts"))
import compare_records  # noqa: E402 - the records of two stores, timings aside

try:
    import ray
except ImportError:  # the tests that need Ray are skipped; the one-line error is still tested
    ray = None

on_ray = pytest.mark.usefixtures("cluster")
runner = CliRunner()
#: Fields of a shard that measure time or say when it was written.
SHARD_TIMINGS = {"finished", "wall_time", "epoch_time", "epoch_cpu_time", "cpu_time",
                 "train_time", "test_time", "latency_cpu"}


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster of 2 CPUs for the module; its workers import the test plug-ins."""
    if ray is None:
        pytest.skip("needs Ray: pip install -e '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
             runtime_env={"env_vars": {"PYTHONPATH": str(TESTS), "OMP_NUM_THREADS": "1"}})
    yield
    ray.shutdown()


def _records(store: Path) -> dict[str, dict]:
    return compare_records.load(store)


@on_ray
def test_reproduce_on_ray_stores_the_records_of_the_process_pool(synthetic_bench_dir, tmp_path):
    stores = {}
    for where in ("process", "ray"):
        out = tmp_path / where
        result = runner.invoke(app, [
            "reproduce", "--benchmark", str(synthetic_bench_dir), "--trials", "1",
            "--predictors", "example-ridge,example-last-epoch", "--test-size", "60",
            "--workers", "2", "--threads", "1", "--out", str(out), "--executor", where])
        assert result.exit_code == 0, result.output
        stores[where] = out / "predbench.db"
    pool, on_ray = _records(stores["process"]), _records(stores["ray"])
    assert len(pool) >= 4 and pool.keys() == on_ray.keys()
    for ident, record in pool.items():
        assert record["status"] == "ok"
        assert record["key"] == on_ray[ident]["key"]
        assert compare_records.differences(record, on_ray[ident]) == ([], set())
    assert compare_records.main([str(stores["process"]), str(stores["ray"])]) == 0


@on_ray
def test_ray_runner_outcomes_match_the_pool_ones():
    ok, raises, exits, hangs = ("ok", ""), ("raise", ""), ("exit", ""), ("hang", "")
    out = dict(job_runner(2, 3.0, executor="ray").map(misbehave, [ok, raises, exits, hangs]))
    assert out[ok] == "ok"
    assert out[exits] == JobFailure(FAILED, "WorkerDied: the worker process running this task "
                                    "died (Ray WorkerCrashedError), 2 times")  # ran twice
    pool = dict(JobPool(1, task_timeout=3.0, start_method="fork").map(misbehave, [hangs, raises]))
    assert out[hangs] == pool[hangs]  # the same timeout, word for word
    assert out[hangs].status == TIMEOUT and "time limit of 3 s" in out[hangs].error
    assert (out[raises].status, out[raises].error) == (pool[raises].status, pool[raises].error)


def _task(bench_dir: Path, predictor: str, **kw) -> EvalTask:
    kw.setdefault("train_size", 0)
    return EvalTask(str(bench_dir), predictor, test_size=60, **kw)


@on_ray
def test_ray_sweep_retries_a_killed_worker_records_a_timeout_and_resumes(synthetic_bench_dir,
                                                                          tmp_path):
    unlucky = _task(synthetic_bench_dir, "test-die-once", params={"marker": str(tmp_path / "m")})
    hangs = _task(synthetic_bench_dir, "test-sleep")
    executor = RayExecutor(2, threads=1, task_timeout=3.0)
    with ResultStore(tmp_path / "r.db") as store:
        summary = run_sweep([unlucky, hangs], store, executor, progress=False)
        retried, stopped = store.get(unlucky.key()), store.get(hangs.key())
        again = run_sweep([unlucky, hangs], store, executor, progress=False)
    assert (summary.ok, summary.failed, summary.timed_out) == (1, 0, 1)
    assert retried["status"] == "ok"  # its worker was killed mid-task: Ray ran it again
    assert stopped["status"] == TIMEOUT
    assert stopped["error"] == ("TaskTimeout: no result within the task time limit of 3 s; its "
                                "worker process was stopped")
    assert (again.skipped, again.ok) == (2, 0)  # timed-out tasks resume like failed ones


@on_ray
def test_a_benchmark_missing_on_a_worker_stops_the_sweep_with_one_clear_error(tmp_path):
    missing = _task(tmp_path / "not-here", "example-ridge", train_size=30)
    with ResultStore(tmp_path / "r.db") as store, pytest.raises(NodeSetupError) as err:
        run_sweep([missing], store, RayExecutor(1, threads=1), progress=False)
    assert "setting up a Ray worker failed: on " in str(err.value)
    assert "no benchmark named" in str(err.value) and "not-here" in str(err.value)


@on_ray
@pytest.mark.parametrize("method,predictor,extra", [
    ("evolution", "test-surrogate", {"queries": 20}),
    ("early_stop", "sotle", {"queries": 40}),  # multi-fidelity
    ("nsga", None, {"queries": 20, "objectives": ("params",)}),  # two objectives
])
def test_search_on_ray_stores_the_runs_of_this_process(synthetic_bench_dir, tmp_path, method,
                                                       predictor, extra):
    spec = SearchSpec(str(synthetic_bench_dir), method, predictor, **extra)
    stored = {}
    for where, jobs in (("process", 1), ("ray", 2)):
        with SearchStore(tmp_path / f"{where}.db") as db:
            summary = execute_all([spec], 4, db, jobs=jobs, task_timeout=0, executor=where)
            stored[where] = {t.run_index: (t.seed, t.arch_index.tolist(), t.regret.tolist())
                             for t in db.trajectories(spec.key)}
        assert len(summary.done) == 4 and not summary.failed
    assert stored["process"] == stored["ray"]


@pytest.mark.skipif(not all((fashion_mnist.DEFAULT_DIR / f).is_file()
                         for f in fashion_mnist.FILES.values()),
                    reason="needs the Debian package dataset-fashion-mnist")
@on_ray
def test_build_generate_on_ray_writes_the_shards_of_a_local_run(tmp_path):
    shards = {}
    for where, workers in (("process", "1"), ("ray", "2")):
        out = tmp_path / where
        result = runner.invoke(app, [
            "build", "generate", "--recipe", "tiny", "--archs", "1", "--second-seed-every", "1",
            "--workers", workers, "--shards", str(out), "--executor", where])
        assert result.exit_code == 0, result.output
        shards[where] = {(r["index"], r["seed"]): {k: v for k, v in r.items()
                                                   if k not in SHARD_TIMINGS}
                         for r in read_shards(out)}
    assert set(shards["process"]) == {(0, 0), (0, 1)}
    assert all(len(r["curves"]["val_acc"]) == 1 for r in shards["process"].values())
    assert shards["process"] == shards["ray"]


@pytest.mark.parametrize("command", [
    ["run", "--predictor", "example-ridge"],
    ["search", "--method", "random"],
    ["build", "zero-cost", "--recipe", "tiny"],
])
def test_executor_ray_without_ray_is_one_line(command, synthetic_bench_dir, tmp_path,
                                              monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as when not installed
    if command[0] != "build":
        command = [*command, "--benchmark", str(synthetic_bench_dir)]
    result = runner.invoke(app, [*command, "--executor", "ray", "--store" if command[0] != "build"
                                 else "--shards", str(tmp_path / "s")])
    assert result.exit_code == 2, result.output
    assert result.stderr == ("error: --executor ray needs Ray, which is not installed: "
                             "pip install -e '.[ray]'\n")
