"""OMNI's vary_both experiment: Kendall tau over (initialization, query) budgets, the gain over the
best single predictor, and the ablation table.

``predbench analyze omni-vary-both --benchmark NAME_OR_DIR`` evaluates OMNI, its
ablations (each feature block dropped in turn, the curve features alone, and the SoTL-E
prior variant) and single predictors over a grid of train sizes x fidelities, ``--trials``
trials each, into a resumable store, then writes to ``--out`` (default ``results/omni``):

- ``omni_heatmap.png`` / ``omni_cells.csv``: OMNI's mean Kendall tau per (train size, fidelity),
  labeled with the mean initialization and query time of each row and column;
- ``improvement.csv`` / ``improvement.png``: per OMNI budget, the best single predictor that
  uses no more labeled architectures *and* no more epochs per queried architecture, and OMNI's
  gain over it (negative where OMNI does not win; empty where no single predictor fits);
  ``improvement_curve_prior.csv`` the same for the SoTL-E prior variant, dashed in the plot;
- ``ablation.csv`` / ``ablation.md``: mean Kendall tau of each variant per budget and overall.

Zero-cost scores (OMNI's features and the zero-cost singles) are read from the benchmark's
``zc_<measure>`` table when it has one (``--zc-source auto``; ``predbench build zero-cost``
makes it for this project's benchmark), each charged its tabulated compute time, instead of
being recomputed live for every trial and variant.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import typer

from benchmarks.checks import OptionError, ints, names, output_dir
from benchmarks.checks import executor as check_executor
from benchmarks.executor import make_executor
from benchmarks.experiments import build_tasks, run_sweep
from benchmarks.harness import EvalTask
from benchmarks.jobs import ADDRESS_HELP, EXECUTOR_HELP
from benchmarks.statistics import Comparisons, setting_of, trial_table
from benchmarks.store import ResultStore
from benchmarks.tabular import load_benchmark

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

#: OMNI variants: label -> parameters added to the base OMNI parameters.
ABLATIONS: dict[str, dict[str, Any]] = {
    "omni": {},
    "no_encoding": {"use_encoding": False},
    "no_curves": {"use_curves": False},
    "no_zero_cost": {"use_zero_cost": False},
    # the curve features alone: can the learner reproduce what SoTL-E ranks without labels?
    "curves_only": {"use_encoding": False, "use_zero_cost": False},
    # past the study: the trees fit what a line in SoTL-E leaves (``Omni(curve_prior=True)``)
    "curve_prior": {"curve_prior": True},
}
#: Single predictors OMNI is compared with: its parts' families and the study's strong ones.
SINGLES = ("xgb", "ngb", "rf", "lcsvr", "sotle", "sotl", "jacov", "synflow")
KEYS = ["variant", "train_size", "fidelity"]
#: Variants that are candidate models rather than ablations: their gains are reported too.
VARIANTS_WITH_GAINS = ("curve_prior",)


def tabulates(bench, measures) -> bool:
    """Whether ``bench`` tabulates every zero-cost measure in ``measures`` (and its time)."""
    names = set(bench.static_names)
    return all(f"zc_{m}" in names and f"zc_{m}_time" in names for m in measures)


def resolve_zc_source(choice: str, bench, omni_params: dict[str, Any],
                      singles: list[str]) -> str:
    """``auto``: the benchmark's table when it holds every measure used, else live."""
    if choice != "auto":
        return choice
    from predictors.zero_cost import PROXY_MEASURES

    measures = [*omni_params.get("measures", ("jacov", "synflow")),
                *(s for s in singles if s in PROXY_MEASURES)]
    return "table" if tabulates(bench, measures) else "live"


def single_task_spec(name: str, zc_source: str) -> tuple[str, dict[str, Any]]:
    """(predictor, params) of a single predictor; a live proxy reads its table in table mode."""
    from predictors.zero_cost import PROXY_MEASURES

    if zc_source == "table" and name in PROXY_MEASURES:
        return "zc_table", {"measure": name}
    return name, {}


