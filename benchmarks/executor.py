"""Executors run evaluation tasks and yield ``(task, record)`` as each finishes.

A record is what ``harness.evaluate`` returns, or a ``status="failed"`` record with the error and
traceback when the predictor raised anything at all (``SystemExit`` included), or a
``status="timeout"`` record when it ran past the task time limit. Records do not depend on the
executor apart from timings. Executors never write the store: the caller is the single writer.

Both ``ProcessExecutor`` and ``RayExecutor`` (tasks of a Ray cluster, see
``benchmarks.ray_runner``) run tasks as jobs of a ``benchmarks.jobs`` runner (``JobsExecutor``),
with the same records for a task that raised, killed its worker or timed out.

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
from benchmarks.jobs import (
    TIMEOUT,
    JobFailure,
    JobPool,
    Runner,
    call,
    job_runner,
    runs_in_process,
)
from benchmarks.threads import limit_threads

log = logging.getLogger(__name__)

Outcome = dict[str, Any]

__all__ = ["TIMEOUT", "Executor", "JobsExecutor", "ProcessExecutor", "RayExecutor",
           "SerialExecutor", "make_executor",
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


def make_executor(workers: int, threads: int | None = None, task_timeout: float | None = None,
                  executor: str = "process", address: str | None = None) -> Executor:
    """A sweep's executor: worker processes with the time limit (``None`` or ``0``: none), or
    this process when there is one worker and no limit; with ``executor="ray"``, tasks of the
    Ray cluster at ``address`` (see ``benchmarks.ray_runner``)."""
    if executor == "ray":
        return RayExecutor(workers, threads=threads, task_timeout=task_timeout or None,
                           address=address)
    if runs_in_process(workers, task_timeout):
        return SerialExecutor(threads)
    return ProcessExecutor(workers, threads=threads, task_timeout=task_timeout or None)


def _init_worker(threads: int, benchmarks: tuple[str, ...] = ()) -> None:
    """Set up an evaluation worker: its torch threads and every built-in predictor, imported
    before any task's time limit starts; a benchmark of the sweep missing here raises."""
    import torch

    from benchmarks.tabular import resolve
    from predictors.registry import load_all

    torch.set_num_threads(threads)
    load_all()
    for name in benchmarks:
        resolve(name)


def _run_in_worker(job: tuple[EvalTask, str], threads: int) -> Outcome:
    task, module = job
    return run_task(task, threads, interruptible=False, module=module)


class JobsExecutor(Executor):
    """Runs tasks as jobs of a ``benchmarks.jobs`` runner, at most ``workers`` at a time.

    Workers import the module of each task's predictor, so plug-ins registered here are known
    there too; a worker without a benchmark of the sweep stops the sweep (a setup error).
    ``task_timeout``: seconds a task may run (``None``: no limit).
    """

    def __init__(self, workers: int = 2, threads: int | None = None,
                 task_timeout: float | None = None):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if task_timeout is not None and task_timeout <= 0:
            raise ValueError("task_timeout must be > 0 (or None for no limit)")
        self.workers, self.task_timeout = workers, task_timeout
        self.threads = threads or default_threads(workers)

    @abstractmethod
    def runner(self, initargs: tuple) -> Runner:
        """The runner of one ``map``, its workers set up by ``_init_worker(*initargs)``."""

    def map(self, tasks: Sequence[EvalTask]) -> Iterator[tuple[EvalTask, Outcome]]:
        from predictors.registry import get

        modules = {t.predictor: get(t.predictor).__module__ for t in tasks}
        jobs = [(t, modules[t.predictor]) for t in tasks]
        benchmarks = tuple(sorted({t.benchmark for t in tasks}))
        run = functools.partial(_run_in_worker, threads=self.threads)
        runner = self.runner((self.threads, benchmarks))
        for (task, _), outcome in runner.map(run, jobs, label=lambda job: job[0].predictor):
            if isinstance(outcome, JobFailure):  # the worker died, or the task timed out
                outcome = failure_record(task, outcome)
            yield task, outcome


class ProcessExecutor(JobsExecutor):
    """Runs tasks in ``workers`` worker processes of a ``JobPool``.

    Workers start with ``spawn`` by default (safe with torch threads).
    """

    def __init__(self, workers: int = 2, start_method: str = "spawn", threads: int | None = None,
                 task_timeout: float | None = None):
        super().__init__(workers, threads, task_timeout)
        self.start_method = start_method

    def runner(self, initargs: tuple) -> Runner:
        return JobPool(self.workers, self.task_timeout, _init_worker, initargs, self.start_method)


def needs_gpu(job: tuple[EvalTask, str]) -> bool:
    """Whether a task's predictor runs networks (live proxies, supernets): a GPU speeds it."""
    from predictors.registry import get

    return bool(get(job[0].predictor).needs.network)


class RayExecutor(JobsExecutor):
    """Runs tasks on the Ray cluster at ``address`` (``None``: ``$RAY_ADDRESS``, else a local
    one), each asking for ``threads`` CPUs, and a GPU for a predictor that runs networks when
    the cluster has GPUs."""

    def __init__(self, workers: int = 2, threads: int | None = None,
                 task_timeout: float | None = None, address: str | None = None):
        from benchmarks.ray_runner import require_ray

        require_ray()
        super().__init__(workers, threads, task_timeout)
        self.address = address

    def runner(self, initargs: tuple) -> Runner:
        from benchmarks.ray_runner import cluster_gpus

        def gpus(job: tuple[EvalTask, str]) -> float:
            return 1.0 if needs_gpu(job) and cluster_gpus() else 0.0

        return job_runner(self.workers, self.task_timeout, _init_worker, initargs,
                          executor="ray", address=self.address, cpus=self.threads, gpus=gpus)
