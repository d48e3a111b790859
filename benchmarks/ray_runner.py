"""Run plain-data jobs as tasks of a Ray cluster: the ``Runner`` ``job_runner`` picks for
``executor="ray"``.

Each job is one Ray task (``ray.remote``) that carries the job function and the job's plain data
and returns the job's outcome to this process, which stays the only writer of results. A task
asks for ``cpus`` CPUs (its native threads) and ``gpus`` GPUs (a number, or a function of the
job), so Ray places it on a node with those free; at most ``workers`` tasks are in flight.
Outcomes are those of ``benchmarks.jobs.JobPool``:

- anything a job raises is a failure of that job only (``call`` runs it on the worker);
- a task whose worker process or node dies is retried by Ray (``max_retries``), so it runs at
  most ``MAX_DEATHS`` times, then fails as ``WorkerDied``;
- a task past ``task_timeout`` seconds, counted from when its job starts on a worker (after the
  ``initializer``; a retry starts the clock anew), is cancelled (``ray.cancel(force=True)`` ends
  its worker process) and times out; a job shows it still runs every ``BEAT_S`` seconds, so
  a death is told from a long run (a worker stuck in native code that holds the GIL, and so
  silent, times out ``STUCK_S`` seconds late at most);
- ``initializer(*initargs)`` runs once per worker process before its first job; when it raises,
  or a task cannot start on a node (the project or a plug-in missing there), the whole ``map``
  stops with a ``NodeSetupError`` naming the node (a setup error, not a job's fault);
- when ``map`` ends, however it ends (a Ctrl-C included), its unfinished tasks are cancelled.

With no ``address`` (and no ``$RAY_ADDRESS``) ``map`` starts a local Ray cluster and shuts it
down at its end; a Ray already initialized in this process (``ray.init`` by the caller) is used
as it is.
"""

from __future__ import annotations

import logging
import os
import pickle
import reprlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from benchmarks.checks import OptionError
from benchmarks.jobs import MAX_DEATHS, Runner, call, timed_out, worker_died

log = logging.getLogger(__name__)

#: What to run when Ray is missing.
INSTALL_HINT = "pip install -e '.[ray]'"
#: Seconds between looks at the running tasks' time limits.
POLL_S = 0.5
#: Seconds between a running job's signs of life, and silence after which its worker may have
#: died (Ray then runs the task again, which starts its clock anew).
BEAT_S, SILENT_S = 0.5, 2.0
#: Seconds of silence after which a worker that Ray did not replace is taken to be alive but
#: stuck (e.g. in native code holding the GIL): its job's time counts again.
STUCK_S = 120.0
_INIT_FAILED, _DONE = "init-failed", "done"
#: Set-ups already run in this worker process (pickled initializer and its arguments).
_READY: set[bytes] = set()


class RayMissingError(OptionError):
    """``--executor ray`` without Ray installed."""


class NodeSetupError(OptionError):
    """A Ray node could not set up a worker (data, project or a plug-in missing there)."""


def require_ray() -> Any:
    """The ``ray`` module, else ``RayMissingError`` (one line: how to install it)."""
    try:
        import ray
    except ImportError:
        raise RayMissingError(f"--executor ray needs Ray, which is not installed: "
                              f"{INSTALL_HINT}") from None
    return ray


def where() -> str:
    """This node, for messages: ``host (ip)``."""
    try:
        import ray.util

        return f"{socket.gethostname()} ({ray.util.get_node_ip_address()})"
    except Exception:  # noqa: BLE001 - only a label
        return socket.gethostname()


def cluster_gpus() -> float:
    """GPUs of the Ray cluster this process is connected to."""
    import ray

    return float(ray.cluster_resources().get("GPU", 0))


class _Starts:
    """A Ray actor that notes when each job starts and that it still runs, so a time limit
    leaves out queueing and a retried job's clock starts again."""

    def __init__(self) -> None:
        self.starts: dict[int, list[float]] = {}

    def started(self, index: int) -> None:
        now = time.monotonic()
        self.starts[index] = [now, now]

    def beat(self, index: int) -> None:
        if index in self.starts:
            self.starts[index][1] = time.monotonic()

    def elapsed(self) -> dict[int, float]:
        """Seconds since each job's (latest) start, for those not silent for a while (their
        worker may have died, and Ray runs them again)."""
        now = time.monotonic()
        return {index: now - start for index, (start, beat) in self.starts.items()
                if not SILENT_S < now - beat < STUCK_S}


def _beat(starts: Any, index: int, done: threading.Event) -> None:
    while not done.wait(BEAT_S):
        starts.beat.remote(index)


def _task(fn: Callable[[Any], Any], job: Any, index: int, initializer: Callable[..., Any] | None,
          initargs: tuple, starts: Any) -> tuple[str, Any]:
    """One job on a Ray worker: its set-up once per process, then ``fn(job)``."""
    if initializer is not None:
        key = pickle.dumps((initializer, initargs))
        if key not in _READY:
            try:
                initializer(*initargs)
            except BaseException as exc:  # noqa: BLE001 - reported to the driver, which raises
                return _INIT_FAILED, f"on {where()}: {type(exc).__name__}: {exc}"
            _READY.add(key)
    if starts is None:
        return _DONE, call(fn, job, interruptible=False)
    starts.started.remote(index)
    done = threading.Event()
    threading.Thread(target=_beat, args=(starts, index, done), daemon=True).start()
    try:
        return _DONE, call(fn, job, interruptible=False)
    finally:
        done.set()


