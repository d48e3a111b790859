"""Run plain-data jobs where nothing a job does can break the others: ``Runner.map(fn, jobs)``.

A job is a picklable value and ``fn`` a module-level function (or a ``functools.partial`` of
one) called with it; ``map`` yields ``(job, outcome)`` in completion order, the outcome being
``fn(job)``'s return value or a ``JobFailure`` (``status`` ``"failed"`` or ``"timeout"``, a
one-line ``error``, the ``traceback`` where there is one). A job's result must not depend on
where or in which order it runs. Runners never write results: the caller is the single writer.

``job_runner`` is the one place that decides where jobs run: in this process (``InProcess``:
one worker, no time limit), in a ``JobPool`` of worker processes, or as tasks of a Ray cluster
(``benchmarks.ray_runner.RayRunner``, with ``executor="ray"``).

``JobPool`` keeps its own small pool instead of ``concurrent.futures``, whose pool breaks as a
whole when one worker dies. It runs ``workers`` long-lived processes (``spawn`` by default),
each with its own pipe and one job at a time, so whatever a job does touches no other job:

- anything a job raises, ``SystemExit`` included, is a failure of that job only;
- a worker that dies (``os._exit``, a segfault, the OOM killer) is replaced and its job runs
  again once the others are done, alone; a job that kills a worker ``MAX_DEATHS`` times fails
  with the worker's exit status;
- a job past ``task_timeout`` seconds (counted from when its worker starts it, after the
  worker's ``initializer``) has its worker killed and times out;
- workers ignore SIGINT, so a Ctrl-C stops the parent, which then kills them; they also die
  with the parent, even one killed by SIGKILL (``PR_SET_PDEATHSIG`` on Linux, else a thread that
  watches the parent's pid). On Linux that signal comes when the parent *thread* that started a
  worker ends, so iterate ``map`` from a thread that outlives the jobs (the main one, say);
- an ``initializer`` that raises stops the whole ``map`` with its exception (a setup error,
  not a job's fault).

A worker costs an interpreter start and its imports once per ``map`` (several seconds on a
loaded machine), so workers are kept for all the jobs rather than started per job.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import reprlib
import signal
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

log = logging.getLogger(__name__)

FAILED = "failed"
#: Status of a job stopped at its time limit.
TIMEOUT = "timeout"
#: Worker deaths during one job after which it fails (the last one alone).
MAX_DEATHS = 2
_STARTED, _DONE, _INIT_FAILED = "started", "done", "init-failed"
_PR_SET_PDEATHSIG = 1
#: This process's worker slot (0 to workers - 1; 0 outside a pool).
_SLOT = 0
#: Where ``job_runner`` can run jobs: worker processes here, or tasks of a Ray cluster.
EXECUTORS = ("process", "ray")
#: Help of the commands' ``--executor`` and ``--address`` options.
EXECUTOR_HELP = ("where jobs run: process (worker processes on this machine) or ray (tasks of "
                 "a Ray cluster, --workers of them at a time; pip install -e '.\\[ray]')")
ADDRESS_HELP = ("with --executor ray, the Ray cluster to join (e.g. HEAD_IP:6379; default "
                "$RAY_ADDRESS, else a new local cluster)")


@dataclass(frozen=True)
class JobFailure:
    """The outcome of a job that returned nothing: it raised, killed its worker, or timed out."""

    status: str
    error: str
    traceback: str | None = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> JobFailure:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(FAILED, f"{type(exc).__name__}: {exc}", text)


@dataclass
class JobsSummary:
    """What became of a command's jobs: the ones done now, the failed ones, those done before."""

    done: list[Any] = field(default_factory=list)
    failed: list[tuple[Any, JobFailure]] = field(default_factory=list)
    skipped: int = 0

    def add(self, job: Any, outcome: Any) -> bool:
        """Count ``outcome``; whether the job succeeded."""
        if isinstance(outcome, JobFailure):
            self.failed.append((job, outcome))
            return False
        self.done.append(job)
        return True

    def line(self, what: str, where: str) -> str:
        """``"3 runs done, 1 failed, 0 timed out, 2 already in store.db"``."""
        timed_out = sum(f.status == TIMEOUT for _, f in self.failed)
        return (f"{len(self.done)} {what} done, {len(self.failed) - timed_out} failed, "
                f"{timed_out} timed out, {self.skipped} already in {where}")

    def failure_lines(self, name: Callable[[Any], str] = str, most: int = 5) -> list[str]:
        """``"failed: <job name>: <error>"`` for the first ``most`` failed jobs."""
        lines = [f"{f.status}: {name(job)}: {f.error}" for job, f in self.failed[:most]]
        if len(self.failed) > most:
            lines.append(f"... and {len(self.failed) - most} more")
        return lines

    def check(self, what: str, where: str) -> None:
        """Raise ``JobsFailed`` when a job failed."""
        if self.failed:
            raise JobsFailed(self, what, where)


class JobsFailed(RuntimeError):
    """Raised once every job ran, when some failed (those that did not are kept)."""

    def __init__(self, summary: JobsSummary, what: str, where: str):
        super().__init__(summary.line(what, where))
        self.summary = summary


