"""Executors run evaluation tasks and yield ``(task, record)`` as each finishes.

A record is what ``harness.evaluate`` returns, or a ``status="failed"`` record with the error and
traceback when the predictor raised anything at all (``SystemExit`` included), or a
``status="timeout"`` record when it ran past the task time limit. Records do not depend on the
executor apart from timings. Executors never write the store: the caller is the single writer.
Scaling out (e.g. Ray) means a new ``Executor`` subclass.

``ProcessExecutor`` keeps its own small pool instead of ``concurrent.futures``, whose pool breaks
as a whole when one worker dies. It runs ``workers`` long-lived processes (``spawn``), each with
its own pipe and one task at a time, so whatever a task does touches no other task:

- a worker that dies (``os._exit``, a segfault, the OOM killer) is replaced and its task runs
  again once the others are done, alone; a task that kills a worker ``MAX_DEATHS`` times is
  recorded as failed with the worker's exit status;
- a task past ``task_timeout`` seconds (counted from when its worker starts it) has its worker
  killed and is recorded with status ``"timeout"``;
- workers ignore SIGINT, so a Ctrl-C stops the parent, which then kills them; they also die
  with the parent, even one killed by SIGKILL (``PR_SET_PDEATHSIG`` on Linux, else a thread that
  watches the parent's pid). On Linux that signal comes when the parent *thread* that started a
  worker ends, so iterate ``map`` from a thread that outlives the sweep (the main one, say).

A worker costs an interpreter start and the import of every predictor, once per sweep (6 to 14 s
on a loaded 2-core machine where a cheap task takes 0.4 s in-process); ten cheap tasks then took
no longer than one, so workers are kept for the whole sweep rather than started per task.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from benchmarks.harness import EvalTask, evaluate
from benchmarks.threads import limit_threads

log = logging.getLogger(__name__)

Outcome = dict[str, Any]

#: Status of a task stopped at its time limit (skipped on resume like a failed one).
TIMEOUT = "timeout"
#: Worker deaths during one task after which it is recorded as failed (the last one alone).
MAX_DEATHS = 2
#: Message a worker sends when it starts a task (its time limit counts from then).
_STARTED = "started"
_PR_SET_PDEATHSIG = 1


def run_task(task: EvalTask, threads: int | None = None, *, interruptible: bool = True,
             module: str | None = None) -> Outcome:
    """Evaluate one task within a budget of ``threads`` native threads (torch, OpenMP, BLAS;
    ``None``: as they are), after importing the predictor's ``module`` when given.

    Anything raised, ``SystemExit`` included, becomes a failed record (the sweep goes on);
    a ``KeyboardInterrupt`` propagates when ``interruptible`` (a Ctrl-C of this process).
    """
    try:
        if module is not None:
            importlib.import_module(module)
        with limit_threads(threads):
            return evaluate(task)
    except BaseException as exc:  # noqa: BLE001 - a predictor may raise (or exit) anything
        if interruptible and isinstance(exc, KeyboardInterrupt):
            raise
        return failed_record(task, exc)


def failed_record(task: EvalTask, exc: BaseException) -> Outcome:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {"key": task.key(), **task.to_dict(), "status": "failed",
            "error": f"{type(exc).__name__}: {exc}", "traceback": text}


def stopped_record(task: EvalTask, status: str, error: str) -> Outcome:
    """The record of a task whose worker died (``"failed"``) or was stopped (``"timeout"``)."""
    return {"key": task.key(), **task.to_dict(), "status": status, "error": error,
            "traceback": None}


class Executor(ABC):
    """Runs tasks; yields ``(task, outcome)`` in completion order."""

    @abstractmethod
    def map(self, tasks: Sequence[EvalTask]) -> Iterator[tuple[EvalTask, Outcome]]: ...


def default_threads(workers: int) -> int:
    """Torch threads per worker when none are given: the cores shared out among the workers."""
    return max(1, (os.cpu_count() or 1) // workers)


class SerialExecutor(Executor):
    """Runs tasks one after the other in this process, with ``threads`` torch threads.

    No time limit and no protection from a predictor that ends the process (``os._exit``);
    ``ProcessExecutor(1)`` has both.
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads or default_threads(1)

    def map(self, tasks: Sequence[EvalTask]) -> Iterator[tuple[EvalTask, Outcome]]:
        for task in tasks:
            yield task, run_task(task, self.threads)


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


def make_executor(workers: int, threads: int | None = None,
                  task_timeout: float | None = None) -> Executor:
    """A sweep's executor: worker processes with the time limit (``None`` or ``0``: none), or
    this process when there is one worker and no limit."""
    if workers == 1 and not task_timeout:
        return SerialExecutor(threads)
    return ProcessExecutor(workers, threads=threads, task_timeout=task_timeout or None)


