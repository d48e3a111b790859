"""One table across benchmarks from the ``summary_<benchmark>.csv`` files that sweeps write.

    predbench analyze summary-table results/model-based/*/summary_*.csv \
        --out results/model-based/README.md [--metric kendall] [--family model_based]

Rows are predictors, columns benchmarks; each cell lists the metric's mean ± std at every train
size of the sweep (e.g. ``0.21 ± 0.13 / 0.35 ± 0.03 / 0.48 ± 0.04`` at 24 / 121 / 589 labels),
followed by the mean fit wall time at the largest train size. Label-free baselines
(train size 0) show their single value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from benchmarks.checks import OptionError, output_file

if TYPE_CHECKING:
    import pandas as pd

#: Metrics a table can show.
METRICS = ("kendall", "spearman", "pearson")


def load(paths: Sequence[Path]) -> pd.DataFrame:
    import pandas as pd

    frames = [pd.read_csv(p) for p in paths]
    if not frames:
        raise SystemExit("no summary files given")
    return pd.concat(frames, ignore_index=True)


def _or_zero(value: float) -> float:
    import pandas as pd

    return 0.0 if pd.isna(value) else value


def cell(rows: pd.DataFrame, metric: str) -> str:
    """``mean ± std`` per train size (ascending), then the fit wall time at the largest."""
    import pandas as pd

    rows = rows.sort_values("train_size")
    parts = [f"{r[f'{metric}_mean']:.2f} ± {_or_zero(r[f'{metric}_std']):.2f}"
             for _, r in rows.iterrows()]
    text = " / ".join(parts)
    last = rows.iloc[-1]
    fit = last.get("init_fit_s_mean")
    if last["train_size"] > 0 and fit is not None and not pd.isna(fit):
        text += f" ({fit:.2g} s)"
    return text


def table(summary: pd.DataFrame, metric: str = "kendall", family: str | None = None) -> str:
    """Markdown: one row per predictor, one column per benchmark."""
    if family is not None:
        summary = summary[summary["family"].isin([family, "baseline"])]
    summary = summary[summary["fidelity"].isna()] if "fidelity" in summary else summary
    benches = sorted(summary["benchmark_name"].unique())
    sizes = sorted(s for s in summary["train_size"].unique() if s > 0)
    size_text = " / ".join(str(int(s)) for s in sizes)
    lines = ["| predictor | " + " | ".join(f"{b} ({size_text})" for b in benches) + " |",
             "|" + "---|" * (len(benches) + 1)]
    for name in sorted(summary["predictor"].unique()):
        mine = summary[summary["predictor"] == name]
        cells = []
        for b in benches:
            rows = mine[mine["benchmark_name"] == b]
            cells.append(cell(rows, metric) if len(rows) else "not run")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    trials = sorted(int(t) for t in summary["trials"].unique())
    return ("\n".join(lines) + f"\n\n{metric} mean ± std over {'/'.join(map(str, trials))} "
            "trial(s); in brackets: mean fit wall time at the largest train size.\n")


def command(
    summaries: list[Path] = typer.Argument(..., help="`summary_*.csv` files of sweeps."),
    out: Path = typer.Option(..., help="Markdown table to write."),
    metric: str = typer.Option("kendall", help="kendall, spearman or pearson."),
    family: str | None = typer.Option(None, help="Keep one family (and the baselines)."),
) -> None:
    """One predictor x benchmark table from several sweeps' summaries."""
    if metric not in METRICS:
        raise OptionError(f"--metric {metric!r} is not one of {', '.join(METRICS)}")
    missing = [str(path) for path in summaries if not path.is_file()]
    if missing:
        raise OptionError(f"no summary file {', '.join(missing)}; give the summary_*.csv files "
                          "that sweeps write")
    output_file(out, "--out")
    text = table(load(summaries), metric, family)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    typer.echo(text)
