"""Learning-curve predictors across fidelities: a table, two plots and the sweep's cost.

    predbench analyze lc-report --store results/fmnist-nb201/learning-curve/predbench.db \
        [--benchmark fmnist-nb201] [--predictors valacc,sotle,...] [--out DIR]

Reads the evaluations of a store (e.g. from `predbench reproduce --predictors valacc,valloss,
sotl,sotle,sotlema,lce,lce_m,lcsvr`) and writes, under ``--out``:

- ``lc_fidelity.md`` / ``.csv``: Kendall tau (mean ± std over trials) of every predictor (and
  train size, for hybrids) at every fidelity, its measured query time per architecture and the
  wall time of its whole sweep; where the records' labels come from another run than the curves
  (``label_source`` other-seed), two reference rows from the records: the noise ceiling (a
  perfect predictor against labels this noisy) and the curve run's own final value against the
  labels (reading the complete run); with the benchmark, a same-run reference row: Kendall tau
  between validation accuracy at epoch e and at the last epoch of one run over all its
  architectures, measured when it was built (``metadata.json`` ``summary.epoch_vs_final_tau``);
- ``lc_tau_vs_fidelity.png``: the same as curves, the reference dashed;
- ``lc_query_time_vs_tau.png``: query time per architecture (simulated partial training plus
  measured query) against Kendall tau, the study's view of this family;
- ``lc_report.json``: the cells where a predictor ranks worse than ``valacc`` at the same
  fidelity, and each predictor's sweep time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from benchmarks.checks import OptionError, names, output_dir
from benchmarks.mplot import pyplot
from benchmarks.store import ResultStore

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

FAMILIES = ("learning_curve", "hybrid")
BASELINE = "valacc"


def load_frame(store: Path, predictors: Sequence[str] | None = None) -> pd.DataFrame:
    """Successful evaluations of the learning-curve family (or ``predictors``) in ``store``."""
    if not store.is_file():
        raise FileNotFoundError(f"no results store at {store}; run `predbench reproduce --store "
                                f"{store} --predictors valacc,sotle,...` first")
    with ResultStore(store) as rs:
        frame = rs.to_frame(status="ok")
    if frame.empty:
        raise ValueError(f"{store} holds no successful evaluation")
    keep = frame["predictor"].isin(predictors) if predictors else frame["family"].isin(FAMILIES)
    frame = frame[keep & frame["fidelity"].notna()].copy()
    if frame.empty:
        raise ValueError(f"{store} holds no learning-curve evaluation with a fidelity; "
                         "name the predictors with --predictors")
    frame["fidelity"] = frame["fidelity"].astype(int)
    frame["series"] = [p if n == 0 else f"{p} ({n} labels)"
                       for p, n in zip(frame["predictor"], frame["train_size"], strict=True)]
    return frame


def fidelity_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (series, fidelity): Kendall tau, Spearman, times and trial count."""
    grouped = frame.groupby(["series", "predictor", "train_size", "fidelity"])
    out = grouped.agg(
        kendall_mean=("kendall", "mean"), kendall_std=("kendall", "std"),
        spearman_mean=("spearman", "mean"), trials=("kendall", "size"),
        query_time_s=("query_time_s", "mean"), query_measured_s=("query_measured_s", "mean"),
        init_time_s=("init_time_s", "mean"), wall_s=("wall_s", "sum"),
    ).reset_index()
    return out.sort_values(["series", "fidelity"]).reset_index(drop=True)


