"""Ray against the process pool on this machine's cores, side by side in one run.

``predbench bench ray-overhead`` starts a local Ray cluster of ``--workers`` CPUs, then runs,
each executor right after the other:

- per-task overhead: maps of plain-data jobs that sleep 0.1 s, 1 s and 10 s (``--durations``)
  through ``benchmarks.jobs.job_runner`` (the runner every command uses, with the commands'
  default time limit), ``--workers`` at a time; the overhead per task is ``(wall - ideal) *
  workers / tasks``, a map's start-up included (a fresh ``JobPool`` starts its processes per map;
  the Ray cluster and its workers stay up between maps), and a map of ``--workers`` empty jobs
  shows each executor's start-up alone;
- one small sweep: a ``reproduce`` grid of fast model-based predictors on the synthetic
  benchmark (``benchmarks.synthetic``) at 1 and ``--workers`` workers under each executor, through
  ``make_executor`` and ``run_sweep``, with the ratios Ray / process and the speed-up.

The load average is printed before and after: on a busy machine every figure is larger.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from benchmarks.checks import OptionError, floats

if TYPE_CHECKING:
    from benchmarks.harness import EvalTask

log = logging.getLogger(__name__)

EXECUTORS = ("process", "ray")
#: The sweep: fast model-based predictors over their full grids on the synthetic benchmark.
SWEEP_PREDICTORS = ("rf", "xgb", "lgb", "svr", "gp")
SWEEP_TRIALS, SWEEP_TEST_SIZE = 2, 100
#: The time limit of the maps and the sweep (the commands' default; it adds Ray's bookkeeping).
TASK_TIMEOUT = 3600.0


def hold(seconds: float) -> float:
    """A job that sleeps ``seconds`` and returns them."""
    time.sleep(seconds)
    return seconds


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def timed(run: Callable[[], object]) -> float:
    """Wall seconds of ``run()``."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def map_wall(executor: str, workers: int, seconds: float, tasks: int) -> float:
    """Wall seconds of one map of ``tasks`` jobs that each hold ``seconds``."""
    from benchmarks.jobs import JobFailure, job_runner

    def run() -> None:
        runner = job_runner(workers, TASK_TIMEOUT, executor=executor)
        for _, outcome in runner.map(hold, [seconds] * tasks):
            if isinstance(outcome, JobFailure):
                raise RuntimeError(f"a {seconds:g} s job failed on {executor}: {outcome.error}")

    return timed(run)


def tasks_for(seconds: float, workers: int) -> int:
    """Jobs of a map: enough for about 2 s per worker, at least two per worker."""
    return workers * max(2, math.ceil(2 / seconds))


def sweep_tasks(bench_dir: Path) -> list[EvalTask]:
    """The sweep's evaluations on the benchmark at ``bench_dir``."""
    from benchmarks.experiments import build_reproduce_tasks

    return build_reproduce_tasks(str(bench_dir), predictors=SWEEP_PREDICTORS,
                                 trials=SWEEP_TRIALS, test_size=SWEEP_TEST_SIZE, full=True)


def sweep_wall(executor: str, workers: int, tasks: Sequence[EvalTask], scratch: Path) -> float:
    """Wall seconds of the sweep on a fresh store; raises when an evaluation failed."""
    from benchmarks.executor import make_executor
    from benchmarks.experiments import run_sweep
    from benchmarks.store import ResultStore

    with ResultStore(scratch / f"{executor}-{workers}.db") as store:
        start = time.perf_counter()
        summary = run_sweep(tasks, store, make_executor(workers, 1, TASK_TIMEOUT, executor),
                            progress=False)
        wall = time.perf_counter() - start
    if summary.ok != len(tasks):
        raise RuntimeError(f"the sweep on {executor} at {workers} worker(s) left "
                           f"{len(tasks) - summary.ok} of {len(tasks)} evaluations not ok")
    return wall


