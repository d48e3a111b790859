"""How well do the extrapolating learning-curve predictors (LCE, LCE-m) reach the final epoch?

    predbench analyze lc-extrapolation --benchmark fmnist-nb201 [--archs 200] \
        [--fidelities 3,4,6] [--predictors lce,lce_m] [--out DIR]

A ranking predictor that extrapolates can lose to plain early stopping (``valacc``, the last
observed value) in two ways: its extrapolations err by more than the last value does, or they err
differently from one architecture to the next and so reorder them. For each predictor and
fidelity this measures, on a fixed random sample of the benchmark's architectures (seed-0 curves,
the run each predictor sees), against the same run's value at the final epoch:

- the mean absolute error of the extrapolated final value and of the last observed value, and
  the interquartile range of each error over architectures (a shared offset does not change a
  ranking; a spread of errors wide against the spread of final values scrambles it; the IQR
  ignores the few runs whose curves collapse and recover);
- the mean rise the curve still had to make after the fidelity;
- Kendall tau of each against that final value.

Writes ``extrapolation.md`` and ``extrapolation.csv`` under ``--out``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from benchmarks.checks import ints, names, output_dir
from benchmarks.tabular import load_benchmark
from benchmarks.threads import limit_threads
from predictors.base import FitContext, QueryContext
from predictors.ranking import kendall_tau
from predictors.registry import make

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


def iqr(x: np.ndarray) -> float:
    """Interquartile range of the finite entries."""
    q1, q3 = np.nanpercentile(x, [25, 75])
    return float(q3 - q1)


def extrapolation_errors(benchmark: str, predictors: Sequence[str], fidelities: Sequence[int],
                         n_archs: int, seed: int = 0) -> pd.DataFrame:
    """One row per (predictor, fidelity): errors and rank agreement with the run's final value."""
    import pandas as pd

    bench = load_benchmark(benchmark)
    metric = bench.objective
    final = bench.final(metric, seed=0)
    rows = np.flatnonzero(np.isfinite(final))
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(rows, size=min(n_archs, rows.size), replace=False))
    truth = final[rows]
    archs = [bench.archs[i] for i in rows]
    out = []
    for fidelity in fidelities:
        if not 1 <= fidelity < bench.epochs:
            raise ValueError(f"fidelity {fidelity} must lie in 1..{bench.epochs - 1} for "
                             f"{bench.name!r} (its final epoch is {bench.epochs})")
        curve = bench.curve(rows, metric, upto=fidelity)
        last = curve[:, -1]
        for name in predictors:
            common = dict(fidelity=fidelity, total_epochs=bench.epochs)
            predictor = make(name).fit(FitContext(bench.space, **common))
            ctx = QueryContext(bench.space, curves={metric: curve},
                               rng=np.random.default_rng(seed), **common)
            mean = predictor.query(archs, ctx).mean
            out.append({
                "predictor": name, "fidelity": fidelity, "archs": len(rows),
                "mae_extrapolated": float(np.nanmean(np.abs(mean - truth))),
                "mae_last_value": float(np.mean(np.abs(last - truth))),
                "error_iqr_extrapolated": iqr(mean - truth),
                "error_iqr_last_value": iqr(last - truth),
                "final_iqr": iqr(truth),
                "mean_rise_left": float(np.mean(truth - last)),
                "kendall_extrapolated": kendall_tau(mean, truth),
                "kendall_last_value": kendall_tau(last, truth),
            })
            log.info("%s at epoch %d: MAE %.2f (last value %.2f)", name, fidelity,
                     out[-1]["mae_extrapolated"], out[-1]["mae_last_value"])
    return pd.DataFrame(out)


def to_markdown(table: pd.DataFrame, benchmark: str) -> str:
    lines = [
        f"Extrapolation to the final epoch on `{benchmark}` (seed-0 curves, "
        f"{int(table['archs'].iloc[0])} architectures, whose final values have IQR "
        f"{table['final_iqr'].iloc[0]:.2f}; errors in points of the objective)",
        "",
        "| predictor | epoch | MAE extrapolated | MAE last value | error IQR extrapolated | "
        "error IQR last value | mean rise left | Kendall tau extrapolated | "
        "Kendall tau last value |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(f"| {r.predictor} | {r.fidelity} | {r.mae_extrapolated:.2f} | "
                     f"{r.mae_last_value:.2f} | {r.error_iqr_extrapolated:.2f} | "
                     f"{r.error_iqr_last_value:.2f} | {r.mean_rise_left:.2f} | "
                     f"{r.kendall_extrapolated:.3f} | {r.kendall_last_value:.3f} |")
    return "\n".join(lines) + "\n"


def command(
    benchmark: str = typer.Option(..., help="Benchmark name or directory."),
    predictors: str = typer.Option("lce,lce_m", help="Comma-separated extrapolating predictors."),
    fidelities: str = typer.Option("3,4,6", help="Comma-separated epochs the curves stop at."),
    archs: int = typer.Option(200, help="Architectures sampled from the benchmark."),
    seed: int = typer.Option(0, help="Seed of the sample."),
    out: Path | None = typer.Option(
        None, help="Directory for extrapolation.{md,csv} (default: print only)."),
    threads: int | None = typer.Option(
        None, help="Native threads (torch, OpenMP, BLAS; default: as they are)."),
) -> None:
    """How far LCE / LCE-m extrapolations land from the final epoch, beside the last value."""
    epochs = ints(fidelities, "--fidelities")
    if out is not None:
        output_dir(out, "--out")
    with limit_threads(threads):
        table = extrapolation_errors(benchmark, names(predictors), epochs, archs, seed)
    text = to_markdown(table, benchmark)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "extrapolation.md").write_text(text)
        table.to_csv(out / "extrapolation.csv", index=False)
    typer.echo(text)
