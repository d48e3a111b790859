"""Ranking loss against regression for the torch predictors, paired over trials.

    python -m benchmarks.analyses.loss_comparison results/ranking-predictors/*.db \
        --out results/ranking-predictors

Reads the stores of ``predbench run`` sweeps in which a predictor ran with several values of its
``loss`` hyperparameter (``predictors.model_based._torch.LOSSES``; a record without one ran the
predictor's default). Writes ``losses.md``/``.csv``, Kendall tau (mean ± std over trials) and
mean fit time per (benchmark, predictor, loss, train size), and ``differences.md``/``.csv``:
for every other loss, its Kendall tau minus the regression loss's (``mse`` or ``mae``) at the
same setting, with a 95% paired-bootstrap interval over the trials both ran
(``benchmarks.statistics.paired_interval``; within a trial both saw one test set).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from benchmarks.checks import OptionError, output_dir
from benchmarks.statistics import paired_interval, trial_table
from benchmarks.store import ResultStore

if TYPE_CHECKING:
    import pandas as pd

#: The losses that regress the labels: the baseline every other loss is compared with.
REGRESSION_LOSSES = ("mse", "mae")
#: One setting of the comparison (the loss aside).
KEYS = ["benchmark_name", "predictor", "train_size"]


def ok_records(stores: Sequence[Path]) -> pd.DataFrame:
    """The successful records of ``stores``, one frame; one line naming them when there are
    none."""
    import pandas as pd

    frames = []
    for path in stores:
        with ResultStore(path) as store:
            frames.append(store.to_frame(status="ok"))
    frame = pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise OptionError(f"no successful records in {', '.join(map(str, stores))}")
    return frame


def records(stores: Sequence[Path]) -> pd.DataFrame:
    """The successful records of ``stores`` with a ``loss`` column (the default filled in)."""
    import pandas as pd

    from predictors.registry import get

    frame = ok_records(stores)
    given = frame["params.loss"] if "params.loss" in frame else pd.Series(pd.NA, frame.index)
    defaults = frame["predictor"].map(lambda name: get(name)().get_params().get("loss"))
    frame["loss"] = given.where(given.notna(), defaults)
    return frame[frame["loss"].notna()].copy()


def loss_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Kendall tau mean, std, trials and mean fit seconds per setting and loss."""
    grouped = frame.groupby([*KEYS, "loss"], dropna=False)
    out = grouped.agg(kendall_mean=("kendall", "mean"), kendall_std=("kendall", "std"),
                      trials=("kendall", "size"), fit_s=("init_fit_s", "mean"))
    return out.reset_index()


def differences(frame: pd.DataFrame) -> pd.DataFrame:
    """Each non-regression loss minus the regression loss of the same setting (paired)."""
    import pandas as pd

    table = trial_table(frame, [*KEYS, "loss"])
    rows = []
    for setting in sorted({key[:-1] for key in table.index}):
        losses = {key[-1] for key in table.index if key[:-1] == setting}
        for base in sorted(losses & set(REGRESSION_LOSSES)):
            for other in sorted(losses - set(REGRESSION_LOSSES)):
                d = paired_interval(table.loc[(*setting, other)], table.loc[(*setting, base)])
                rows.append({**dict(zip(KEYS, setting, strict=True)), "loss": other,
                             "versus": base, "diff": d.mean, "low": d.low, "high": d.high,
                             "trials": d.trials, "separated": d.separated})
    return pd.DataFrame(rows, columns=[*KEYS, "loss", "versus", "diff", "low", "high",
                                       "trials", "separated"])


def markdown(frame: pd.DataFrame, columns: dict[str, str]) -> str:
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    for _, r in frame.iterrows():
        lines.append("| " + " | ".join(_text(r[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _text(value: object) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.3f}"
    return str(value)


def check_stores(stores: Sequence[Path], out: Path) -> None:
    """One line naming the fix when a store is missing or ``out`` cannot be a directory."""
    missing = [str(p) for p in stores if not p.is_file()]
    if missing:
        raise OptionError(f"no results store {', '.join(missing)}; give the .db files that "
                          "`predbench run --store` wrote")
    output_dir(out, "--out")


def write_tables(out: Path, tables: dict[str, tuple[pd.DataFrame, dict[str, str]]]) -> str:
    """``out/NAME.csv`` and ``out/NAME.md`` of each ``NAME: (frame, {column: heading})``; the
    markdown of all, one after the other."""
    out.mkdir(parents=True, exist_ok=True)
    texts = []
    for name, (frame, columns) in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
        texts.append(markdown(frame, columns))
        (out / f"{name}.md").write_text(texts[-1])
    return "\n".join(texts)


def command(
    stores: list[Path] = typer.Argument(..., help="Results stores of the sweeps."),
    out: Path = typer.Option(..., help="Directory for losses.md/.csv and differences.md/.csv."),
) -> None:
    """Ranking loss against regression for the torch predictors, paired over trials."""
    check_stores(stores, out)
    frame = records(stores)
    typer.echo(write_tables(out, {
        "losses": (loss_table(frame), {
            "benchmark_name": "benchmark", "predictor": "predictor", "loss": "loss",
            "train_size": "train size", "kendall_mean": "tau", "kendall_std": "± std",
            "trials": "trials", "fit_s": "fit s"}),
        "differences": (differences(frame), {
            "benchmark_name": "benchmark", "predictor": "predictor", "train_size": "train size",
            "loss": "loss", "versus": "versus", "diff": "tau diff", "low": "95% low",
            "high": "95% high", "trials": "trials", "separated": "interval excludes 0"}),
    }))


def main() -> None:
    """``python -m benchmarks.analyses.loss_comparison STORES --out DIR``."""
    from benchmarks.cli import _guard

    typer.run(_guard(command))


if __name__ == "__main__":
    main()
