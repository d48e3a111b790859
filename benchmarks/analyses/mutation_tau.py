"""Uniform against mutation test sets: do predictors still rank the neighbours of good cells?

``predbench analyze mutation-tau --benchmark NAME`` evaluates each predictor (its sweep settings,
``predictors.registry.sweep_params``) at the given train sizes and fidelities on two test
distributions of the same benchmark, ``cells`` (uniform, the study's default) and a mutation
spec (``benchmarks.mutations``: cells within edit distance 1,2 of the top 1% by default), with
the same trials and test size, into a resumable store; then writes to ``--out`` (default
``results/mutation/<benchmark>``), per mutation spec ``<slug>``:

- ``mutation_tau_<slug>.csv`` / ``.md``: per predictor and budget, the mean Kendall tau on each
  distribution, the difference (mutation minus uniform) with a 95% bootstrap interval over
  trials paired by trial number (the two distributions draw independent splits per trial, so
  the pairing only aligns trials), the ratio, the noise ceilings where the labels have one, and
  the mean edit distances within the test sets (pairwise) and to the nearest parent;
- ``mutation_tau_<slug>.png``: mutation tau against uniform tau per predictor, and the
  differences with their intervals.

Zero-cost proxies read the benchmark's ``zc_<measure>`` table where it has one (``--zc-source
auto``), charged its tabulated time, as ``analyze omni-vary-both`` does.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from benchmarks.analyses.omni_vary_both import single_task_spec, tabulates
from benchmarks.analyses.omni_vary_both import trial_records as labeled_records
from benchmarks.checks import OptionError, ints, names, output_dir
from benchmarks.checks import executor as check_executor
from benchmarks.contexts import incompatibilities
from benchmarks.executor import make_executor
from benchmarks.experiments import build_tasks, quick_fidelities, run_sweep
from benchmarks.harness import EvalTask
from benchmarks.jobs import ADDRESS_HELP, EXECUTOR_HELP
from benchmarks.mutations import MUTATIONS, canonical, is_mutations, parse
from benchmarks.protocol import check_sizes
from benchmarks.statistics import paired_interval
from benchmarks.store import ResultStore
from benchmarks.tabular import TabularBenchmark, load_benchmark
from predictors.registry import families, make, sweep_params

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

UNIFORM = "cells"
#: Families compared by default: the study's model-based, zero-cost and learning-curve ones.
FAMILIES = ("model_based", "zero_cost", "baseline", "learning_curve")
KEYS = ["name", "family", "train_size", "fidelity"]
#: Uniform tau at or below which the ratio mutation / uniform is not reported (it says nothing).
MIN_RATIO_BASE = 0.1
#: Per-record columns averaged over trials for each distribution.
MEANS = {"kendall": "kendall", "ceiling": "noise_ceiling_kendall",
         "pairwise_distance": "test_pairwise_distance", "pool": "n_test_pool"}


def slug(spec: str) -> str:
    """File-name part of a mutation spec: ``mutations_d1-2_top0.01``."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", spec.replace(":", "_").replace("=", "")).strip("-")


def task_spec(bench: TabularBenchmark, name: str, zc_source: str) -> tuple[str, dict]:
    """(predictor, params) of ``name`` at its sweep settings; a proxy reads the benchmark's
    table under ``table``, and under ``auto`` where the benchmark tabulates it."""
    table = zc_source == "table" or (zc_source == "auto" and tabulates(bench, [name]))
    predictor, params = single_task_spec(name, "table" if table else "live")
    return predictor, {**sweep_params(predictor), **params}


def default_predictors(bench: TabularBenchmark, zc_source: str) -> list[str]:
    """Every registered predictor of :data:`FAMILIES` that can run on ``bench``."""
    chosen = []
    for name, family in families().items():
        if family not in FAMILIES or name == "zc_table":
            continue
        predictor, params = task_spec(bench, name, zc_source)
        needs = make(predictor, **params).data_needs()
        why = incompatibilities(bench, needs)
        if why:
            log.info("skipping %s: %s", name, why[0])
        else:
            chosen.append(name)
    return chosen