def _worker_main(conn: Connection, parent: int, threads: int) -> None:
    """A worker process: runs each task received on ``conn`` until ``None`` or end of pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent)
    import torch

    from predictors.registry import load_all

    torch.set_num_threads(threads)
    load_all()  # the built-in predictors, imported before any task's time limit starts
    while True:
        try:
            job = conn.recv()
        except EOFError:
            break
        if job is None:
            break
        task, module = job
        conn.send(_STARTED)
        outcome = run_task(task, threads, interruptible=False, module=module)
        try:
            conn.send(outcome)
        except Exception as exc:  # noqa: BLE001 - e.g. a value in the record that cannot pickle
            conn.send(failed_record(task, exc))
    conn.close()


def _exit_status(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class _Worker:
    """One worker process, the parent's end of its pipe, and the task it is running."""

    def __init__(self, ctx: Any, threads: int):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, os.getpid(), threads),
                                   name="predbench-worker")
        self.process.start()
        child.close()
        self.task: EvalTask | None = None
        self.alone = False
        self.deadline = float("inf")

    def start(self, task: EvalTask, module: str, alone: bool) -> None:
        self.task, self.alone, self.deadline = task, alone, float("inf")
        try:
            self.conn.send((task, module))
        except OSError:  # the worker died while idle: seen as a death during this task
            pass

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


class ProcessExecutor(Executor):
    """Runs tasks in ``workers`` worker processes, at most ``workers`` at a time (see above).

    Workers start with ``spawn`` by default (safe with torch threads) and import the module of
    each task's predictor, so plug-ins registered in the parent are known there too.
    ``task_timeout``: seconds a task may run (``None``: no limit).
    """

    def __init__(self, workers: int = 2, start_method: str = "spawn", threads: int | None = None,
                 task_timeout: float | None = None):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if task_timeout is not None and task_timeout <= 0:
            raise ValueError("task_timeout must be > 0 (or None for no limit)")
        self.workers = workers
        self.start_method = start_method
        self.threads = threads or default_threads(workers)
        self.task_timeout = task_timeout

    def map(self, tasks: Sequence[EvalTask]) -> Iterator[tuple[EvalTask, Outcome]]:
        from predictors.registry import get

        modules = {t.predictor: get(t.predictor).__module__ for t in tasks}
        ctx = multiprocessing.get_context(self.start_method)
        queue, again = deque(tasks), deque()  # again: tasks whose worker died; each runs alone
        deaths: dict[str, int] = {}
        idle: list[_Worker] = []
        busy: list[_Worker] = []
        try:
            while queue or again or busy:
                while not any(w.alone for w in busy):
                    if queue and len(busy) < self.workers:
                        task, alone = queue.popleft(), False
                    elif again and not queue and not busy:
                        task, alone = again.popleft(), True
                    else:
                        break
                    worker = idle.pop() if idle else _Worker(ctx, self.threads)
                    worker.start(task, modules[task.predictor], alone)
                    busy.append(worker)
                yield from self._collect(busy, idle, again, deaths)
        finally:  # idle workers are asked to leave, busy ones (on Ctrl-C, say) are killed
            for worker in idle:
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
            for worker in idle:
                worker.process.join(5)
            for worker in busy + idle:
                worker.kill()

    def _collect(self, busy: list[_Worker], idle: list[_Worker], again: deque,
                 deaths: dict[str, int]) -> Iterator[tuple[EvalTask, Outcome]]:
        """Wait for the next event among ``busy`` workers (a message, a death, a deadline)."""
        soonest = min(w.deadline for w in busy)
        timeout = None if soonest == float("inf") else max(0.0, soonest - time.monotonic())
        ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
        for worker in list(busy):
            task = worker.task
            assert task is not None
            if worker.conn in ready or worker.process.sentinel in ready:
                try:
                    message = worker.conn.recv() if worker.conn.poll() else None
                except (EOFError, OSError):
                    message = None
                if message == _STARTED:
                    if self.task_timeout is not None:
                        worker.deadline = time.monotonic() + self.task_timeout
                    continue
                busy.remove(worker)
                if message is not None:
                    idle.append(worker)
                    yield task, message
                    continue
                worker.kill()
                yield from _died(task, worker.process.exitcode, again, deaths)
            elif time.monotonic() >= worker.deadline:
                busy.remove(worker)
                worker.kill()
                log.warning("%s stopped at its %g s limit", task.predictor, self.task_timeout)
                yield task, stopped_record(
                    task, TIMEOUT,
                    f"TaskTimeout: no result within the task time limit of {self.task_timeout:g} "
                    "s; its worker process was stopped")


def _died(task: EvalTask, code: int | None, again: deque,
          deaths: dict[str, int]) -> Iterator[tuple[EvalTask, Outcome]]:
    """Run a task whose worker died again later, alone, or record it as failed."""
    key = task.key()
    deaths[key] = deaths.get(key, 0) + 1
    if deaths[key] < MAX_DEATHS:
        log.warning("a worker died running %s (%s); running it again alone", task.predictor,
                    _exit_status(code))
        again.append(task)
        return
    yield task, stopped_record(
        task, "failed", f"WorkerDied: the worker process running this task died "
        f"({_exit_status(code)}), {deaths[key]} times")
