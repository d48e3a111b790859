"""Executors run evaluation tasks and yield ``(task, record)`` as each finishes.

A record is what ``harness.evaluate`` returns, or a ``status="failed"`` record with the error
and traceback when the predictor (or anything else) raised. Executors never write the store: the
caller is the single writer. Scaling out (e.g. Ray) means a new ``Executor`` subclass.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from benchmarks.harness import EvalTask, evaluate
from benchmarks.threads import limit_threads

log = logging.getLogger(__name__)

Outcome = dict[str, Any]


def run_task(task: EvalTask, threads: int | None = None) -> Outcome:
    """Evaluate one task within a budget of ``threads`` native threads (torch, OpenMP, BLAS;
    ``None``: as they are); any exception becomes a failed record (the sweep goes on)."""
    try:
        with limit_threads(threads):
            return evaluate(task)
    except Exception as exc:  # noqa: BLE001 - a predictor may raise anything
        return failed_record(task, exc)


def failed_record(task: EvalTask, exc: BaseException) -> Outcome:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {"key": task.key(), **task.to_dict(), "status": "failed",
            "error": f"{type(exc).__name__}: {exc}", "traceback": text}


class Executor(ABC):
    """Runs tasks; yields ``(task, outcome)`` in completion order."""

    @abstractmethod
    def map(self, tasks: Sequence[EvalTask]) -> Iterator[tuple[EvalTask, Outcome]]: ...


def default_threads(workers: int) -> int:
    """Torch threads per worker when none are given: the cores shared out among the workers."""
    return max(1, (os.cpu_count() or 1) // workers)


class SerialExecutor(Executor):
    """Runs tasks one after the other in this process, with ``threads`` torch threads."""

    def __init__(self, threads: int | None = None):
        self.threads = threads or default_threads(1)

    def map(self, tasks: Sequence[EvalTask]) -> Iterator[tuple[EvalTask, Outcome]]:
        for task in tasks:
            yield task, run_task(task, self.threads)


def _init_worker(modules: Iterable[str], threads: int) -> None:
    """Give a fresh worker the predictors registered in the parent and a thread budget."""
    import torch

    torch.set_num_threads(threads)
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing plugin fails its own tasks, not the pool
            log.warning("worker could not import %s", name)


class ProcessExecutor(Executor):
    """Runs tasks in ``workers`` processes (``concurrent.futures``), at most ``workers`` at a time.

    Workers start with ``spawn`` by default (safe with torch threads) and import the module of every
    predictor the tasks use, so plug-ins registered in the parent are known there too.
    """

    def __init__(self, workers: int = 2, start_method: str = "spawn", threads: int | None = None):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.start_method = start_method
        self.threads = threads or default_threads(workers)

    def map(self, tasks: Sequence[EvalTask]) -> Iterator[tuple[EvalTask, Outcome]]:
        from predictors.registry import get

        modules = sorted({get(t.predictor).__module__ for t in tasks})
        ctx = multiprocessing.get_context(self.start_method)
        pending = list(tasks)[::-1]
        with ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(modules, self.threads)) as pool:
            running: dict[Future, EvalTask] = {}
            while pending or running:
                while pending and len(running) < self.workers:
                    task = pending.pop()
                    running[pool.submit(run_task, task, self.threads)] = task
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as exc:  # noqa: BLE001 - e.g. a worker killed by the OS
                        outcome = failed_record(task, exc)
                    yield task, outcome
