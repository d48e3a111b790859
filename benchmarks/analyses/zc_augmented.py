"""Zero-cost-augmented encodings against the plain ones, paired over trials.

    python -m benchmarks.analyses.zc_augmented results/zc-augmented/predbench.db \
        --out results/zc-augmented

Reads the stores of ``predbench run`` sweeps in which encoded predictors ran with and without
``zc_features`` (zero-cost scores appended to their input; ``predictors.model_based.base``).
Writes ``tau.md``/``.csv``: Kendall tau (mean ± std over trials) and mean initialization and
query time per (benchmark, predictor, features, train size); ``differences.md``/``.csv``: the
augmented predictor's Kendall tau minus the plain one's at the same setting, with a 95%
paired-bootstrap interval over the trials both ran (``benchmarks.statistics.paired_interval``;
within a trial both saw one test set and one training set); and ``tau_vs_train_size.png``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from benchmarks.analyses.loss_comparison import check_stores, ok_records, write_tables
from benchmarks.statistics import paired_interval, trial_table

if TYPE_CHECKING:
    import pandas as pd

#: The features label of records without zero-cost features.
PLAIN = "none"
#: One setting of the comparison (the features aside).
KEYS = ["benchmark_name", "predictor", "train_size"]


def features_label(value: object) -> str:
    """``"jacov+synflow"`` for a record's ``zc_features`` list, ``PLAIN`` without one."""
    if isinstance(value, (list, tuple)) and value:
        return "+".join(map(str, value))
    return PLAIN


def records(stores: Sequence[Path]) -> pd.DataFrame:
    """The successful records of ``stores`` with a ``features`` column."""
    frame = ok_records(stores)
    given = frame["params.zc_features"] if "params.zc_features" in frame else None
    frame["features"] = PLAIN if given is None else given.map(features_label)
    return frame


def tau_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Kendall tau mean, std and trials, mean init and per-arch query seconds per setting."""
    grouped = frame.groupby([*KEYS, "features"], dropna=False)
    out = grouped.agg(kendall_mean=("kendall", "mean"), kendall_std=("kendall", "std"),
                      trials=("kendall", "size"), init_s=("init_time_s", "mean"),
                      query_s=("query_time_s", "mean"))
    return out.reset_index()


def differences(frame: pd.DataFrame) -> pd.DataFrame:
    """Each augmented setting minus the plain one of the same predictor and train size."""
    import pandas as pd

    table = trial_table(frame, [*KEYS, "features"])
    rows = []
    for setting in sorted({key[:-1] for key in table.index}):
        labels = {key[-1] for key in table.index if key[:-1] == setting}
        if PLAIN not in labels:
            continue
        for label in sorted(labels - {PLAIN}):
            d = paired_interval(table.loc[(*setting, label)], table.loc[(*setting, PLAIN)])
            rows.append({**dict(zip(KEYS, setting, strict=True)), "features": label,
                         "diff": d.mean, "low": d.low, "high": d.high, "trials": d.trials,
                         "separated": d.separated})
    return pd.DataFrame(rows, columns=[*KEYS, "features", "diff", "low", "high", "trials",
                                       "separated"])


def plot(taus: pd.DataFrame, path: Path) -> Path:
    """Kendall tau against train size, one panel per (benchmark, predictor), one line per
    feature set (mean ± std over trials)."""
    from benchmarks.mplot import pyplot

    plt = pyplot()
    panels = sorted({(b, p) for b, p in zip(taus["benchmark_name"], taus["predictor"],
                                            strict=True)})
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False,
                             sharey=True)
    for ax, (bench, predictor) in zip(axes[0], panels, strict=True):
        part = taus[(taus["benchmark_name"] == bench) & (taus["predictor"] == predictor)]
        labels = sorted(set(part["features"]), key=lambda label: (label != PLAIN, label))
        for i, label in enumerate(labels):
            rows = part[part["features"] == label].sort_values("train_size")
            name = "encoding only" if label == PLAIN else f"+ {label.replace('+', ', ')}"
            ax.errorbar(rows["train_size"], rows["kendall_mean"], yerr=rows["kendall_std"],
                        marker="o", capsize=3, label=name, color=f"C{i}")
        sizes = sorted(set(part["train_size"]))
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(int(n)) for n in sizes])
        ax.minorticks_off()
        ax.set_title(f"{predictor} on {bench}")
        ax.set_xlabel("train size (labeled architectures)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Kendall tau (mean ± std over trials)")
    axes[0][-1].legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def command(
    stores: list[Path] = typer.Argument(..., help="Results stores of the sweeps."),
    out: Path = typer.Option(..., help="Directory for tau.md/.csv, differences.md/.csv and "
                                       "tau_vs_train_size.png."),
) -> None:
    """Zero-cost-augmented encodings against the plain ones, paired over trials."""
    check_stores(stores, out)
    frame = records(stores)
    taus = tau_table(frame)
    typer.echo(write_tables(out, {
        "tau": (taus, {
            "benchmark_name": "benchmark", "predictor": "predictor", "features": "zc features",
            "train_size": "train size", "kendall_mean": "tau", "kendall_std": "± std",
            "trials": "trials", "init_s": "init s", "query_s": "query s/arch"}),
        "differences": (differences(frame), {
            "benchmark_name": "benchmark", "predictor": "predictor", "train_size": "train size",
            "features": "zc features", "diff": "tau diff", "low": "95% low",
            "high": "95% high", "trials": "trials", "separated": "interval excludes 0"}),
    }))
    plot(taus, out / "tau_vs_train_size.png")


def main() -> None:
    """``python -m benchmarks.analyses.zc_augmented STORES --out DIR``."""
    from benchmarks.cli import _guard

    typer.run(_guard(command))


if __name__ == "__main__":
    main()