def build_experiment(benchmark: str, predictors: list[str], *, mutations: str, trials: int,
                     test_size: int, train_sizes: list[int], fidelities: list[int],
                     zc_source: str = "auto") -> tuple[list[EvalTask], dict[str, str]]:
    """Tasks of every predictor on both distributions, and each task key's predictor label."""
    bench = load_benchmark(benchmark)
    spec = canonical(mutations)
    check_sizes(bench, 0, test_size, distribution=spec)
    tasks: list[EvalTask] = []
    labels: dict[str, str] = {}
    for name in predictors:
        predictor, params = task_spec(bench, name, zc_source)
        for task in build_tasks(bench, predictor, params, trials=trials, test_size=test_size,
                                train_sizes=train_sizes, fidelities=fidelities,
                                benchmark_ref=benchmark):
            for distribution in (UNIFORM, spec):
                tasks.append(dataclasses.replace(task, test_distribution=distribution))
                labels[tasks[-1].key()] = name
    return tasks, labels


def trial_records(store: ResultStore, labels: dict[str, str]) -> pd.DataFrame:
    """The experiment's successful records with their predictor ``name`` (fidelity 0: none)
    and the test-set columns (NaN where a record predates them)."""
    frame = labeled_records(store, labels, "name")
    for column in ("noise_ceiling_kendall", "test_pairwise_distance", "test_parent_distance"):
        if column not in frame:
            frame[column] = np.nan
        frame[column] = frame[column].astype(float)
    return frame


def side_by_side(frame: pd.DataFrame) -> pd.DataFrame:
    """Per predictor and budget: each distribution's mean tau (and sd, ceiling, distances), the
    difference mutation - uniform with its 95% interval over trials, and the ratio (where the
    uniform tau exceeds :data:`MIN_RATIO_BASE`)."""
    import pandas as pd

    rows = []
    for key, part in frame.groupby(KEYS, sort=True):
        uniform = part[part["test_distribution"] == UNIFORM].set_index("trial")
        mutated = part[part["test_distribution"] != UNIFORM].set_index("trial")
        if uniform.empty or mutated.empty:
            continue
        row = dict(zip(KEYS, key, strict=True))
        for side, data in (("uniform", uniform), ("mutation", mutated)):
            for name, column in MEANS.items():
                row[f"{side}_{name}"] = float(data[column].mean())
            row[f"{side}_kendall_sd"] = float(data["kendall"].std(ddof=1))
        row["mutation_parent_distance"] = float(mutated["test_parent_distance"].mean())
        diff = paired_interval(mutated["kendall"], uniform["kendall"])
        ratio = (row["mutation_kendall"] / row["uniform_kendall"]
                 if row["uniform_kendall"] > MIN_RATIO_BASE else np.nan)
        row.update(diff=diff.mean, diff_low=diff.low, diff_high=diff.high, trials=diff.trials,
                   ratio=ratio)
        rows.append(row)
    return pd.DataFrame(rows)


def family_means(table: pd.DataFrame) -> pd.DataFrame:
    """Mean over the predictors of each family: uniform tau, mutation tau, difference."""
    return (table.groupby("family", as_index=False)
            .agg(predictors=("name", "nunique"), uniform_kendall=("uniform_kendall", "mean"),
                 mutation_kendall=("mutation_kendall", "mean"), diff=("diff", "mean"))
            .sort_values("diff"))


def _budget(row: pd.Series) -> str:
    """``100`` (labels), ``4 ep`` (epochs read), ``100, 4 ep`` (both)."""
    parts = ([str(int(row["train_size"]))] if row["train_size"] else []) + (
        [f"{int(row['fidelity'])} ep"] if row["fidelity"] else [])
    return ", ".join(parts) or "0"