def overhead_rows(workers: int, durations: Sequence[float]) -> list[str]:
    """Table rows: start-up, then each duration's walls, overheads per task and ratio."""
    start = {e: map_wall(e, workers, 0.0, workers) for e in EXECUTORS}
    rows = [f"| start-up ({workers} empty jobs) | {workers} | 0 | {start['process']:.2f} | "
            f"{start['ray']:.2f} | | | {start['ray'] / start['process']:.2f} |"]
    for seconds in durations:
        tasks = tasks_for(seconds, workers)
        ideal = tasks * seconds / workers
        wall = {}
        for executor in EXECUTORS:
            wall[executor] = map_wall(executor, workers, seconds, tasks)
            log.info("%g s jobs on %s: %.2f s", seconds, executor, wall[executor])
        per = {e: (wall[e] - ideal) * workers / tasks for e in EXECUTORS}
        rows.append(f"| {seconds:g} s | {tasks} | {ideal:.1f} | {wall['process']:.2f} | "
                    f"{wall['ray']:.2f} | {per['process']:.3f} | {per['ray']:.3f} | "
                    f"{wall['ray'] / wall['process']:.2f} |")
    return rows


def sweep_rows(workers: int, tasks: Sequence[EvalTask], scratch: Path) -> list[str]:
    """Table rows: the sweep's wall at 1 and ``workers`` workers, Ray / process."""
    walls: dict[tuple[str, int], float] = {}
    for count in sorted({1, workers}):
        for executor in EXECUTORS:
            walls[executor, count] = sweep_wall(executor, count, tasks, scratch)
            log.info("sweep on %s at %d worker(s): %.2f s", executor, count,
                     walls[executor, count])
    rows = [f"| {count} | {walls['process', count]:.2f} | {walls['ray', count]:.2f} | "
            f"{walls['ray', count] / walls['process', count]:.2f} |"
            for count in sorted({1, workers})]
    if workers > 1:
        speed_up = {e: walls[e, 1] / walls[e, workers] for e in EXECUTORS}
        rows.append(f"| speed-up 1 -> {workers} | {speed_up['process']:.2f}x | "
                    f"{speed_up['ray']:.2f}x | |")
    return rows


def command(
    workers: int = typer.Option(2, help="Jobs at a time (worker processes, Ray tasks); the Ray "
                                        "cluster gets as many CPUs."),
    durations: str = typer.Option("0.1,1,10", help="Comma-separated seconds each job sleeps."),
) -> None:
    """Ray vs the process pool: per-task overhead (0.1/1/10 s jobs) and one sweep's wall."""
    from benchmarks.ray_runner import require_ray
    from benchmarks.synthetic import write_synthetic_benchmark

    if workers < 1:
        raise OptionError("--workers must be at least 1")
    seconds = floats(durations, "--durations")
    if not seconds or min(seconds) <= 0:
        raise OptionError("--durations must be positive seconds")
    ray = require_ray()
    typer.echo(f"load average before: {_load()}; {os.cpu_count()} CPUs; {workers} worker(s), "
               f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    started = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, logging_level=logging.WARNING)
    try:
        typer.echo(f"local Ray cluster start (once per command without --address): "
                   f"{time.perf_counter() - started:.2f} s")
        typer.echo("\nper-task overhead = (wall - ideal) x workers / tasks, start-up included")
        typer.echo("| jobs of | tasks | ideal s | process s | ray s | process overhead/task s "
                   "| ray overhead/task s | ray / process |")
        typer.echo("|---" * 8 + "|")
        for row in overhead_rows(workers, seconds):
            typer.echo(row)
        with tempfile.TemporaryDirectory(prefix="predbench-ray-overhead-") as scratch:
            tasks = sweep_tasks(write_synthetic_benchmark(Path(scratch) / "synthetic-nb201"))
            typer.echo(f"\nsweep: reproduce --full --trials {SWEEP_TRIALS} --test-size "
                       f"{SWEEP_TEST_SIZE} --threads 1 --predictors {','.join(SWEEP_PREDICTORS)} "
                       f"on the synthetic benchmark, {len(tasks)} evaluations (wall s)")
            typer.echo("| workers | process | ray | ray / process |")
            typer.echo("|---|---|---|---|")
            for row in sweep_rows(workers, tasks, Path(scratch)):
                typer.echo(row)
    finally:
        ray.shutdown()
    typer.echo(f"load average after: {_load()}")
