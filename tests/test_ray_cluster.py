"""A sweep on a simulated two-node Ray cluster (``ray.cluster_utils.Cluster``) that loses its
second node mid-sweep: the task that ran there runs again on the head, and every task is
recorded once."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import node_plugins  # noqa: F401 - registers the predictor that stalls on one node
import pytest

from benchmarks.executor import RayExecutor
from benchmarks.experiments import run_sweep
from benchmarks.harness import EvalTask
from benchmarks.store import ResultStore

TESTS = Path(__file__).resolve().parent

try:
    import ray
    from ray.cluster_utils import Cluster
except ImportError:
    ray = None


@pytest.fixture
def two_nodes():
    """A head and a second node of one CPU each, this process connected to the head."""
    if ray is None:
        pytest.skip("needs Ray: pip install -e '.[ray]'")
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        second = cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, logging_level=logging.WARNING,
                 runtime_env={"env_vars": {"PYTHONPATH": str(TESTS), "OMP_NUM_THREADS": "1"}})
        yield cluster, second
    finally:
        ray.shutdown()
        cluster.shutdown()


class CountingStore(ResultStore):
    """A store that counts the records written for each key."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.puts: Counter[str] = Counter()

    def put(self, record: dict[str, Any]) -> None:
        self.puts[record["key"]] += 1
        super().put(record)


def test_a_sweep_that_loses_a_node_records_every_task_once(two_nodes, synthetic_bench_dir,
                                                             tmp_path):
    cluster, second = two_nodes
    markers = tmp_path / "stalled"
    markers.mkdir()
    params = {"node": second.node_id, "marker_dir": str(markers)}
    tasks = [EvalTask(str(synthetic_bench_dir), "test-stall-on-node", {**params, "n": n},
                      test_size=60) for n in range(6)]
    finished = threading.Event()

    def remove_second_when_a_task_stalls_there() -> bool:
        while not any(markers.iterdir()):
            if finished.wait(0.1):
                return False
        cluster.remove_node(second)
        return True

    # two tasks in flight on two one-CPU nodes: one of them runs on the second node; the time
    # limit's bookkeeping (an actor) must outlive that node too
    executor = RayExecutor(2, threads=1, task_timeout=120.0)
    with CountingStore(tmp_path / "r.db") as store, ThreadPoolExecutor(1) as pool:
        removed = pool.submit(remove_second_when_a_task_stalls_there)
        try:
            summary = run_sweep(tasks, store, executor, progress=False)
        finally:
            finished.set()
        assert removed.result(), "no task ran on the second node"
        assert len(list(markers.iterdir())) == 1  # one task stalled there, then the node went
        assert (summary.ok, summary.failed, summary.timed_out) == (6, 0, 0)  # it ran again
        assert store.puts == Counter({t.key(): 1 for t in tasks})
        assert store.keys("ok") == {t.key() for t in tasks} and len(store) == 6