def _here(ray: Any) -> Any:
    """A scheduling strategy that keeps an actor on this process's node, which lives as long
    as the ``map`` (any other node may leave the cluster mid-``map``)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)


class RayRunner(Runner):
    """Runs jobs as Ray tasks, at most ``workers`` at a time (see the module docstring).

    ``address``: the cluster to join (``None``: ``$RAY_ADDRESS``, else a new local cluster).
    ``cpus``, ``gpus``: what each task asks for (``gpus`` may be a function of the job).
    """

    def __init__(self, workers: int = 2, task_timeout: float | None = None,
                 initializer: Callable[..., Any] | None = None, initargs: tuple = (),
                 address: str | None = None, cpus: float = 1,
                 gpus: float | Callable[[Any], float] = 0):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if task_timeout is not None and task_timeout <= 0:
            raise ValueError("task_timeout must be > 0 (or None for no limit)")
        require_ray()
        self.workers, self.task_timeout = workers, task_timeout
        self.initializer, self.initargs = initializer, initargs
        self.address, self.cpus, self.gpus = address, cpus, gpus

    def _connect(self, ray: Any) -> bool:
        """Join (or start) the cluster unless Ray is up here; whether this call started it."""
        if ray.is_initialized():
            return False
        address = self.address or os.environ.get("RAY_ADDRESS") or "local"
        log.info("Ray: %s", "starting a local cluster" if address == "local"
                 else f"joining the cluster at {address}")
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
        return True

    def _gpus(self, job: Any, gpus_here: float) -> float:
        gpus = self.gpus(job) if callable(self.gpus) else self.gpus
        if gpus and not gpus_here:
            raise OptionError("a task asks for a GPU but the Ray cluster has none; join GPU "
                              "nodes to it (ray start --num-gpus N) or run on cpu")
        return gpus

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any],
            label: Callable[[Any], str] = reprlib.repr) -> Iterator[tuple[Any, Any]]:
        jobs = list(jobs)
        ray = require_ray()
        started_here = self._connect(ray)
        running: dict[Any, int] = {}
        starts = None
        try:
            gpus_here = cluster_gpus()
            if self.task_timeout is not None:
                starts = ray.remote(num_cpus=0)(_Starts).options(
                    scheduling_strategy=_here(ray)).remote()
            remote = ray.remote(_task)
            queue = deque(range(len(jobs)))
            while queue or running:
                while queue and len(running) < self.workers:
                    index = queue.popleft()
                    options = {"num_cpus": self.cpus, "max_retries": MAX_DEATHS - 1,
                               "num_gpus": self._gpus(jobs[index], gpus_here)}
                    ref = remote.options(**options).remote(
                        fn, jobs[index], index, self.initializer, self.initargs, starts)
                    running[ref] = index
                ready, _ = ray.wait(list(running), num_returns=1,
                                    timeout=None if starts is None else POLL_S)
                for ref in ready:
                    index = running.pop(ref)
                    yield jobs[index], self._outcome(ray, ref, label(jobs[index]))
                if starts is not None:
                    yield from self._stop_late(ray, starts, running, jobs, label)
        finally:
            for ref in running:
                ray.cancel(ref, force=True)
            if starts is not None:
                ray.kill(starts)
            if started_here:
                ray.shutdown()

    def _stop_late(self, ray: Any, starts: Any, running: dict[Any, int], jobs: list[Any],
                   label: Callable[[Any], str]) -> Iterator[tuple[Any, Any]]:
        """Cancel the running tasks past the time limit; yield their timeouts."""
        elapsed = ray.get(starts.elapsed.remote())
        for ref, index in list(running.items()):
            if elapsed.get(index, 0.0) >= self.task_timeout:
                ray.cancel(ref, force=True)
                del running[ref]
                log.warning("%s stopped at its %g s limit", label(jobs[index]), self.task_timeout)
                yield jobs[index], timed_out(self.task_timeout)

    def _outcome(self, ray: Any, ref: Any, name: str) -> Any:
        """The job's outcome from its finished task (raises on a set-up error)."""
        from ray import exceptions as rex

        try:
            kind, outcome = ray.get(ref)
        except (rex.WorkerCrashedError, rex.NodeDiedError, rex.OutOfMemoryError,
                rex.LocalRayletDiedError) as exc:
            how = type(exc).__name__
            log.warning("%s: its Ray worker died %d times (%s)", name, MAX_DEATHS, how)
            return worker_died(f"Ray {how}", MAX_DEATHS)
        except rex.RayError as exc:  # the task could not start: unpickling or its runtime env
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise NodeSetupError(f"a Ray task for {name} could not run: {first}; every node "
                                 "needs the project installed (see README, On a cluster)"
                                 ) from exc
        if kind == _INIT_FAILED:
            raise NodeSetupError(f"setting up a Ray worker failed: {outcome}; every node needs "
                                 "the project and the data at the same paths (see README, On a "
                                 "cluster)")
        return outcome
