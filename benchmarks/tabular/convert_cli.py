"""``predbench convert``: public benchmark files into the tabular format.

Each command reports a bad source (``ConverterError``) as one line and exits with status 2.
AnalogNAS-Bench has its own command, ``python -m benchmarks.tabular.analog_nasbench``, since it
also times networks for its cost model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer

from benchmarks.tabular import nasbench_graph, naslib, suite_zero
from benchmarks.tabular.format import TabularBenchmark
from benchmarks.tabular.source import ConverterError

app = typer.Typer(no_args_is_help=True,
                  help="Convert a public benchmark's files into predbench's format.")


def _report(benches: Iterable[TabularBenchmark], out: Path) -> None:
    for bench in benches:
        typer.echo(f"wrote {bench.name} ({len(bench)} architectures) under {out}")


@app.command("naslib")
def naslib_command(
    kind: str = typer.Argument(..., help=f"Layout of the file: {', '.join(naslib.KINDS)}."),
    src: Path = typer.Argument(..., help="NASLib's data file (a pickle)."),
    out: Path = typer.Argument(..., help="Benchmark directory (nb201: a parent directory)."),
    allow_pickle: bool = typer.Option(False, "--allow-pickle",
                                      help="Load the pickle (through a restricted unpickler)."),
) -> None:
    """NASLib's NB101/NB201/NB301 training data."""
    result = naslib.convert(kind, src, out, allow_pickle=allow_pickle)
    _report(result.values() if isinstance(result, dict) else [result], out)


@app.command("suite-zero")
def suite_zero_command(
    src: Path = typer.Argument(..., help="A NAS-Bench-Suite-Zero zc_*.json."),
    out: Path = typer.Argument(..., help="Data directory; one benchmark per dataset goes in it."),
    space: str = typer.Option("nb201", help="Search space of the architecture keys."),
    dataset: list[str] = typer.Option(None, "--dataset", help="Dataset to convert (repeat)."),
) -> None:
    """NAS-Bench-Suite-Zero zero-cost score tables."""
    _report(suite_zero.convert(src, out, space=space, datasets=dataset or None).values(), out)


@app.command("nasbench-graph")
def nasbench_graph_command(
    out: Path = typer.Argument(..., help="Data directory; one benchmark per dataset goes in it."),
    dataset: list[str] = typer.Option(None, "--dataset", help="Dataset to convert (repeat)."),
    source: Path | None = typer.Option(None, help="A .bench file instead of the package's "
                                       "(with exactly one --dataset)."),
) -> None:
    """NAS-Bench-Graph tables from the ``nas-bench-graph`` package (or a .bench file)."""
    datasets = tuple(dataset or nasbench_graph.DATASETS)
    if source is not None and len(datasets) != 1:
        raise ConverterError("--source needs exactly one --dataset (the dataset of that file)")
    _report([nasbench_graph.convert_dataset(d, out / f"nasbench-graph-{d}", source)
             for d in datasets], out)