def call(fn: Callable[[Any], Any], job: Any, interruptible: bool) -> Any:
    """``fn(job)``, or the ``JobFailure`` of whatever it raised (``SystemExit`` included); a
    ``KeyboardInterrupt`` propagates when ``interruptible`` (a Ctrl-C of this process)."""
    try:
        return fn(job)
    except BaseException as exc:  # noqa: BLE001 - a job may raise (or exit) anything
        if interruptible and isinstance(exc, KeyboardInterrupt):
            raise
        return JobFailure.from_exception(exc)


def worker_slot() -> int:
    """The slot of the worker running this code (0 to workers - 1; 0 outside a pool), e.g. to
    spread workers over GPUs; a replaced worker takes the slot of the one that died."""
    return _SLOT


class Runner(ABC):
    """Runs ``fn`` on each job; yields ``(job, outcome)`` in completion order."""

    #: Whether jobs run in this process (``fn`` and jobs then need not pickle).
    in_process = False

    @abstractmethod
    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any],
            label: Callable[[Any], str] = reprlib.repr) -> Iterator[tuple[Any, Any]]: ...


class InProcess(Runner):
    """Runs jobs one after the other in this process (no time limit, no protection from a job
    that ends the process); ``initializer(*initargs)`` runs once, before the first job."""

    in_process = True

    def __init__(self, initializer: Callable[..., Any] | None = None, initargs: tuple = ()):
        self.initializer, self.initargs = initializer, initargs

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any],
            label: Callable[[Any], str] = reprlib.repr) -> Iterator[tuple[Any, Any]]:
        if self.initializer is not None:
            self.initializer(*self.initargs)
            self.initializer = None
        for job in jobs:
            yield job, call(fn, job, interruptible=True)


def runs_in_process(workers: int, task_timeout: float | None) -> bool:
    """Whether ``job_runner`` runs jobs in this process: one worker and no time limit."""
    return workers == 1 and not task_timeout


def job_runner(workers: int, task_timeout: float | None = None,
               initializer: Callable[..., Any] | None = None, initargs: tuple = (),
               start_method: str = "spawn", executor: str = "process",
               address: str | None = None, cpus: float = 1, gpus: float = 0) -> Runner:
    """Where jobs run: with ``executor="process"``, this process for one worker and no time
    limit (``None`` or ``0``), else a ``JobPool`` of ``workers`` processes, each set up by
    ``initializer(*initargs)``; with ``executor="ray"``, at most ``workers`` tasks at a time on
    the Ray cluster at ``address`` (``None``: ``$RAY_ADDRESS``, else a local one), each asking
    for ``cpus`` CPUs and ``gpus`` GPUs."""
    if executor == "ray":
        from benchmarks.ray_runner import RayRunner

        return RayRunner(workers, task_timeout or None, initializer, initargs, address, cpus,
                         gpus)
    if executor != "process":
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    if runs_in_process(workers, task_timeout):
        return InProcess(initializer, initargs)
    return JobPool(workers, task_timeout or None, initializer, initargs, start_method)


def timed_out(task_timeout: float) -> JobFailure:
    """The outcome of a job stopped at its time limit of ``task_timeout`` seconds."""
    return JobFailure(TIMEOUT, f"TaskTimeout: no result within the task time limit of "
                      f"{task_timeout:g} s; its worker process was stopped")


def worker_died(how: str, times: int) -> JobFailure:
    """The outcome of a job whose worker died ``times`` times (``how``: the last death)."""
    return JobFailure(FAILED, f"WorkerDied: the worker process running this task died ({how}), "
                      f"{times} times")


def exit_with_parent(parent: int) -> None:
    """End this process as soon as ``parent`` (its parent's pid) ends, however it ends."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    except (AttributeError, OSError):  # not Linux
        armed = False
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _worker_main(conn: Connection, parent: int, slot: int,
                 initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    """A worker process: runs each ``(fn, job)`` received on ``conn`` until ``None`` or EOF."""
    global _SLOT
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent)
    _SLOT = slot
    if initializer is not None:
        try:
            initializer(*initargs)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
            try:
                conn.send((_INIT_FAILED, exc))
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                conn.send((_INIT_FAILED, RuntimeError(f"{type(exc).__name__}: {exc}")))
            return
    while True:
        try:
            payload = conn.recv_bytes()
        except EOFError:
            break
        if not payload:  # asked to leave
            break
        conn.send((_STARTED, None))
        outcome = call(_unpack_and_run, payload, interruptible=False)
        try:
            conn.send((_DONE, outcome))
        except Exception as exc:  # noqa: BLE001 - e.g. a value in the result that cannot pickle
            conn.send((_DONE, JobFailure.from_exception(exc)))
    conn.close()


def _unpack_and_run(payload: bytes) -> Any:
    """Unpickle ``(fn, job)`` (importing what they need) and run it, both as part of the job."""
    fn, job = pickle.loads(payload)
    return fn(job)


def _exit_status(code: int | None) -> str:
    """``"exit code 3"`` or ``"killed by signal SIGKILL"``, from a process's exit code."""
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class _Worker:
    """One worker process, the parent's end of its pipe, and the job it is running."""

    def __init__(self, ctx: Any, slot: int, initializer: Callable[..., Any] | None,
                 initargs: tuple):
        self.slot = slot
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main,
                                   args=(child, os.getpid(), slot, initializer, initargs),
                                   name=f"predbench-worker-{slot}")
        self.process.start()
        child.close()
        self.index = -1
        self.alone = False
        self.deadline = float("inf")

    def start(self, index: int, payload: bytes, alone: bool) -> None:
        self.index, self.alone, self.deadline = index, alone, float("inf")
        try:
            self.conn.send_bytes(payload)
        except OSError:  # the worker died while idle: seen as a death during this job
            pass

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


