"""Where a sweep's time goes: worker-seconds per predictor family and per predictor.

``predbench bench sweep-cost STORE`` reads the records of a store or snapshot (``*.jsonl.gz``)
and prints, per family, the evaluations, the worker-seconds they took (each record's ``wall_s``:
fit, query and contexts inside the worker, not start-up), the share of the total, and the wall
time that costs on ``--cores`` workers; then the ``--top`` most expensive predictors with the
settings they ran. It is how the quick preset of ``predbench reproduce`` keeps its budget
visible: run it on the store a run wrote. Measured seconds depend on the machine's load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd


def cost_table(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Evaluations, worker-seconds and share of the total per value of column ``by``."""
    import pandas as pd

    data = frame.assign(wall_s=pd.to_numeric(frame["wall_s"], errors="coerce").fillna(0.0))
    table = data.groupby(by).agg(evaluations=("wall_s", "size"), worker_s=("wall_s", "sum"))
    table["share"] = table["worker_s"] / max(float(table["worker_s"].sum()), 1e-12)
    return table.sort_values("worker_s", ascending=False)


def _set(value: object) -> bool:
    import pandas as pd

    return isinstance(value, (list, tuple, dict)) or bool(pd.notna(value))


def _plain(value: object) -> object:
    """Whole floats as ints (a flattened frame turns a column with gaps into floats)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _settings(frame: pd.DataFrame, predictor: str) -> str:
    columns = [c for c in frame.columns if c.startswith("params.")]
    rows = frame.loc[frame["predictor"] == predictor, columns].dropna(axis=1, how="all")
    distinct = {json.dumps({c[len("params."):]: _plain(v) for c, v in row.items() if _set(v)},
                           sort_keys=True, default=str) for _, row in rows.iterrows()}
    return " | ".join(sorted(distinct)) or "{}"


def command(
    store: Annotated[Path, typer.Argument(help="Results store (.db) or snapshot (.jsonl.gz).")],
    cores: Annotated[int, typer.Option(help="Workers the wall-time column divides by.")] = 2,
    top: Annotated[int, typer.Option(help="Most expensive predictors listed.")] = 10,
) -> None:
    """Worker-seconds per predictor family and per predictor of a store's evaluations."""
    import pandas as pd

    from benchmarks.snapshot import read_frame

    if cores < 1 or top < 0:
        raise typer.BadParameter("--cores must be at least 1 and --top at least 0")
    frame = read_frame(store, status=None)
    if frame.empty:
        typer.echo(f"{store}: no evaluations")
        raise typer.Exit(1)
    total = float(pd.to_numeric(frame["wall_s"], errors="coerce").fillna(0.0).sum())
    typer.echo(f"{len(frame)} evaluations, {total:.0f} worker-seconds "
               f"({total / cores / 60:.1f} min on {cores} workers, start-up not counted)")
    heading = f"min on {cores}"
    typer.echo(f"{'family':<20}{'evals':>7}{'worker-s':>10}{'share':>8}{heading:>10}")
    for family, row in cost_table(frame, "family").iterrows():
        typer.echo(f"{family:<20}{int(row.evaluations):>7}{row.worker_s:>10.0f}{row.share:>8.1%}"
                   f"{row.worker_s / cores / 60:>10.1f}")
    if top:
        typer.echo("\nmost expensive predictors (settings run):")
        for name, row in cost_table(frame, "predictor").head(top).iterrows():
            typer.echo(f"{name:<20}{int(row.evaluations):>7}{row.worker_s:>10.0f}{row.share:>8.1%}"
                       f"  {_settings(frame, str(name))}")
