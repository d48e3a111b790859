"""Sweeps survive their predictors: exits, dead workers, hangs, and a parent killed by SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import sweep_plugins  # noqa: F401 - registers the misbehaving predictors
from typer.testing import CliRunner

from benchmarks.cli import app
from benchmarks.executor import TIMEOUT, ProcessExecutor, SerialExecutor, stopped_record
from benchmarks.experiments import run_sweep
from benchmarks.harness import EvalTask
from benchmarks.plots import write_report
from benchmarks.store import ResultStore

TESTS = Path(__file__).resolve().parent
#: Record fields that are measured times, the only ones that may differ between executors.
TIMINGS = {"init_fit_s", "init_time_s", "query_measured_s", "query_time_s",
           "query_total_measured_s", "wall_s"}


def _task(bench_dir: Path, predictor: str, **kw) -> EvalTask:
    kw.setdefault("train_size", 0)
    return EvalTask(str(bench_dir), predictor, test_size=60, **kw)


def _untimed(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in TIMINGS}


@pytest.mark.parametrize("workers", [1, 2])
def test_process_sweep_records_exits_deaths_and_hangs_and_goes_on(synthetic_bench_dir, tmp_path,
                                                                  workers):
    good = [_task(synthetic_bench_dir, "example-ridge", train_size=30, trial=i) for i in range(3)]
    exits = _task(synthetic_bench_dir, "test-sys-exit")
    interrupt = _task(synthetic_bench_dir, "test-interrupt")
    dies = _task(synthetic_bench_dir, "test-os-exit")
    hangs = _task(synthetic_bench_dir, "test-sleep")
    unlucky = _task(synthetic_bench_dir, "test-die-once", params={"marker": str(tmp_path / "m")})
    tasks = [good[0], exits, dies, hangs, unlucky, good[1], interrupt, good[2]]
    alone = {t.key(): r for t, r in SerialExecutor(threads=1).map(good + [exits])}
    executor = ProcessExecutor(workers, start_method="fork", threads=1, task_timeout=3.0)
    with ResultStore(tmp_path / "r.db") as store:
        summary = run_sweep(tasks, store, executor, progress=False)
        records = {t.key(): store.get(t.key()) for t in tasks}
    assert (summary.ok, summary.failed, summary.timed_out) == (4, 3, 1)
    assert records[unlucky.key()]["status"] == "ok"  # its worker died once: it ran again
    for t in good:  # the healthy tasks beside the bad ones: complete and as when run alone
        assert _untimed(records[t.key()]) == _untimed(alone[t.key()])
    stored = dict(records[exits.key()])  # the same record in either executor, and the store
    assert stored.pop("data_version") == records[good[0].key()]["data_version"]  # adds the data
    assert stored == alone[exits.key()]
    assert records[exits.key()]["error"] == "SystemExit: 4"
    assert records[interrupt.key()]["status"] == "failed"
    assert records[interrupt.key()]["error"].startswith("KeyboardInterrupt")
    died = records[dies.key()]
    assert died["status"] == "failed"
    assert died["error"] == ("WorkerDied: the worker process running this task died (exit code "
                             "3), 2 times")
    stopped = records[hangs.key()]
    assert stopped["status"] == TIMEOUT and "time limit of 3 s" in stopped["error"]
    with ResultStore(tmp_path / "r.db") as store:  # timed-out tasks resume like failed ones
        again = run_sweep(tasks, store, executor, progress=False)
    assert (again.skipped, again.ok, again.failed, again.timed_out) == (8, 0, 0, 0)


def test_serial_sweep_records_system_exit_but_stops_on_keyboard_interrupt(synthetic_bench_dir):
    exits = _task(synthetic_bench_dir, "test-sys-exit")
    [(_, record)] = SerialExecutor(threads=1).map([exits])
    assert record["status"] == "failed" and "SystemExit" in record["traceback"]
    with pytest.raises(KeyboardInterrupt):  # in this process it may be the user's Ctrl-C
        list(SerialExecutor(threads=1).map([_task(synthetic_bench_dir, "test-interrupt")]))


def test_task_timeout_must_be_positive():
    with pytest.raises(ValueError, match="task_timeout"):
        ProcessExecutor(1, task_timeout=0)


def test_reports_leave_out_timed_out_records(synthetic_bench_dir, tmp_path):
    good = [_task(synthetic_bench_dir, "example-ridge", train_size=30, trial=i) for i in range(2)]
    hangs = _task(synthetic_bench_dir, "test-sleep")
    with ResultStore(tmp_path / "r.db") as store:
        run_sweep(good, store, SerialExecutor(threads=1), progress=False)
        store.put(stopped_record(hangs, TIMEOUT, "TaskTimeout: no result within the limit"))
        frame = store.to_frame()
    write_report(frame, tmp_path / "out")
    summary = pd.read_csv(tmp_path / "out" / "summary_synthetic-nb201.csv")
    assert list(summary["predictor"]) == ["example-ridge"]
    note = "1 failed or timed-out evaluation(s) in the store are not shown"
    assert note in (tmp_path / "out" / "summary_synthetic-nb201.md").read_text()


PARENT_SCRIPT = textwrap.dedent("""
    import signal
    import sys
    # Ctrl-C as on a terminal, even where the test runs as a background job of a shell without
    # job control, which starts its children with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path[:0] = [{repo!r}, {tests!r}]
    import sweep_plugins  # registers the sleeping predictor
    from benchmarks.executor import ProcessExecutor
    from benchmarks.harness import EvalTask

    if __name__ == "__main__":  # spawned workers import this module too
        tasks = [EvalTask(sys.argv[1], "test-sleep", {{"pid_dir": sys.argv[2]}}, test_size=60,
                          trial=i) for i in range(2)]
        list(ProcessExecutor(2, start_method=sys.argv[3], threads=1).map(tasks))
