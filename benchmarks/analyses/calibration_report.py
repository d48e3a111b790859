"""``predbench analyze calibration``: how far the std of the search surrogates can be trusted, and
whether a better-calibrated surrogate finds good architectures in fewer queries with the same
acquisition.

It runs (resumably, ``benchmarks.analyses.surrogate_evidence``) the harness on the surrogates at
the train sizes a search sees and their BO searches with one acquisition (default: independent
Thompson sampling, which draws from N(mean, std) and so uses the std directly), then writes to
``--out`` (default ``results/calibration``):

- ``calibration.csv`` / ``.md``: on the uniform test sets, per surrogate with a std and train
  size, mean ± std over trials of Kendall tau, NLL, CRPS, mean std, 68% / 95% coverage and the
  calibration error (mean absolute gap between observed and nominal coverage over
  ``benchmarks.calibration.LEVELS``);
- ``reliability.png``: observed against nominal coverage of the central intervals, one line per
  surrogate, one panel per train size (the diagonal is perfect calibration; below it the std is
  too small, above it too large);
- ``calibration_vs_bo.csv`` / ``.md`` / ``.png``: across the surrogates with a std, the rank
  correlation of each calibration metric, the mean std and Kendall tau with the BO
  search's queries to the top 1% / 0.1%, with bootstrap intervals, and the scatter plots.

Surrogates without a std of their own run BO on a bootstrap ensemble's spread
(``Surrogate(ensemble="auto")``), which the harness does not see: they are left out here.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.analyses.surrogate_evidence import (
    DEFAULT_SEARCH_STORE,
    DEFAULT_STORE,
    PREDICTOR_PARAMS,
    SURROGATES,
    AcquisitionOpt,
    BenchmarkOpt,
    BootOpt,
    Evidence,
    MutationOpt,
    MutationSizeOpt,
    ParamsOpt,
    QueriesOpt,
    ReferenceOpt,
    RunsOpt,
    SearchStoreOpt,
    StoreOpt,
    SurrogatesOpt,
    TestSizeOpt,
    ThreadsOpt,
    TimeoutOpt,
    TrainSizesOpt,
    TrialsOpt,
    WorkersOpt,
    calibration_error,
    correlation_table,
    format_interval,
    gather,
    markdown,
    offline_table,
    scale_note,
    uniform,
)
from benchmarks.calibration import COVERAGE_NAMES, LEVELS
from benchmarks.checks import output_dir
from benchmarks.mplot import pyplot

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: Per-record columns of the calibration table, in order.
TABLE_METRICS = ("kendall", "nll", "crps", "mean_std", "coverage@0.68", "coverage@0.95",
                 "calibration_error")
#: Offline metrics related to the search outcomes here (the mean std, how much a Thompson draw
#: can move a candidate, and Kendall tau, for contrast).
RELATED = ("calibration_error", "nll", "crps", "mean_std", "kendall")
OUTCOMES = ("mean_queries_top1%", "mean_queries_top0.1%")


def with_std(records: pd.DataFrame) -> pd.DataFrame:
    """The records of predictions with a std, with their calibration error."""
    import pandas as pd

    out = records[records["has_std"].astype(bool)].copy()
    cols = [c for c in dict.fromkeys((*TABLE_METRICS, *COVERAGE_NAMES)) if c in out]
    out[cols] = out[cols].apply(pd.to_numeric, errors="coerce")
    out["calibration_error"] = calibration_error(out)
    return out


def calibration_table(records: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over trials of ``TABLE_METRICS`` per (surrogate, train size)."""
    grouped = records.groupby(["surrogate", "train_size"])
    stats = grouped[list(TABLE_METRICS)].agg(["mean", "std"])
    stats.columns = [f"{m}_{s}" for m, s in stats.columns]
    stats["trials"] = grouped.size()
    return stats.reset_index()


def table_markdown(table: pd.DataFrame) -> str:
    """``calibration_table`` as markdown, ``mean ± std`` cells."""
    import pandas as pd

    head = ["surrogate", "train size", "trials", "Kendall tau", "NLL", "CRPS", "mean std",
            "coverage 68%", "coverage 95%", "calibration error"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in table.iterrows():
        cells = [f"{r[f'{m}_mean']:.3f} ± {0.0 if pd.isna(r[f'{m}_std']) else r[f'{m}_std']:.3f}"
                 if pd.notna(r[f"{m}_mean"]) else "n/a" for m in TABLE_METRICS]
        lines.append(f"| {r['surrogate']} | {int(r['train_size'])} | {int(r['trials'])} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def reliability_plot(records: pd.DataFrame, path: Path, title: str) -> Path:
    """Observed against nominal central-interval coverage, one line per surrogate and one
    panel per train size (mean over trials)."""
    plt = pyplot()
    sizes = sorted(records["train_size"].unique())
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.2 * len(sizes), 4.2), squeeze=False,
                             sharey=True)
    colors = dict(zip(sorted(records["surrogate"].unique()), plt.cm.tab10.colors, strict=False))
    for ax, size in zip(axes[0], sizes, strict=True):
        part = records[records["train_size"] == size]
        ax.plot([0, 1], [0, 1], color="black", lw=1, ls="--", label="perfect")
        for name, rows in part.groupby("surrogate"):
            observed = rows[list(COVERAGE_NAMES)].mean(axis=0).to_numpy(dtype=float)
            ax.plot(LEVELS, observed, marker="o", ms=3, color=colors[name], label=name)
        ax.set(title=f"{size} labels", xlabel="nominal coverage", xlim=(0, 1), ylim=(0, 1))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("observed coverage")
    axes[0][-1].legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def scatter_plot(joined: pd.DataFrame, metrics: tuple[str, ...], outcome: str, path: Path,
                 title: str) -> Path:
    """One panel per offline metric: surrogates (labeled points) against a search outcome."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.8 * len(metrics), 3.6), squeeze=False,
                             sharey=True)
    for ax, metric in zip(axes[0], metrics, strict=True):
        ax.scatter(joined[metric], joined[outcome], s=18)
        for name, r in joined.iterrows():
            ax.annotate(str(name), (r[metric], r[outcome]), fontsize=7,
                        xytext=(3, 2), textcoords="offset points")
        ax.set(xlabel=metric)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(outcome.replace("_", " "))
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def correlations_markdown(corr: pd.DataFrame) -> str:
    """Spearman and Kendall tau with their 95% bootstrap intervals over surrogates, and the
    Spearman interval with each surrogate's search runs resampled too, one row per pair."""
    import pandas as pd

    rows = pd.DataFrame({
        "method": corr["method"], "offline metric": corr["offline_metric"],
        "search outcome": corr["outcome"], "surrogates": corr["n"],
        "Spearman [95%]": corr.apply(format_interval, axis=1, name="spearman"),
        "Kendall [95%]": corr.apply(format_interval, axis=1, name="kendall"),
    })
    if "spearman_runs_low" in corr:
        rows["Spearman, runs resampled too [95%]"] = [
            "n/a" if pd.isna(lo) else f"[{lo:+.2f}, {hi:+.2f}]"
            for lo, hi in zip(corr["spearman_runs_low"], corr["spearman_runs_high"],
                              strict=True)]
    return markdown(rows)