def worse_than_baseline(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Cells whose mean Kendall tau is below ``valacc``'s at the same fidelity."""
    base = table[table["series"] == BASELINE].set_index("fidelity")["kendall_mean"]
    rows = []
    for r in table[table["series"] != BASELINE].itertuples():
        if r.fidelity in base.index and r.kendall_mean < base[r.fidelity]:
            rows.append({"series": r.series, "fidelity": int(r.fidelity),
                         "kendall": float(r.kendall_mean), BASELINE: float(base[r.fidelity])})
    return rows


def reference_curve(benchmark: str | None) -> list[float] | None:
    """Per-epoch Kendall tau of validation accuracy against the last epoch, from the build."""
    if not benchmark:
        return None
    from benchmarks.tabular import load_benchmark

    meta = load_benchmark(benchmark).metadata
    curve = (meta.get("summary") or {}).get("epoch_vs_final_tau")
    return [float(v) for v in curve] if curve else None


def label_references(frame: pd.DataFrame) -> dict[str, float]:
    """Mean noise ceiling and seed-to-seed tau of the records (empty under same-run labels)."""
    import pandas as pd

    out = {}
    for column, name in (("noise_ceiling_kendall", "noise ceiling"),
                         ("seed_to_seed_kendall", "complete curve run vs labels")):
        values = pd.to_numeric(frame.get(column), errors="coerce") if column in frame else None
        if values is not None and values.notna().any():
            out[name] = float(values.mean())
    return out


def markdown(table: pd.DataFrame, reference: list[float] | None,
             labels: dict[str, float] | None = None) -> str:
    fids = sorted(table["fidelity"].unique())
    head = "| predictor | " + " | ".join(f"epoch {f}" for f in fids)
    lines = [head + " | query ms/arch (measured) | sweep wall s |",
             "|---" * (len(fids) + 3) + "|"]
    for series, rows in table.groupby("series", sort=True):
        by_f = rows.set_index("fidelity")
        cells = [f"{by_f.at[f, 'kendall_mean']:.3f} ± {by_f.at[f, 'kendall_std']:.3f}"
                 if f in by_f.index else "" for f in fids]
        lines.append(f"| {series} | " + " | ".join(cells)
                     + f" | {1000 * rows['query_measured_s'].mean():.3g}"
                     + f" | {rows['wall_s'].sum():.3g} |")
    for name, value in (labels or {}).items():
        lines.append(f"| *{name} (labels from another run)* | "
                     + " | ".join(f"{value:.3f}" for _ in fids) + " | | |")
    if reference:
        cells = [f"{reference[f - 1]:.3f}" if 0 < f <= len(reference) else "" for f in fids]
        lines.append("| *val acc at epoch e vs last epoch of the same run (all archs, from the "
                     "build)* | " + " | ".join(cells) + " | | |")
    trials = int(table["trials"].min())
    lines.append("")
    lines.append(f"Kendall tau mean ± std over at least {trials} trial(s).")
    return "\n".join(lines) + "\n"


def plot_tau_vs_fidelity(table: pd.DataFrame, reference: list[float] | None,
                         path: Path, labels: dict[str, float] | None = None) -> Path:
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for series, rows in table.groupby("series", sort=True):
        ax.errorbar(rows["fidelity"], rows["kendall_mean"], yerr=rows["kendall_std"],
                    marker="o", capsize=3, label=series)
    for (name, value), style in zip((labels or {}).items(), ("k-", "k:"), strict=False):
        ax.axhline(value, color="black", linestyle=style[1:], linewidth=1, label=name)
    if reference:
        ax.plot(range(1, len(reference) + 1), reference, "k--",
                label="val acc at epoch e vs last epoch, same run")
    ax.set_xlabel("fidelity (epochs of partial training)")
    ax.set_ylabel("Kendall tau")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def plot_query_time(table: pd.DataFrame, path: Path) -> Path:
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for series, rows in table.groupby("series", sort=True):
        ax.plot(rows["query_time_s"], rows["kendall_mean"], marker="o", label=series)
    ax.set_xscale("log")
    ax.set_xlabel("query time per architecture, s (simulated partial training + measured)")
    ax.set_ylabel("Kendall tau")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def write_report(store: Path, out: Path, benchmark: str | None = None,
                 predictors: Sequence[str] | None = None) -> dict[str, Any]:
    """Write the table, plots and JSON summary; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    frame = load_frame(store, predictors)
    table = fidelity_table(frame)
    reference = reference_curve(benchmark)
    labels = label_references(frame)
    table.to_csv(out / "lc_fidelity.csv", index=False)
    (out / "lc_fidelity.md").write_text(markdown(table, reference, labels))
    plot_tau_vs_fidelity(table, reference, out / "lc_tau_vs_fidelity.png", labels)
    plot_query_time(table, out / "lc_query_time_vs_tau.png")
    summary = {
        "store": str(store),
        "benchmark": benchmark,
        "reference_epoch_vs_final_tau": reference,
        "label_references": labels,
        "worse_than_valacc": worse_than_baseline(table),
        "sweep_wall_s": {s: float(r["wall_s"].sum()) for s, r in table.groupby("series")},
        "query_measured_ms_per_arch": {s: float(1000 * r["query_measured_s"].mean())
                                       for s, r in table.groupby("series")},
    }
    (out / "lc_report.json").write_text(json.dumps(summary, indent=2))
    return summary


def command(
    store: Path = typer.Option(..., help="Results store of the learning-curve sweep."),
    benchmark: str | None = typer.Option(
        None, help="Benchmark name or directory, for the reference curve."),
    predictors: str | None = typer.Option(
        None, help="Comma-separated subset (default: the learning-curve and hybrid families)."),
    out: Path | None = typer.Option(None, help="Output directory [the store's directory]."),
) -> dict[str, Any]:
    """Learning-curve predictors across fidelities: table, tau against fidelity, query time."""
    out = store.parent if out is None else output_dir(out, "--out")
    try:
        summary = write_report(store, out, benchmark, names(predictors) or None)
    except (FileNotFoundError, ValueError) as exc:
        raise OptionError(str(exc)) from None
    typer.echo((out / "lc_fidelity.md").read_text())
    for row in summary["worse_than_valacc"]:
        typer.echo(f"below valacc: {row['series']} at epoch {row['fidelity']}: "
                   f"{row['kendall']:.3f} < {row['valacc']:.3f}")
    typer.echo(f"wrote {out}/lc_fidelity.md, .csv, lc_tau_vs_fidelity.png, "
               "lc_query_time_vs_tau.png, lc_report.json")
    return summary
