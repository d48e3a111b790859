"""``predbench convert``: public benchmark files into the tabular format.

Each command reports a bad source (``ConverterError``) as one line and exits with status 2.
AnalogNAS-Bench's command also times networks for its cost model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer

from benchmarks.tabular import analog_nasbench, nasbench_graph, naslib, suite_zero
from benchmarks.tabular.format import TabularBenchmark, read_benchmark
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
    out: Path | None = typer.Argument(None, help="Data directory; one benchmark per dataset "
                                      "goes in it (or --out)."),
    out_option: Path | None = typer.Option(None, "--out", help="The data directory, as an "
                                           "option (give it once: OUT or --out)."),
    space: str | None = typer.Option(None, help="Search space of the architecture keys "
                                     "(default: from the table, its file name or its keys)."),
    dataset: list[str] = typer.Option(None, "--dataset", help="Dataset to convert (repeat)."),
) -> None:
    """NAS-Bench-Suite-Zero zero-cost score tables."""
    if (out is None) == (out_option is None):
        raise ConverterError("give the data directory once: as the OUT argument or as --out DIR"
                             + (f" (got {out} and {out_option})" if out is not None else ""))
    directory = out if out is not None else out_option
    _report(suite_zero.convert(src, directory, space=space, datasets=dataset or None).values(),
            directory)


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


@app.command("analog-nasbench")
def analog_nasbench_command(
    out: Path = typer.Option(Path("data") / analog_nasbench.NAME, help="Benchmark directory."),
    timed: int = typer.Option(40, help="Networks to time for the cost model."),
    verify: int = typer.Option(30, help="Cells whose params/FLOPs are counted to verify the "
                               "additive model."),
    check: Path | None = typer.Option(None, help="A Suite-Zero zc_nasbench201 JSON to compare "
                                      "accuracies with."),
    timings: Path | None = typer.Option(None, help="Reuse a cost_measurements.csv instead of "
                                        "timing networks anew."),
    check_only: bool = typer.Option(False, "--check-only", help="Compare the already converted "
                                    "--out with --check; convert nothing."),
) -> None:
    """NB201 on CIFAR-10 from the analog-nasbench package (times networks for its costs)."""
    if check_only:
        if check is None:
            raise ConverterError("--check-only needs --check FILE")
        bench = read_benchmark(out)
    else:
        table = analog_nasbench.read_timings(timings) if timings is not None else None
        bench = analog_nasbench.convert(out, timed, verify, timings=table)
        typer.echo(f"wrote {out}: {len(bench)} cells, {bench.metadata['unique_canonical']} "
                   "unique networks")
    if check is not None:
        typer.echo(f"against {check}: {analog_nasbench.compare_with_suite_zero(bench, check)}")
