"""Results store: round trips, exports, and resuming after kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.experiments import run_sweep
from benchmarks.harness import EvalTask
from benchmarks.store import ResultStore

TESTS = Path(__file__).resolve().parent
COMPARED = ("key", "status", "predictor", "train_size", "trial", "kendall", "spearman",
            "pearson", "n_train", "n_test", "split_seed")


def _record(key: str, **kw) -> dict:
    return {"key": key, "status": "ok", "predictor": "p", "train_size": 5, "kendall": 0.5,
            "params": {"alpha": 1.0}, "metric_missing": {"ndcg": "reason"}, **kw}


def test_put_get_replace_and_frames(tmp_path):
    with ResultStore(tmp_path / "s.db") as store:
        store.put(_record("a"))
        store.put(_record("b", status="failed", kendall=None, error="ValueError: boom"))
        store.put(_record("a", kendall=0.7))  # same key replaces, never duplicates
        assert len(store) == 2
        assert store.keys() == {"a", "b"} and store.keys("ok") == {"a"}
        assert store.get("a")["kendall"] == 0.7 and store.get("missing") is None
        frame = store.to_frame()
        assert set(frame["key"]) == {"a", "b"} and "params.alpha" in frame.columns
        csv = pd.read_csv(store.export_csv(tmp_path / "out" / "r.csv"))
        assert len(csv) == 2
        parquet = pd.read_parquet(store.export_parquet(tmp_path / "out" / "r.parquet"))
        assert sorted(parquet["key"]) == ["a", "b"]
        with pytest.raises(ValueError, match="key"):
            store.put({"status": "ok"})
    rows = sqlite3.connect(tmp_path / "s.db").execute(
        "SELECT key, status, kendall FROM evaluations ORDER BY key").fetchall()
    assert rows == [("a", "ok", 0.7), ("b", "failed", None)]


SWEEP_SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path[:0] = [{repo!r}, {tests!r}]
    import conftest  # registers the example predictors
    from benchmarks.executor import SerialExecutor
    from benchmarks.experiments import run_sweep
    from benchmarks.store import ResultStore
    from benchmarks.harness import EvalTask

    class SlowSerial(SerialExecutor):  # leaves time to be killed midway
        def map(self, tasks):
            for item in super().map(tasks):
                yield item
                time.sleep(0.1)

    tasks = [EvalTask(sys.argv[1], "example-ridge", train_size=20, test_size=40, trial=i)
             for i in range({n})]
    with ResultStore(sys.argv[2]) as store:
        run_sweep(tasks, store, SlowSerial(), progress=False)
""")


def test_kill_9_midway_then_resume_equals_clean_run(synthetic_bench_dir, tmp_path):
    n = 30
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP_SCRIPT.format(repo=str(TESTS.parent), tests=str(TESTS), n=n))
    db = tmp_path / "killed.db"
    cmd = [sys.executable, str(script), str(synthetic_bench_dir), str(db)]
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + 120
    count = 0
    count_sql = "SELECT COUNT(*) FROM evaluations"
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                count = sqlite3.connect(db).execute(count_sql).fetchone()[0]
            except sqlite3.OperationalError:  # table not created yet
                count = 0
            if count >= 5:
                break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stamps = "SELECT key, created_at FROM evaluations"
    before = dict(sqlite3.connect(db).execute(stamps).fetchall())
    assert 5 <= len(before) < n, "the sweep was not killed midway"

    subprocess.run(cmd, check=True, timeout=300)  # restart: resumes
    after = dict(sqlite3.connect(db).execute(stamps).fetchall())
    assert {k: after[k] for k in before} == before  # finished evaluations were not repeated

    tasks = [EvalTask(str(synthetic_bench_dir), "example-ridge", train_size=20, test_size=40,
                      trial=i) for i in range(n)]
    with ResultStore(tmp_path / "clean.db") as clean_store:
        run_sweep(tasks, clean_store, progress=False)
        clean = {r["key"]: r for r in clean_store.records()}
    with ResultStore(db) as store:
        resumed_rows = list(store.records())
    resumed = {r["key"]: r for r in resumed_rows}
    assert len(resumed_rows) == n and resumed.keys() == clean.keys() == {t.key() for t in tasks}
    for key, rec in clean.items():
        assert {f: resumed[key].get(f) for f in COMPARED} == {f: rec.get(f) for f in COMPARED}