def build_experiment(benchmark: str, *, trials: int, test_size: int, train_sizes: list[int],
                     fidelities: list[int], omni_params: dict[str, Any],
                     ablations: list[str], singles: list[str], zc_source: str = "auto",
                     first_trial: int = 0) -> tuple[list[EvalTask], dict[str, str]]:
    """Tasks of every OMNI variant and single predictor, and each task key's label.

    ``zc_source`` (``live``, ``table`` or ``auto``) decides whether OMNI's zero-cost features
    and the zero-cost singles are computed live or read (and charged) from the benchmark's
    ``zc_<measure>`` table; ``auto`` takes the table when the benchmark has it.
    """
    bench = load_benchmark(benchmark)
    zc_source = resolve_zc_source(zc_source, bench, omni_params, singles)
    log.info("zero-cost scores: %s", "read from the benchmark's table (tabulated time charged)"
             if zc_source == "table" else "computed live")
    omni_params = {**omni_params, "zc_source": zc_source}
    tasks: list[EvalTask] = []
    labels: dict[str, str] = {}
    grid = {"trials": trials, "test_size": test_size, "train_sizes": train_sizes,
            "fidelities": fidelities, "benchmark_ref": benchmark, "first_trial": first_trial}
    for name in ablations:
        if name not in ABLATIONS:
            raise ValueError(f"unknown ablation {name!r}; use some of {sorted(ABLATIONS)}")
        params = {**omni_params, **ABLATIONS[name]}
        for task in build_tasks(bench, "omni", params, experiment="vary_both", **grid):
            tasks.append(task)
            labels[task.key()] = name
    for name in singles:
        predictor, params = single_task_spec(name, zc_source)
        for task in build_tasks(bench, predictor, params, **grid):
            tasks.append(task)
            labels[task.key()] = name
    return tasks, labels


def trial_records(store: ResultStore, labels: dict[str, str],
                  column: str = "variant") -> pd.DataFrame:
    """The successful records of an experiment's tasks (``labels``: task key -> label), each
    with its label in ``column``; fidelity 0 stands for none."""
    frame = store.to_frame(status="ok")
    frame = frame[frame["key"].isin(labels)].copy()
    if frame.empty:
        raise RuntimeError("no successful evaluations in the store; see its failed records")
    frame[column] = frame["key"].map(labels)
    frame["fidelity"] = frame["fidelity"].astype(float).fillna(0).astype(int)
    return frame


def cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean Kendall tau and times per (variant, train size, fidelity) over trials."""
    return (frame.groupby(KEYS, as_index=False)
            .agg(kendall=("kendall", "mean"), kendall_sd=("kendall", "std"),
                 trials=("kendall", "count"), init_time_s=("init_time_s", "mean"),
                 query_time_s=("query_time_s", "mean")))


def improvement(table: pd.DataFrame, ablations: list[str], variant: str = "omni",
                trials: pd.DataFrame | None = None) -> pd.DataFrame:
    """For each budget of an OMNI ``variant``, the best single predictor within it and the gain.

    With the per-trial records ``trials``, the gain gets its paired 95% bootstrap interval over
    trials (each trial tests every setting on one test set) and ``tie`` marks budgets where the
    interval contains zero: there the trials do not say which of the two is better.

    A single fits a budget when its train size and fidelity are both at most OMNI's. Budgets
    are compared by these nominal settings, not by mean simulated times: those are means over
    each evaluation's own test architectures, so at equal fidelity they differ by sampling
    noise (SoTL-E at 4 epochs charged 39.26 s per architecture and OMNI 39.10-39.81 s), which
    would let noise decide which rival OMNI meets. OMNI's extra cost at a budget (its search
    and its zero-cost scores) stays visible in the time columns.
    """
    import pandas as pd

    omni = table[table["variant"] == variant]
    singles = table[~table["variant"].isin(ablations)]
    comparisons = None if trials is None else Comparisons(trial_table(trials, KEYS))
    rows = []
    for _, cell in omni.iterrows():
        fits = singles[(singles["train_size"] <= cell["train_size"])
                       & (singles["fidelity"] <= cell["fidelity"])]
        fits = fits[np.isfinite(fits["kendall"])]
        best = fits.loc[fits["kendall"].idxmax()] if len(fits) else None
        row = {
            "train_size": cell["train_size"], "fidelity": cell["fidelity"],
            "init_time_s": cell["init_time_s"], "query_time_s": cell["query_time_s"],
            "omni_kendall": cell["kendall"],
            "best_single": None if best is None else best["variant"],
            "best_single_setting": None if best is None
            else f"n={best['train_size']}, epochs={best['fidelity'] or 'none'}",
            "best_single_kendall": np.nan if best is None else best["kendall"],
            "best_single_init_time_s": np.nan if best is None else best["init_time_s"],
            "best_single_query_time_s": np.nan if best is None else best["query_time_s"],
        }
        if comparisons is not None:
            row.update(_gain_interval(comparisons, cell, best))
        rows.append(row)
    out = pd.DataFrame(rows)
    out["gain"] = out["omni_kendall"] - out["best_single_kendall"]
    out["gain_pct"] = 100.0 * out["gain"] / out["best_single_kendall"].abs()
    return out


def _gain_interval(comparisons: Comparisons, cell: pd.Series, best: pd.Series | None
                   ) -> dict[str, float | bool]:
    """``gain_low``/``gain_high`` (paired 95% interval of OMNI's cell minus its best rival) and
    ``tie``; no rival: no interval, a tie."""
    if best is None:
        return {"gain_low": np.nan, "gain_high": np.nan, "tie": True}
    d = comparisons.difference(setting_of(cell, KEYS), setting_of(best, KEYS))
    return {"gain_low": d.low, "gain_high": d.high, "tie": not d.separated}


def ablation_table(table: pd.DataFrame, ablations: list[str]) -> pd.DataFrame:
    """Kendall tau of each OMNI variant per budget, plus the mean over budgets.

    A variant without curve features has no fidelity (stored as 0); its value fills every
    fidelity column of its train size.
    """
    import pandas as pd

    sub = table[table["variant"].isin(ablations)]
    fids = sorted(f for f in sub["fidelity"].unique() if f > 0)
    no_query = sub["fidelity"] == 0  # variants without curves need no query-time training
    spread = [sub[no_query].assign(fidelity=f) for f in fids] if fids else [sub[no_query]]
    sub = pd.concat([sub[~no_query], *spread], ignore_index=True)
    wide = sub.pivot_table(index=["train_size", "fidelity"], columns="variant",
                           values="kendall").reindex(columns=ablations)
    wide.loc[("mean", ""), :] = wide.mean(axis=0)
    return wide


def markdown(wide: pd.DataFrame) -> str:
    """A Markdown table of the ablation frame (index: train size, fidelity)."""
    head = ["train size", "epochs", *map(str, wide.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (n, fid), row in wide.iterrows():
        vals = ["" if np.isnan(v) else f"{v:.3f}" for v in row.to_numpy(dtype=float)]
        lines.append("| " + " | ".join([str(n), str(fid), *vals]) + " |")
    return "\n".join(lines)


def heatmap(table: pd.DataFrame, path: Path, title: str) -> Path:
    """OMNI's Kendall tau over train size (rows) x fidelity (columns), with mean times."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    omni = table[table["variant"] == "omni"]
    grid = omni.pivot_table(index="train_size", columns="fidelity", values="kendall")
    init = omni.groupby("train_size")["init_time_s"].mean().reindex(grid.index)
    query = omni.groupby("fidelity")["query_time_s"].mean().reindex(grid.columns)
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * grid.shape[1], 1.2 + 0.8 * grid.shape[0]))
    im = ax.imshow(grid.to_numpy(), origin="lower", cmap="viridis", aspect="auto")
    for (i, j), v in np.ndenumerate(grid.to_numpy()):
        ax.text(j, i, "" if np.isnan(v) else f"{v:.2f}", ha="center", va="center",
                color="white" if v < np.nanmean(grid.to_numpy()) else "black", fontsize=8)
    ax.set_xticks(range(grid.shape[1]),
                  [f"{f} ep\n{q:.3g} s" for f, q in zip(grid.columns, query, strict=True)])
    ax.set_yticks(range(grid.shape[0]),
                  [f"n={n}\n{t:.3g} s" for n, t in zip(grid.index, init, strict=True)])
    ax.set_xlabel("query budget: fidelity and query time per architecture")
    ax.set_ylabel("initialization budget: train size and time")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="Kendall tau")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def gain_plot(gains_by_variant: dict[str, pd.DataFrame], path: Path) -> Path:
    """Gain over the best single per budget: OMNI solid and annotated, other variants dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, (variant, gains) in enumerate(gains_by_variant.items()):
        for i, (fid, rows) in enumerate(gains.groupby("fidelity")):
            ax.plot(rows["train_size"], rows["gain"], marker="o" if k == 0 else "x",
                    linestyle="-" if k == 0 else "--", color=f"C{i}",
                    label=f"{variant}, {fid} epochs")
            if k > 0:
                continue
            if "tie" in rows:
                tied = rows[rows["tie"].astype(bool)]
                ax.scatter(tied["train_size"], tied["gain"], s=120, facecolors="none",
                           edgecolors="grey", zorder=4,
                           label="tie (paired 95% interval contains 0)" if i == 0 else None)
            for _, row in rows.dropna(subset=["best_single"]).iterrows():
                ax.annotate(row["best_single"], (row["train_size"], row["gain"]),
                            textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xscale("log")
    sizes = sorted(next(iter(gains_by_variant.values()))["train_size"].unique())
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.set_xlabel("train size (OMNI's labeled architectures)")
    ax.set_ylabel("Kendall tau: OMNI - best single")
    ax.set_title("OMNI against the best single predictor within its budget\n"
                 "(labels: that predictor; below 0 OMNI does not win)", fontsize=9)
    ax.legend(fontsize=7, ncol=2 if len(gains_by_variant) > 1 else 1)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def write_report(table: pd.DataFrame, ablations: list[str], out: Path, title: str,
                 trials: pd.DataFrame | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    gains = improvement(table, ablations, trials=trials)
    others = {v: improvement(table, ablations, v, trials) for v in VARIANTS_WITH_GAINS
              if v in ablations}
    abl = ablation_table(table, ablations)
    paths = [out / "omni_cells.csv", out / "improvement.csv", out / "ablation.csv",
             out / "ablation.md"]
    table.to_csv(paths[0], index=False)
    gains.to_csv(paths[1], index=False)
    abl.to_csv(paths[2])
    paths[3].write_text(f"# {title}: OMNI ablations (mean Kendall tau)\n\n"
                        + markdown(abl) + "\n")
    paths.append(heatmap(table, out / "omni_heatmap.png", title))
    for variant, other in others.items():
        paths.append(out / f"improvement_{variant}.csv")
        other.to_csv(paths[-1], index=False)
    paths.append(gain_plot({"omni": gains, **others}, out / "improvement.png"))
    losses = gains[gains["gain"] < 0]
    for _, row in losses.iterrows():
        log.info("OMNI does not win at n=%d, %d epochs: %s reaches %.3f vs %.3f%s",
                 row["train_size"], row["fidelity"], row["best_single"],
                 row["best_single_kendall"], row["omni_kendall"],
                 " (a tie over trials)" if row.get("tie", False) else "")
    return paths


def command(
    benchmark: str = typer.Option(..., help="Benchmark name or directory."),
    out: Path = typer.Option(Path("results/omni"), help="Output directory."),
    trials: int = typer.Option(5, help="Trials (train/test splits) per budget."),
    first_trial: int = typer.Option(
        0, help="Number of the first trial (splits are seeded by trial number): e.g. 5 with "
                "--trials 5 checks on five fresh splits what trials 0-4 showed."),
    test_size: int = typer.Option(200, help="Test architectures per trial."),
    train_sizes: str = typer.Option("14,42,121,347", help="Comma-separated train sizes."),
    fidelities: str | None = typer.Option(
        None, help="Comma-separated epochs (default: 5%, 25%, 50% of the benchmark's epochs)."),
    omni_params: str = typer.Option("{}", help="JSON parameters of every OMNI variant."),
    ablations: str = typer.Option(",".join(ABLATIONS), help="Comma-separated ablations."),
    singles: str = typer.Option(",".join(SINGLES), help="Comma-separated single predictors."),
    zc_source: str = typer.Option(
        "auto", help="Zero-cost scores live or from the benchmark's zc_<measure> table "
                     "(auto: the table when the benchmark has one): auto, live or table."),
    workers: int = typer.Option(1, help="Worker processes (with --executor ray: Ray tasks at a "
                                        "time)."),
    threads: int = typer.Option(1, help="Native threads (torch, OpenMP, BLAS) per worker."),
    store: Path | None = typer.Option(None, help="Results store (default: OUT/omni.db)."),
    task_timeout: float = typer.Option(
        3600.0, help="Seconds one evaluation may run before its worker is stopped and it is "
                     "recorded as timed out (0: no limit, in this process with one worker)."),
    executor: str = typer.Option("process", "--executor", help=EXECUTOR_HELP),
    address: str | None = typer.Option(None, "--address", envvar="RAY_ADDRESS",
                                       help=ADDRESS_HELP),
) -> list[Path]:
    """OMNI vary-both: heat-map, gain over the best single predictor, ablations."""
    chosen = names(ablations)
    if "omni" not in chosen:
        raise OptionError("--ablations must include 'omni' (the full model)")
    if zc_source not in ("auto", "live", "table"):
        raise OptionError(f"--zc-source {zc_source!r} is not one of auto, live, table")
    if not task_timeout >= 0:
        raise OptionError("--task-timeout must be a number of seconds, or 0 for no limit")
    try:
        params = json.loads(omni_params)
    except json.JSONDecodeError as exc:
        raise OptionError(f"--omni-params {omni_params!r} is not JSON ({exc})") from None
    bench = load_benchmark(benchmark)
    fids = (ints(fidelities, "--fidelities")
            or sorted({max(1, round(f * bench.epochs)) for f in (0.05, .25, .5)}))
    tasks, labels = build_experiment(
        benchmark, trials=trials, test_size=test_size,
        train_sizes=ints(train_sizes, "--train-sizes"), fidelities=fids, omni_params=params,
        ablations=chosen, singles=names(singles), zc_source=zc_source, first_trial=first_trial)
    output_dir(out, "--out").mkdir(parents=True, exist_ok=True)
    executor = make_executor(workers, threads, task_timeout, check_executor(executor), address)
    with ResultStore(store or out / "omni.db") as results:
        summary = run_sweep(tasks, results, executor, progress=True)
        log.info("%d evaluations: %d run now, %d ok, %d failed, %d timed out", summary.total,
                 summary.total - summary.skipped, summary.ok, summary.failed, summary.timed_out)
        frame = trial_records(results, labels)
    return write_report(cells(frame), chosen, out, bench.name, frame)