class JobPool(Runner):
    """Runs jobs in ``workers`` worker processes, at most ``workers`` at a time (see above).

    ``task_timeout``: seconds a job may run (``None``: no limit). ``initializer(*initargs)`` sets
    up each worker before its first job (imports, models, thread counts).
    """

    def __init__(self, workers: int = 2, task_timeout: float | None = None,
                 initializer: Callable[..., Any] | None = None, initargs: tuple = (),
                 start_method: str = "spawn"):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if task_timeout is not None and task_timeout <= 0:
            raise ValueError("task_timeout must be > 0 (or None for no limit)")
        self.workers = workers
        self.task_timeout = task_timeout
        self.initializer, self.initargs = initializer, initargs
        self.start_method = start_method

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any],
            label: Callable[[Any], str] = reprlib.repr) -> Iterator[tuple[Any, Any]]:
        jobs = list(jobs)
        ctx = multiprocessing.get_context(self.start_method)
        queue, again = deque(range(len(jobs))), deque()  # again: jobs whose worker died
        deaths: dict[int, int] = {}
        idle: list[_Worker] = []
        busy: list[_Worker] = []
        try:
            while queue or again or busy:
                while not any(w.alone for w in busy):
                    if queue and len(busy) < self.workers:
                        index, alone = queue.popleft(), False
                    elif again and not queue and not busy:
                        index, alone = again.popleft(), True
                    else:
                        break
                    worker = idle.pop() if idle else self._spawn(ctx, busy)
                    worker.start(index, pickle.dumps((fn, jobs[index])), alone)
                    busy.append(worker)
                for index, outcome in self._collect(busy, idle, again, deaths, jobs, label):
                    yield jobs[index], outcome
        finally:  # idle workers are asked to leave, busy ones (on Ctrl-C, say) are killed
            for worker in idle:
                try:
                    worker.conn.send_bytes(b"")
                except OSError:
                    pass
            for worker in idle:
                worker.process.join(5)
            for worker in busy + idle:
                worker.kill()

    def _spawn(self, ctx: Any, busy: list[_Worker]) -> _Worker:
        taken = {w.slot for w in busy}
        slot = min(s for s in range(self.workers) if s not in taken)
        return _Worker(ctx, slot, self.initializer, self.initargs)

    def _collect(self, busy: list[_Worker], idle: list[_Worker], again: deque,
                 deaths: dict[int, int], jobs: list[Any], label: Callable[[Any], str]
                 ) -> Iterator[tuple[int, Any]]:
        """Wait for the next event among ``busy`` workers (a message, a death, a deadline)."""
        soonest = min(w.deadline for w in busy)
        timeout = None if soonest == float("inf") else max(0.0, soonest - time.monotonic())
        ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
        for worker in list(busy):
            if worker.conn in ready or worker.process.sentinel in ready:
                try:
                    kind, payload = worker.conn.recv() if worker.conn.poll() else (None, None)
                except (EOFError, OSError):
                    kind, payload = None, None
                if kind == _STARTED:
                    if self.task_timeout is not None:
                        worker.deadline = time.monotonic() + self.task_timeout
                    continue
                if kind == _INIT_FAILED:
                    raise payload
                busy.remove(worker)
                if kind == _DONE:
                    idle.append(worker)
                    yield worker.index, payload
                    continue
                worker.kill()
                yield from _died(worker.index, worker.process.exitcode, again, deaths,
                                 label(jobs[worker.index]))
            elif time.monotonic() >= worker.deadline:
                busy.remove(worker)
                worker.kill()
                log.warning("%s stopped at its %g s limit", label(jobs[worker.index]),
                            self.task_timeout)
                yield worker.index, timed_out(self.task_timeout)


def _died(index: int, code: int | None, again: deque, deaths: dict[int, int],
          name: str) -> Iterator[tuple[int, JobFailure]]:
    """Run a job whose worker died again later, alone, or fail it."""
    deaths[index] = deaths.get(index, 0) + 1
    if deaths[index] < MAX_DEATHS:
        log.warning("a worker died running %s (%s); running it again alone", name,
                    _exit_status(code))
        again.append(index)
        return
    yield index, worker_died(_exit_status(code), deaths[index])