def markdown(table: pd.DataFrame, title: str, notes: list[str]) -> str:
    """The side-by-side table, the family means and the notes as Markdown."""
    ceilings = table["uniform_ceiling"].notna().any()
    head = ["predictor", "family", "train, fidelity", "uniform tau", "mutation tau",
            "mutation - uniform [95%]", "ratio"] + (["ceiling uniform / mutation"]
                                                    if ceilings else [])
    lines = [f"# {title}", "", *notes, "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for _, r in table.sort_values(["family", "diff"]).iterrows():
        cells = [r["name"], r["family"], _budget(r),
                 f"{r['uniform_kendall']:.3f} ± {r['uniform_kendall_sd']:.3f}",
                 f"{r['mutation_kendall']:.3f} ± {r['mutation_kendall_sd']:.3f}",
                 f"{r['diff']:+.3f} [{r['diff_low']:+.3f}, {r['diff_high']:+.3f}]"
                 + (" *" if r["diff_high"] < 0 or r["diff_low"] > 0 else ""),
                 "n/a" if np.isnan(r["ratio"]) else f"{r['ratio']:.2f}"]
        if ceilings:
            cells.append(f"{r['uniform_ceiling']:.3f} / {r['mutation_ceiling']:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Family means (over the predictors and budgets above):", "",
              "| family | predictors | uniform tau | mutation tau | mutation - uniform |",
              "|---|---|---|---|---|"]
    for _, r in family_means(table).iterrows():
        lines.append(f"| {r['family']} | {r['predictors']} | {r['uniform_kendall']:.3f} | "
                     f"{r['mutation_kendall']:.3f} | {r['diff']:+.3f} |")
    return "\n".join(lines) + "\n"


def plot(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Left: mutation tau against uniform tau per setting; right: the differences with their
    95% intervals, sorted, coloured by family."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fams = sorted(table["family"].unique())
    colour = {f: f"C{i}" for i, f in enumerate(fams)}
    labels = [f"{r['name']} ({_budget(r)})" if table["name"].duplicated(keep=False)[i]
              else r["name"] for i, r in table.iterrows()]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 0.9 + 0.24 * max(len(table), 12)))
    for fam in fams:
        part = table[table["family"] == fam]
        left.errorbar(part["uniform_kendall"], part["mutation_kendall"],
                      xerr=part["uniform_kendall_sd"], yerr=part["mutation_kendall_sd"],
                      fmt="o", color=colour[fam], label=fam, ms=4, lw=0.6, capsize=0)
    for (_, r), text in zip(table.iterrows(), labels, strict=True):
        left.annotate(text, (r["uniform_kendall"], r["mutation_kendall"]), fontsize=6,
                      textcoords="offset points", xytext=(3, 2))
    lo = float(np.nanmin(table[["uniform_kendall", "mutation_kendall"]].to_numpy())) - 0.05
    hi = float(np.nanmax(table[["uniform_kendall", "mutation_kendall"]].to_numpy())) + 0.05
    left.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--", label="equal tau")
    if table["uniform_ceiling"].notna().any():
        for line, side in ((left.axvline, "uniform"), (left.axhline, "mutation")):
            value = float(table[f"{side}_ceiling"].mean())
            line(value, color="grey", lw=0.8, ls=":")
            left.annotate(f"noise ceiling, {side} ({value:.2f})", (value, value), fontsize=6,
                          color="grey", rotation=90 if side == "uniform" else 0,
                          textcoords="offset points", xytext=(2, -60 if side == "uniform" else 2))
    left.set_xlabel("Kendall tau, uniform test set (cells)")
    left.set_ylabel("Kendall tau, mutation test set")
    left.legend(fontsize=7)
    order = table.assign(label=labels).sort_values("diff")
    y = np.arange(len(order))
    right.barh(y, order["diff"], color=[colour[f] for f in order["family"]], alpha=0.8)
    right.errorbar(order["diff"], y, xerr=[order["diff"] - order["diff_low"],
                                           order["diff_high"] - order["diff"]],
                   fmt="none", ecolor="black", lw=0.8)
    right.set_yticks(y, order["label"], fontsize=7)
    right.axvline(0.0, color="grey", lw=0.8)
    right.set_xlabel("mutation - uniform Kendall tau (95% interval over trials)")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def write_report(frame: pd.DataFrame, out: Path, bench_name: str, spec: str,
                 test_size: int) -> list[Path]:
    """The table (CSV, Markdown) and the plot of one mutation spec."""
    out.mkdir(parents=True, exist_ok=True)
    frame = frame[frame["test_distribution"].isin([UNIFORM, spec])]
    table = side_by_side(frame)
    if table.empty:
        raise RuntimeError(f"no predictor has records on both distributions ({spec}); run the "
                           "sweep first")
    mutated = frame[frame["test_distribution"] == spec]
    uniform = frame[frame["test_distribution"] == UNIFORM]
    trials = int(frame["trial"].nunique())
    title = (f"{bench_name}: uniform vs {parse(spec).describe()} "
             f"(test size {test_size}, {trials} trials)")
    notes = [
        f"Mutation pool: {int(mutated['n_test_pool'].iloc[0])} cells within reach of "
        f"{int(mutated['mutation_parents'].iloc[0])} top cells (parents excluded, one cell per "
        f"canonical form tested); uniform pool: {int(uniform['n_test_pool'].iloc[0])} cells.",
        f"Mean edit distance within the test sets (pairwise): uniform "
        f"{uniform['test_pairwise_distance'].mean():.2f}, mutation "
        f"{mutated['test_pairwise_distance'].mean():.2f}; mutation test cells to their nearest "
        f"parent: {mutated['test_parent_distance'].mean():.2f}.",
        "Difference: mean over trials of mutation minus uniform tau, 95% bootstrap interval "
        "paired by trial number (* : the interval excludes 0); ratio: mutation / uniform tau, "
        f"n/a where the uniform tau is at most {MIN_RATIO_BASE}.",
    ]
    stem = f"mutation_tau_{slug(spec)}"
    paths = [out / f"{stem}.csv", out / f"{stem}.md"]
    table.to_csv(paths[0], index=False, float_format="%.6g")
    paths[1].write_text(markdown(table, title, notes))
    paths.append(plot(table, out / f"{stem}.png", title))
    for _, r in family_means(table).iterrows():
        log.info("%s: uniform %.3f, mutation %.3f (%+.3f)", r["family"], r["uniform_kendall"],
                 r["mutation_kendall"], r["diff"])
    return paths