""")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states in /proc")
@pytest.mark.parametrize("ctrl_c", [False, True], ids=["sigkill-parent", "ctrl-c"])
def test_workers_end_with_their_parent(synthetic_bench_dir, tmp_path, ctrl_c):
    """SIGKILL of the parent, or a Ctrl-C (SIGINT to the whole process group): no worker stays."""
    script = tmp_path / "sweep.py"
    script.write_text(PARENT_SCRIPT.format(repo=str(TESTS.parent), tests=str(TESTS)))
    pids = tmp_path / "pids"
    pids.mkdir()
    parent = subprocess.Popen([sys.executable, str(script), str(synthetic_bench_dir), str(pids),
                               "fork"],  # fork starts faster; workers watch their parent alike
                              start_new_session=True, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
            assert parent.poll() is None, "the sweep ended before its workers started"
            time.sleep(0.1)
        workers = [int(p.name) for p in pids.iterdir()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        if ctrl_c:
            os.killpg(parent.pid, signal.SIGINT)
            _, stderr = parent.communicate(timeout=30)
            assert parent.returncode != 0 and "KeyboardInterrupt" in stderr
    finally:
        parent.kill()
        parent.communicate()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


runner = CliRunner()


def test_run_exits_1_with_a_summary_when_every_evaluation_failed(synthetic_bench_dir, tmp_path):
    db = tmp_path / "r.db"
    result = runner.invoke(app, ["run", "-b", str(synthetic_bench_dir), "-p", "test-sys-exit",
                                 "--trials", "2", "--test-size", "60", "--store", str(db),
                                 "--workers", "1", "--task-timeout", "0"])
    assert result.exit_code == 1, result.output
    assert f"0 done, 2 failed, 0 timed out, 0 already in {db}" in result.stdout
    again = runner.invoke(app, ["run", "-b", str(synthetic_bench_dir), "-p", "test-sys-exit",
                                "--trials", "2", "--test-size", "60", "--store", str(db)])
    assert again.exit_code == 1 and "0 done, 0 failed, 0 timed out, 2 already" in again.stdout


def test_run_stops_a_task_at_the_time_limit(synthetic_bench_dir, tmp_path):
    db = tmp_path / "r.db"
    result = runner.invoke(app, ["run", "-b", str(synthetic_bench_dir), "-p", "test-sleep",
                                 "--trials", "1", "--test-size", "60", "--store", str(db),
                                 "--task-timeout", "0.5"])
    assert result.exit_code == 1, result.output
    assert "0 done, 0 failed, 1 timed out" in result.stdout
    with ResultStore(db) as store:
        [record] = store.records()
    assert record["status"] == TIMEOUT and "0.5 s" in record["error"]


def test_reproduce_exits_1_when_every_evaluation_failed(synthetic_bench_dir, tmp_path):
    out = tmp_path / "results"
    result = runner.invoke(app, ["reproduce", "-b", str(synthetic_bench_dir), "--trials", "1",
                                 "--test-size", "60", "--out", str(out), "--workers", "1",
                                 "--task-timeout", "0", "--predictors", "test-sys-exit"])
    assert result.exit_code == 1, result.output
    assert "0 done, 1 failed, 0 timed out, 0 already in" in result.stdout
    assert not list(out.glob("*.png"))


@pytest.mark.parametrize("value", ["-1", "nan"])
def test_task_timeout_rejects_negative_values(synthetic_bench_dir, value):
    result = runner.invoke(app, ["run", "-b", str(synthetic_bench_dir), "-p", "example-ridge",
                                 "--task-timeout", value])
    assert result.exit_code == 2
    assert "--task-timeout" in result.stderr and "Traceback" not in result.output
