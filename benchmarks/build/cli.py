"""`predbench build ...`: pilot, generate, merge and status of the Fashion-MNIST benchmark."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

from benchmarks.build.recipe import BENCHMARK_RECIPE, PRESETS, Recipe, get_recipe

app = typer.Typer(help="Train NB201 networks on Fashion-MNIST into this project's benchmark.",
                  no_args_is_help=True)

DEFAULT_TARGET = 1000
RecipeOpt = typer.Option(BENCHMARK_RECIPE, "--recipe", "-r",
                         help="preset name (see `recipes`) or a recipe .json file")
ShardsOpt = typer.Option(None, "--shards", help="shard directory [data/fmnist-shards/<recipe>]")
WorkersOpt = typer.Option(1, help="parallel worker processes (several per GPU on cuda)")
ThreadsOpt = typer.Option(1, help="torch threads per worker")
DeviceOpt = typer.Option("cpu", help="cpu or cuda")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")


def _recipe(name: str) -> Recipe:
    try:
        return get_recipe(name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


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
    from benchmarks.build.pilot import run_pilot, table_row

    _setup_logging(verbose)
    table = run_pilot(_recipe(recipe), cells, shards, workers, threads, device)
    typer.echo(table_row(table))


@app.command()
def calibrate(
    recipes: list[str] = typer.Argument(..., help="recipe presets or .json files"),
    cells: int = typer.Option(2, help="first N architectures, one epoch each"),
    threads: int = typer.Option(1, help="torch threads"),
) -> None:
    """One-epoch cost of candidate recipes; appends rows to results/pilot/calibration.md."""
    import torch

    from benchmarks.build.pilot import calibrate as run

    _setup_logging(False)
    torch.set_num_threads(threads)
    for name in recipes:
        typer.echo(json.dumps(run(_recipe(name), cells)))


@app.command()
def select(
    recipes: list[str] = typer.Argument(..., help="candidate recipes with pilot tables"),
    cells: int = typer.Option(24, help="minimum cells with two seeds in a pilot"),
) -> None:
    """Print the recipe the pilot rule picks (tau >= 0.7 cheapest, else best >= 0.5)."""
    from benchmarks.build.pilot import choose_recipe

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
    from benchmarks.build.generate import default_shard_dir
    from benchmarks.build.pilot import pilot_table, table_row, write_table

    r = _recipe(recipe)
    table = pilot_table(shards or default_shard_dir(r), cells)
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
) -> None:
    """Train the benchmark's (architecture, seed) pairs; resumes, skipping finished shards."""
    from benchmarks.build.generate import run_tasks
    from benchmarks.build.order import benchmark_tasks

    _setup_logging(verbose)
    done = run_tasks(benchmark_tasks(archs, second_seed_every), _recipe(recipe), shards,
                     workers, threads, device)
    typer.echo(f"trained {len(done)} pair(s)")


@app.command("zero-cost")
def zero_cost(
    recipe: str = RecipeOpt,
    archs: int = typer.Option(DEFAULT_TARGET, help="first N architectures of the order"),
    measures: list[str] = typer.Option(None, "--measure", "-m",
                                       help="measures to score [every live proxy]"),
    workers: int = WorkersOpt,
    shards: Path | None = ShardsOpt,
) -> None:
    """Score the benchmark's architectures with every live zero-cost proxy (resumes); `merge`
    tabulates the scores and their CPU time as static zc_<measure>[_time] columns."""
    from benchmarks.build.generate import default_shard_dir
    from benchmarks.build.zero_cost import run_scores

    _setup_logging(False)
    r = _recipe(recipe)
    done = run_scores(archs, r, shards or default_shard_dir(r), measures or None, workers)
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
    from benchmarks.build.generate import REPO_ROOT, default_shard_dir
    from benchmarks.build.merge import merge as do_merge
    from benchmarks.build.report import plot_epoch_tau

    _setup_logging(False)
    bench = do_merge(shards or default_shard_dir(_recipe(recipe)),
                     out or REPO_ROOT / "data" / name, name)
    plot_epoch_tau(bench, plot or REPO_ROOT / "results" / f"{name}-epoch-tau.png")
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
    from benchmarks.build.generate import default_shard_dir
    from benchmarks.build.status import progress

    r = _recipe(recipe)
    typer.echo(progress(shards or default_shard_dir(r), archs, workers,
                        second_seed_every).describe())
