"""``predbench analyze surrogate-vs-search``: does a surrogate's offline ranking quality predict
how fast the search it guides finds good architectures?

It runs (resumably, ``benchmarks.analyses.surrogate_evidence``) the harness on every surrogate at
the train sizes a search sees and each search method (``--methods``, default BO; ``evolution``
too) with every surrogate (configurations in the reference snapshot are read, not run), then
relates, across surrogates, each offline metric (Kendall tau, Spearman, precision@10/50 on
uniform test sets, Kendall tau on mutation test sets, and for surrogates with a std NLL, CRPS
and the calibration error) to each search outcome (mean queries to the top 1% / 0.1%, unreached
runs counted as the budget). Writes to ``--out`` (default ``results/surrogate-vs-search``):

- ``offline.csv`` and ``outcomes.csv``: the two sides, per surrogate and per configuration;
- ``correlations.csv`` / ``.md``: Spearman and Kendall tau with 95% bootstrap intervals over
  surrogates, per method, offline metric and outcome;
- ``surrogate_vs_search.png``: surrogates placed by offline metric and queries to the top 1%,
  one row per method; ``correlations.png``: the Spearman coefficients with their intervals.

A metric that predicts search speed correlates *negatively* with queries where higher is better
(tau, precision) and positively where lower is better (NLL, CRPS, calibration error).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from benchmarks.analyses.calibration_report import correlations_markdown
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
    correlation_table,
    gather,
    markdown,
    offline_table,
    scale_note,
)
from benchmarks.checks import OptionError, names, output_dir
from benchmarks.mplot import pyplot

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

METRICS = ("kendall", "spearman", "precision@10", "precision@50", "mutation_kendall", "nll",
           "crps", "calibration_error")
OUTCOMES = ("mean_queries_top1%", "mean_queries_top0.1%")
#: Metrics drawn in the scatter plot.
PLOTTED = ("kendall", "precision@10", "mutation_kendall", "crps", "calibration_error")
GUIDED = ("bo", "evolution")


def scatter_grid(offline: pd.DataFrame, outcomes: pd.DataFrame, path: Path, title: str) -> Path:
    """Rows: methods; columns: ``PLOTTED`` metrics; points: surrogates, against queries to the
    top 1%."""
    plt = pyplot()
    methods = list(dict.fromkeys(outcomes["method"]))
    fig, axes = plt.subplots(len(methods), len(PLOTTED), squeeze=False,
                             figsize=(3.6 * len(PLOTTED), 3.3 * len(methods)))
    for row, method in zip(axes, methods, strict=True):
        joined = (outcomes[outcomes["method"] == method].set_index("surrogate")
                  .join(offline, how="inner"))
        for ax, metric in zip(row, PLOTTED, strict=True):
            ax.scatter(joined[metric], joined[OUTCOMES[0]], s=18)
            for name, r in joined.iterrows():
                ax.annotate(str(name), (r[metric], r[OUTCOMES[0]]), fontsize=7,
                            xytext=(3, 2), textcoords="offset points")
            ax.set(xlabel=metric)
            ax.grid(alpha=0.3)
        row[0].set_ylabel(f"{method}: mean queries to top 1%")
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def correlation_plot(corr: pd.DataFrame, path: Path, title: str) -> Path:
    """Spearman of each offline metric with each outcome (bars: 95% bootstrap intervals), one
    panel per method."""
    plt = pyplot()
    methods = list(dict.fromkeys(corr["method"]))
    fig, axes = plt.subplots(1, len(methods), figsize=(6 * len(methods), 3.8), squeeze=False,
                             sharey=True)
    width = 0.8 / len(OUTCOMES)
    for ax, method in zip(axes[0], methods, strict=True):
        part = corr[corr["method"] == method]
        for i, outcome in enumerate(OUTCOMES):
            rows = part[part["outcome"] == outcome].set_index("offline_metric").reindex(METRICS)
            x = [j + (i - (len(OUTCOMES) - 1) / 2) * width for j in range(len(METRICS))]
            low = (rows["spearman"] - rows["spearman_low"]).clip(lower=0)
            high = (rows["spearman_high"] - rows["spearman"]).clip(lower=0)
            ax.bar(x, rows["spearman"], width, yerr=[low, high], capsize=2,
                   label=outcome.replace("mean_queries_", "queries to "))
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(range(len(METRICS)), METRICS, rotation=30, ha="right", fontsize=8)
        ax.set(title=f"{method} (n = {int(part['n'].max())} surrogates)", ylim=(-1.05, 1.05))
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("Spearman with queries (95% bootstrap)")
    axes[0][-1].legend(fontsize=8)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def write_report(ev: Evidence, out: Path, boot: int) -> list[Path]:
    """The tables and figures listed in the module docstring."""
    name = ev.bench.name
    offline = offline_table(ev.records)
    offline.to_csv(out / "offline.csv")
    ev.outcomes.to_csv(out / "outcomes.csv", index=False)  # per-run queries as JSON lists
    corr = correlation_table(offline, ev.outcomes, METRICS, OUTCOMES, boot=boot)
    corr.to_csv(out / "correlations.csv", index=False)
    keep = ["method", "surrogate", "runs", "source", "mean_queries_top1%", "ci95_top1%",
            "mean_queries_top0.1%", "ci95_top0.1%", "median_queries_top1%", "reached_top0.1%"]
    (out / "correlations.md").write_text(
        f"# Offline metrics against search speed on {name}\n\n{scale_note(ev)}\n"
        "Offline metrics per surrogate (means over train sizes and trials; NLL, CRPS and "
        "calibration error only for surrogates with a std):\n\n"
        + markdown(offline.reset_index()) + "\nSearch outcomes (mean queries: unreached runs "
        "count as the budget, ci95: half-width of its 95% t-interval over runs; median: "
        "unreached runs count as never, empty when fewer than half reach):\n\n"
        + markdown(ev.outcomes[keep], digits=1)
        + "\nRank correlations across surrogates (95% bootstrap intervals over surrogates, "
        "and with each surrogate's search runs resampled too; negative for tau/precision, "
        "positive for NLL/CRPS/calibration error means the metric predicts a faster "
        "search):\n\n" + correlations_markdown(corr))
    paths = [out / "offline.csv", out / "outcomes.csv", out / "correlations.csv",
             out / "correlations.md",
             scatter_grid(offline, ev.outcomes, out / "surrogate_vs_search.png",
                          f"{name}: offline metric against queries to the top 1%"),
             correlation_plot(corr, out / "correlations.png",
                              f"{name}: offline metrics against search speed")]
    for path in paths:
        log.info("wrote %s", path)
    return paths


def command(
    benchmark: BenchmarkOpt = "fmnist-nb201",
    surrogates: SurrogatesOpt = ",".join(SURROGATES),
    predictor_params: ParamsOpt = json.dumps(PREDICTOR_PARAMS),
    methods: Annotated[str, typer.Option(
        help="Comma-separated predictor-guided search methods: bo, evolution.")] = "bo",
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
    out: Path = Path("results/surrogate-vs-search"),
    workers: WorkersOpt = 1,
    threads: ThreadsOpt = 1,
    task_timeout: TimeoutOpt = 3600.0,
    boot: BootOpt = 2000,
) -> list[Path]:
    """Offline harness metrics of search surrogates against their searches' speed."""
    chosen = names(methods)
    bad = [m for m in chosen if m not in GUIDED]
    if bad or not chosen:
        raise OptionError(f"--methods {methods!r}: use some of {', '.join(GUIDED)} (the "
                          "predictor-guided methods)")
    output_dir(out, "--out").mkdir(parents=True, exist_ok=True)
    ev = gather(benchmark, surrogates, predictor_params, train_sizes, trials, test_size,
                mutation_test, mutation_test_size, chosen, acquisition, runs, queries, store,
                search_store, reference_searches, workers, threads, task_timeout)
    return write_report(ev, out, boot)
