"""Executors run evaluation tasks and yield ``(task, record)`` as each finishes.

A record is what ``harness.evaluate`` returns, or a ``status="failed"`` record with the error and
traceback when the predictor raised anything at all (``SystemExit`` included), or a
``status="timeout"`` record when it ran past the task time limit. Records do not depend on the
executor apart from timings. Executors never write the store: the caller is the single writer.
Scaling out (e.g. Ray) means a new ``Executor`` subclass.

``ProcessExecutor`` runs tasks on a ``benchmarks.jobs.JobPool`` (read its module docstring): a
worker that dies is replaced and its task runs again alone, then is recorded as failed with the
worker's exit status; a task past ``task_timeout`` is stopped and recorded with status
``"timeout"``; workers ignore SIGINT and die with their parent. Its workers import every
predictor once, before any task's time limit starts, and each task's predictor module, so
plug-ins registered in the parent are known there too.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from benchmarks.harness import EvalTask, evaluate
from benchmarks.jobs import TIMEOUT, JobFailure, JobPool, call, runs_in_process
from benchmarks.threads import limit_threads

log = logging.getLogger(__name__)

Outcome = dict[str, Any]

__all__ = ["TIMEOUT", "Executor", "ProcessExecutor", "SerialExecutor", "make_executor",
           "run_task", "failed_record", "failure_record", "stopped_record"]


def run_task(task: EvalTask, threads: int | None = None, *, interruptible: bool = True,
             module: str | None = None) -> Outcome:
    """Evaluate one task within a budget of ``threads`` native threads (torch, OpenMP, BLAS;
    ``None``: as they are), after importing the predictor's ``module`` when given.

    Anything raised, ``SystemExit`` included, becomes a failed record (the sweep goes on);
    a ``KeyboardInterrupt`` propagates when ``interruptible`` (a Ctrl-C of this process).
    """
    def run(task: EvalTask) -> Outcome:
        if module is not None:
            importlib.import_module(module)
        with limit_threads(threads):
            return evaluate(task)

    outcome = call(run, task, interruptible)
    return failure_record(task, outcome) if isinstance(outcome, JobFailure) else outcome


def failed_record(task: EvalTask, exc: BaseException) -> Outcome:
    return failure_record(task, JobFailure.from_exception(exc))


def failure_record(task: EvalTask, failure: JobFailure) -> Outcome:
    """The record of a task that returned none (it raised, its worker died, or it timed out)."""
    return {"key": task.key(), **task.to_dict(), "status": failure.status,
            "error": failure.error, "traceback": failure.traceback}


def stopped_record(task: EvalTask, status: str, error: str) -> Outcome:
    """The record of a task whose worker died (``"failed"``) or was stopped (``"timeout"``)."""
    return failure_record(task, JobFailure(status, error))


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


def make_executor(workers: int, threads: int | None = None,
                  task_timeout: float | None = None) -> Executor:
    """A sweep's executor: worker processes with the time limit (``None`` or ``0``: none), or
    this process when there is one worker and no limit."""
    if runs_in_process(workers, task_timeout):
        return SerialExecutor(threads)
    return ProcessExecutor(workers, threads=threads, task_timeout=task_timeout or None)




def _init_worker(threads: int) -> None:
    """Set up an evaluation worker: its torch threads and every built-in predictor, imported
    before any task's time limit starts."""
    import torch

    from predictors.registry import load_all

    torch.set_num_threads(threads)
    load_all()


def _run_in_worker(job: tuple[EvalTask, str], threads: int) -> Outcome:
    task, module = job
    return run_task(task, threads, interruptible=False, module=module)


class ProcessExecutor(Executor):
    """Runs tasks in ``workers`` worker processes of a ``JobPool``, at most ``workers`` at a time.

    Workers start with ``spawn`` by default (safe with torch threads) and import the module of
    each task's predictor, so plug-ins registered in the parent are known there too.
    ``task_timeout``: seconds a task may run (``None``: no limit).
    """

    def __init__(self, workers: int = 2, start_method: str = "spawn", threads: int | None = None,
                 task_timeout: float | None = None):
        self.threads = threads or default_threads(max(workers, 1))
        self.pool = JobPool(workers, task_timeout, _init_worker, (self.threads,), start_method)

    @property
    def workers(self) -> int:
        return self.pool.workers

    @property
    def task_timeout(self) -> float | None:
        return self.pool.task_timeout

    def map(self, tasks: Sequence[EvalTask]) -> Iterator[tuple[EvalTask, Outcome]]:
        from predictors.registry import get

        modules = {t.predictor: get(t.predictor).__module__ for t in tasks}
        jobs = [(t, modules[t.predictor]) for t in tasks]
        run = functools.partial(_run_in_worker, threads=self.threads)
        for (task, _), outcome in self.pool.map(run, jobs, label=lambda job: job[0].predictor):
            if isinstance(outcome, JobFailure):  # the worker died, or the task timed out
                outcome = failure_record(task, outcome)
            yield task, outcome
