"""`predbench build ...`: pilot, generate, merge and status of the Fashion-MNIST benchmark."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from benchmarks import checks
from benchmarks.builder.fashion_mnist import DatasetMissingError
from benchmarks.builder.recipe import BENCHMARK_RECIPE, PRESETS, Recipe, RecipeError, get_recipe
from benchmarks.builder.shards import ShardError
from benchmarks.jobs import ADDRESS_HELP, EXECUTOR_HELP, JobsFailed

app = typer.Typer(help="Train NB201 networks on Fashion-MNIST into this project's benchmark.",
                  no_args_is_help=True)

DEFAULT_TARGET = 1000
RecipeOpt = typer.Option(BENCHMARK_RECIPE, "--recipe", "-r",
                         help="preset name (see `recipes`) or a recipe .json file")
ShardsOpt = typer.Option(None, "--shards", help="shard directory [data/fmnist-shards/<recipe>]")
WorkersOpt = typer.Option(1, help="parallel worker processes (several per GPU on cuda)")
ThreadsOpt = typer.Option(1, help="torch threads per worker")
DeviceOpt = typer.Option("cpu", help="cpu or cuda")
ExecutorOpt = typer.Option("process", "--executor", help=EXECUTOR_HELP)
AddressOpt = typer.Option(None, "--address", envvar="RAY_ADDRESS", help=ADDRESS_HELP)
TaskTimeoutOpt = typer.Option(
    0.0, "--task-timeout",
    help="seconds one job may take; past it its worker process is stopped and the job is left "
         "undone (the next call does it). 0: no limit, and with --workers 1 jobs then run in "
         "this process. A job whose worker dies runs again alone; the command exits with "
         "status 1 when a job failed.")
#: Names of a failed job in the summary: a training pair, an architecture to score.
PAIR, ARCH = "architecture {0[0]} seed {0[1]}", "architecture {0[0]}"
#: Errors of these commands that the project CLI reports as one line (exit status 2).
USER_ERRORS = (RecipeError, ShardError, DatasetMissingError)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")


def _run_jobs(run: Callable[[], Any], name: str) -> Any:
    """``run()``; when some of its jobs failed, their summary and errors, then exit status 1."""
    try:
        return run()
    except JobsFailed as exc:
        typer.echo(str(exc))
        for line in exc.summary.failure_lines(name.format):
            typer.echo(line, err=True)
        raise typer.Exit(1) from None


def _recipe(name: str) -> Recipe:
    return get_recipe(name)


def _counts(**counts: int) -> None:
    """Each ``option=value`` at least 1 (``second_seed_every=3`` checks --second-seed-every)."""
    for name, value in counts.items():
        checks.at_least("--" + name.replace("_", "-"), value)


def _shards_in(shards: Path | None) -> None:
    """A ``--shards`` directory that will be written."""
    if shards is not None:
        checks.output_dir(shards, "--shards")


def _shards_from(shards: Path, must_exist: bool = True) -> Path:
    """A ``--shards`` directory that is read (``status`` also reads one not made yet)."""
    if (must_exist or shards.exists()) and not shards.is_dir():
        raise ShardError(f"--shards {shards} is not a directory of shards; train some with "
                         "`predbench build generate` or pass the right --shards")
    return shards


@app.command()
def recipes() -> None:
    """List the preset recipes and their keys."""
    for r in PRESETS.values():
        typer.echo(f"{r.name} (key {r.key}): {json.dumps(r.as_dict())}")


@app.command()
def pilot(
    recipe: str = RecipeOpt,
    cells: int = typer.Option(24, help="first N architectures of the order, two seeds each"),
    workers: int = WorkersOpt,
    threads: int = ThreadsOpt,
    device: str = DeviceOpt,
    shards: Path | None = ShardsOpt,
    verbose: bool = False,
) -> None:
    """Train (resuming) a recipe's pilot and write its table to results/pilot/."""
    from benchmarks.builder.pilot import run_pilot, table_row

    r = _recipe(recipe)
    _counts(cells=cells, workers=workers, threads=threads)
    checks.device(device)
    _shards_in(shards)
    _setup_logging(verbose)
    table = _run_jobs(lambda: run_pilot(r, cells, shards, workers, threads, device), PAIR)
    typer.echo(table_row(table))


@app.command()
def calibrate(
    recipes: list[str] = typer.Argument(..., help="recipe presets or .json files"),
    cells: int = typer.Option(2, help="first N architectures, one epoch each"),
    threads: int = typer.Option(1, help="torch threads"),
) -> None:
    """One-epoch cost of candidate recipes; appends rows to results/pilot/calibration.md."""
    import torch

    from benchmarks.builder.pilot import calibrate as run

    chosen = [_recipe(name) for name in recipes]
    _counts(cells=cells, threads=threads)
    _setup_logging(False)
    torch.set_num_threads(threads)
    for r in chosen:
        typer.echo(json.dumps(run(r, cells)))


@app.command()
def select(
    recipes: list[str] = typer.Argument(..., help="candidate recipes with pilot tables"),
    cells: int = typer.Option(24, help="minimum cells with two seeds in a pilot"),
) -> None:
    """Print the recipe the pilot rule picks (tau >= 0.7 cheapest, else best >= 0.5)."""
    from benchmarks.builder.pilot import choose_recipe

    _counts(cells=cells)
    try:
        name, reason = choose_recipe(recipes, cells)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(name)
    typer.echo(reason, err=True)