def command(
    benchmark: str = typer.Option(..., "--benchmark", "-b", help="Benchmark name or directory."),
    predictors: str | None = typer.Option(
        None, help="Comma-separated predictors (default: every model-based, zero-cost, "
                   "baseline and learning-curve predictor that can run on the benchmark)."),
    mutations: str = typer.Option(
        MUTATIONS, help="Mutation test distribution, mutations[:d=1,2][:top=0.01]."),
    train_sizes: str = typer.Option("100", help="Comma-separated train sizes."),
    fidelities: str | None = typer.Option(
        None, help="Comma-separated epochs of the learning-curve predictors (default: 5%, 25%, "
                   "50% of the benchmark's epochs)."),
    trials: int = typer.Option(3, help="Trials per budget and distribution."),
    test_size: int = typer.Option(200, help="Test architectures per trial (both distributions)."),
    zc_source: str = typer.Option(
        "auto", help="Zero-cost scores live or from the benchmark's zc_<measure> table "
                     "(auto: the table when the benchmark has one): auto, live or table."),
    out: Path | None = typer.Option(None, help="Output directory (default: "
                                               "results/mutation/<benchmark>)."),
    store: Path | None = typer.Option(None, help="Results store (default: OUT/mutation.db)."),
    workers: int = typer.Option(1, help="Worker processes (with --executor ray: Ray tasks at a "
                                        "time)."),
    threads: int = typer.Option(1, help="Native threads (torch, OpenMP, BLAS) per worker."),
    task_timeout: float = typer.Option(
        3600.0, help="Seconds one evaluation may run before its worker is stopped and it is "
                     "recorded as timed out (0: no limit, in this process with one worker)."),
    executor: str = typer.Option("process", "--executor", help=EXECUTOR_HELP),
    address: str | None = typer.Option(None, "--address", envvar="RAY_ADDRESS",
                                       help=ADDRESS_HELP),
) -> list[Path]:
    """Kendall tau on uniform and on mutation test sets, side by side (resumable)."""
    if not is_mutations(mutations):
        raise OptionError(f"--mutations {mutations!r} must read mutations[:d=1,2][:top=0.01]")
    if trials < 1:
        raise OptionError("--trials must be at least 1")
    if zc_source not in ("auto", "live", "table"):
        raise OptionError(f"--zc-source {zc_source!r} is not one of auto, live, table")
    if not task_timeout >= 0:
        raise OptionError("--task-timeout must be a number of seconds, or 0 for no limit")
    bench = load_benchmark(benchmark)
    spec = canonical(mutations)
    chosen = names(predictors) or default_predictors(bench, zc_source)
    fids = ints(fidelities, "--fidelities") or quick_fidelities(bench.epochs)
    tasks, labels = build_experiment(benchmark, chosen, mutations=spec, trials=trials,
                                     test_size=test_size,
                                     train_sizes=ints(train_sizes, "--train-sizes"),
                                     fidelities=fids, zc_source=zc_source)
    out = output_dir(out or Path("results/mutation") / bench.name, "--out")
    out.mkdir(parents=True, exist_ok=True)
    pool = make_executor(workers, threads, task_timeout, check_executor(executor), address)
    with ResultStore(store or out / "mutation.db") as results:
        summary = run_sweep(tasks, results, pool, progress=True)
        log.info("%d evaluations: %d run now, %d ok, %d failed, %d timed out", summary.total,
                 summary.total - summary.skipped, summary.ok, summary.failed, summary.timed_out)
        frame = trial_records(results, labels)
    paths = write_report(frame, out, bench.name, spec, test_size)
    for path in paths:
        typer.echo(f"wrote {path}")
    return paths