def write_report(ev: Evidence, out: Path, boot: int) -> list[Path]:
    """The tables and figures listed in the module docstring."""
    records = with_std(uniform(ev.records))
    if records.empty:
        raise RuntimeError("none of the surrogates reports a std; add gp, rf, ngb or bohamiann "
                           "to --surrogates")
    name = ev.bench.name
    table = calibration_table(records)
    table.to_csv(out / "calibration.csv", index=False)
    note = scale_note(ev)
    (out / "calibration.md").write_text(
        f"# Calibration of search surrogates on {name}\n\n{note}\nMean ± std over trials, on "
        "the objective's scale; NLL in nats; calibration error = mean |observed - nominal| "
        f"coverage over levels {', '.join(f'{x:g}' for x in LEVELS)}.\n\n"
        + table_markdown(table))
    paths = [out / "calibration.csv", out / "calibration.md",
             reliability_plot(records, out / "reliability.png",
                              f"{name}: reliability of the surrogates' std (mean over "
                              f"{ev.setup.trials} trials)")]
    calibrated = sorted(records["surrogate"].unique())
    bo = ev.outcomes[(ev.outcomes["method"] == "bo")
                     & ev.outcomes["surrogate"].isin(calibrated)]
    offline = offline_table(records)
    corr = correlation_table(offline, bo, RELATED, OUTCOMES, boot=boot)
    corr.to_csv(out / "calibration_vs_bo.csv", index=False)
    joined = bo.set_index("surrogate").join(offline, how="inner")
    keep = ["label", "runs", "mean_queries_top1%", "ci95_top1%", "mean_queries_top0.1%",
            "ci95_top0.1%", "reached_top0.1%", *RELATED]
    (out / "calibration_vs_bo.md").write_text(
        f"# Calibration against BO search speed on {name}\n\n{note}\n"
        "Per surrogate: mean queries to the top 1% / 0.1% (unreached runs count as the budget) "
        "and the offline metrics (means over train sizes and trials).\n\n"
        + markdown(joined[keep].reset_index()) + "\nRank correlations across surrogates "
        "(95% bootstrap intervals over surrogates, and with each surrogate's search runs "
        "resampled too):\n\n" + correlations_markdown(corr))
    paths += [out / "calibration_vs_bo.csv", out / "calibration_vs_bo.md",
              scatter_plot(joined, RELATED, OUTCOMES[0], out / "calibration_vs_bo.png",
                           f"{name}: BO ({ev.setup.acquisition}) queries to the top 1% "
                           f"against offline metrics")]
    for path in paths:
        log.info("wrote %s", path)
    return paths


def command(
    benchmark: BenchmarkOpt = "fmnist-nb201",
    surrogates: SurrogatesOpt = ",".join(SURROGATES),
    predictor_params: ParamsOpt = json.dumps(PREDICTOR_PARAMS),
    train_sizes: TrainSizesOpt = "20,50,100",
    trials: TrialsOpt = 3,
    test_size: TestSizeOpt = 200,
    mutation_test: MutationOpt = "mutations:d=1,2:top=0.01",
    mutation_test_size: MutationSizeOpt = 50,
    acquisition: AcquisitionOpt = "its",
    runs: RunsOpt = 10,
    queries: QueriesOpt = 150,
    store: StoreOpt = DEFAULT_STORE,
    search_store: SearchStoreOpt = DEFAULT_SEARCH_STORE,
    reference_searches: ReferenceOpt = "",
    out: Path = Path("results/calibration"),
    workers: WorkersOpt = 1,
    threads: ThreadsOpt = 1,
    task_timeout: TimeoutOpt = 3600.0,
    boot: BootOpt = 2000,
) -> list[Path]:
    """Calibration (NLL, CRPS, coverage) of search surrogates and its relation to BO speed."""
    output_dir(out, "--out").mkdir(parents=True, exist_ok=True)
    ev = gather(benchmark, surrogates, predictor_params, train_sizes, trials, test_size,
                mutation_test, mutation_test_size, ["bo"], acquisition, runs, queries, store,
                search_store, reference_searches, workers, threads, task_timeout)
    return write_report(ev, out, boot)