@app.command("pilot-table")
def pilot_table_cmd(recipe: str = RecipeOpt, cells: int = 24, shards: Path | None = ShardsOpt
                    ) -> None:
    """Rewrite a pilot's table from the shards present (a partial pilot included)."""
    from benchmarks.builder.generate import default_shard_dir
    from benchmarks.builder.pilot import pilot_table, table_row, write_table

    r = _recipe(recipe)
    _counts(cells=cells)
    table = pilot_table(_shards_from(shards or default_shard_dir(r)), cells)
    write_table(table)
    typer.echo(table_row(table))


@app.command()
def generate(
    recipe: str = RecipeOpt,
    archs: int = typer.Option(DEFAULT_TARGET, help="first N architectures of the order"),
    second_seed_every: int = typer.Option(3, help="seed 1 for every k-th architecture"),
    workers: int = WorkersOpt,
    threads: int = ThreadsOpt,
    device: str = DeviceOpt,
    shards: Path | None = ShardsOpt,
    verbose: bool = False,
    task_timeout: float = TaskTimeoutOpt,
    executor: str = ExecutorOpt,
    address: str | None = AddressOpt,
) -> None:
    """Train the benchmark's (architecture, seed) pairs; resumes, skipping finished shards."""
    from benchmarks.builder.generate import run_tasks
    from benchmarks.builder.order import benchmark_tasks

    r = _recipe(recipe)
    _counts(archs=archs, second_seed_every=second_seed_every, workers=workers, threads=threads)
    checks.at_least("--task-timeout", task_timeout, 0)
    checks.executor(executor)
    checks.device(device)
    _shards_in(shards)
    _setup_logging(verbose)
    done = _run_jobs(lambda: run_tasks(benchmark_tasks(archs, second_seed_every), r, shards,
                                       workers, threads, device, task_timeout,
                                       executor=executor, address=address), PAIR)
    typer.echo(f"trained {len(done)} pair(s)")


@app.command("zero-cost")
def zero_cost(
    recipe: str = RecipeOpt,
    archs: int = typer.Option(DEFAULT_TARGET, help="first N architectures of the order"),
    measures: list[str] = typer.Option(
        None, "--measures", "--measure", "-m",
        help="measures to score, comma-separated or repeated (default: every live proxy and "
             "az_nas); each at its proxy's default batch size. Existing score files get the "
             "measures they lack added"),
    workers: int = WorkersOpt,
    shards: Path | None = ShardsOpt,
    task_timeout: float = TaskTimeoutOpt,
    executor: str = ExecutorOpt,
    address: str | None = AddressOpt,
) -> None:
    """Score the benchmark's architectures with every live zero-cost proxy (resumes per
    architecture and measure); `merge` tabulates the scores and their CPU time as static
    zc_<measure>[_time] columns."""
    from benchmarks.builder.generate import default_shard_dir
    from benchmarks.builder.zero_cost import checked_measures, run_scores

    r = _recipe(recipe)
    measures = list(checked_measures([n for m in measures or [] for n in checks.names(m)]))
    _counts(archs=archs, workers=workers)
    checks.at_least("--task-timeout", task_timeout, 0)
    checks.executor(executor)
    _shards_in(shards)
    _setup_logging(False)
    done = _run_jobs(lambda: run_scores(archs, r, shards or default_shard_dir(r),
                                        measures or None, workers, task_timeout, executor,
                                        address), ARCH)
    typer.echo(f"scored {len(done)} architecture(s)")


@app.command()
def merge(
    recipe: str = RecipeOpt,
    shards: Path | None = ShardsOpt,
    out: Path = typer.Option(None, help="benchmark directory [data/fmnist-nb201]"),
    name: str = "fmnist-nb201",
    plot: Path = typer.Option(None, help="PNG of per-epoch vs final Kendall tau "
                              "[results/<name>-epoch-tau.png]"),
) -> None:
    """Assemble the shards into the tabular benchmark format (and plot its epoch taus)."""
    from benchmarks.builder.generate import REPO_ROOT, default_shard_dir
    from benchmarks.builder.merge import merge as do_merge
    from benchmarks.builder.report import plot_epoch_tau

    shard_dir = _shards_from(shards or default_shard_dir(_recipe(recipe)))
    out = checks.output_dir(out or REPO_ROOT / "data" / name, "--out")
    plot = checks.output_file(plot or REPO_ROOT / "results" / f"{name}-epoch-tau.png", "--plot")
    _setup_logging(False)
    bench = do_merge(shard_dir, out, name)
    plot_epoch_tau(bench, plot)
    s = bench.metadata["summary"]
    typer.echo(f"{s['archs']} architectures ({s['archs_with_two_seeds']} with two seeds); "
               f"seed-to-seed {json.dumps(s['seed_to_seed'])}; Kendall tau a perfect predictor "
               f"could reach against these labels {json.dumps(s.get('ranking_ceiling', {}))}")


@app.command()
def status(
    recipe: str = RecipeOpt,
    archs: int = typer.Option(DEFAULT_TARGET, help="target number of architectures"),
    second_seed_every: int = 3,
    workers: int = typer.Option(1, help="workers the estimate assumes"),
    shards: Path | None = ShardsOpt,
) -> None:
    """Print done architectures and seeds and the estimated time left for the target."""
    from benchmarks.builder.generate import default_shard_dir
    from benchmarks.builder.status import progress

    r = _recipe(recipe)
    _counts(archs=archs, second_seed_every=second_seed_every, workers=workers)
    typer.echo(progress(_shards_from(shards or default_shard_dir(r), False), archs, workers,
                        second_seed_every).describe())
