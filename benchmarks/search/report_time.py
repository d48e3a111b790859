"""Anytime reports against simulated time: median and interquartile band over runs.

``write_time_report`` compares single-objective configurations that ran under a time budget
(full-fidelity and multi-fidelity alike): regret against simulated training time, beside it
the regret of the incumbent judged by the benchmark's second training seed where it has one,
and a table of the median regret at fractions of the budget with the winner at each.
``write_pareto_report`` does the same for two-objective searches with the hypervolume regret,
and plots the fronts found over the benchmark's true front.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.search.oracle import Landscape
from benchmarks.search.pareto import Objectives, pareto_mask
from benchmarks.search.report import (
    _curve_styles,
    independent_regret,
    regret_by_query,
    regret_by_time,
)
from benchmarks.search.store import SearchStore, Trajectory

log = logging.getLogger(__name__)

#: Fractions of the time (or query) budget the tables report.
BUDGET_FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)


def median_band(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, 25th and 75th percentile over runs (rows), NaN entries ignored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # columns before any run's first step
        lo, med, hi = np.nanpercentile(matrix, [25, 50, 75], axis=0)
    return med, lo, hi


def _fmt(med: float, lo: float, hi: float, digits: int) -> str:
    if not np.isfinite(med):
        return "–"
    return f"{med:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def budget_table(curves: dict[str, np.ndarray], budgets: Sequence[float], unit: str,
                 digits: int, what: str) -> list[str]:
    """Markdown rows: median [IQR] of each configuration at each budget, then the winner."""
    head = ["method", *(f"{b:g} {unit}" for b in budgets)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    stats = {label: median_band(m) for label, m in curves.items()}
    for label, (med, lo, hi) in stats.items():
        lines.append("| " + " | ".join([label, *(_fmt(med[i], lo[i], hi[i], digits)
                                                 for i in range(len(budgets)))]) + " |")
    winners = []
    for i in range(len(budgets)):
        meds = {label: s[0][i] for label, s in stats.items() if np.isfinite(s[0][i])}
        if not meds:
            winners.append("–")
            continue
        best = min(meds.values())
        winners.append(", ".join(k for k, v in meds.items() if v <= best + 1e-12))
    lines.append("| " + " | ".join([f"**lowest median {what}**", *winners]) + " |")
    return lines


def _plot(panels: list[tuple[str, str, dict[str, np.ndarray], np.ndarray, str]],
          path: Path, log_x: bool = True) -> Path:
    """One panel per (title, y label, curves by label, grid, x label): median and IQR band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(panels[0][2])
    styles = dict(zip(labels, _curve_styles(len(labels)), strict=True))
    legend_inches = 0.19 * math.ceil(len(labels) / 3) + 0.1
    height = 4.6 + legend_inches
    fig, axes = plt.subplots(1, len(panels), squeeze=False, figsize=(6.5 * len(panels), height))
    for ax, (title, ylabel, curves, grid, xlabel) in zip(axes[0], panels, strict=True):
        for label, matrix in curves.items():
            med, lo, hi = median_band(matrix)
            ok = np.sum(~np.isnan(matrix), axis=0) >= math.ceil(len(matrix) / 2)
            ax.plot(grid[ok], med[ok], label=label, **styles[label])
            ax.fill_between(grid[ok], lo[ok], hi[ok], alpha=0.12, color=styles[label]["color"],
                            linewidth=0)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        if log_x:
            ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, legend_inches / height, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _label(store: SearchStore, key: str, runs: int) -> str:
    return f"{store.label(key)} (n={runs})"


def _predictor_seconds(store: SearchStore, trajs: dict[str, list[Trajectory]]) -> str:
    spent = ", ".join(f"{_label(store, k, len(t))}: "
                      f"{np.mean([tr.predictor_s[-1] for tr in t]):.1f}" for k, t in trajs.items())
    return ("Mean predictor seconds per run (measured wall time of predictors and models plus "
            f"any tabulated proxy time read): {spent}.")


def write_time_report(store: SearchStore, keys: Sequence[str], land: Landscape,
                      out: str | Path, stem: str) -> list[Path]:
    """Regret against simulated time of ``keys`` (one time budget): plot and markdown table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    trajs = {k: store.trajectories(k) for k in keys}
    trajs = {k: t for k, t in trajs.items() if t}
    budget = max(float(store.config(k)["time_budget"] or 0) for k in trajs) or max(
        float(t.sim_time[-1]) for ts in trajs.values() for t in ts)
    grid = np.geomspace(budget / 200, budget, 200)
    curves = {_label(store, k, len(t)): regret_by_time(t, grid) for k, t in trajs.items()}
    panels = [(f"{land.bench.name}: regret vs simulated time", "regret (observed run)",
               curves, grid, "simulated training time [s]")]
    budgets = [budget * f for f in BUDGET_FRACTIONS]
    at = {label: np.column_stack([m[:, np.searchsorted(grid, b - 1e-9)] for b in budgets])
          for label, m in curves.items()}
    lines = [f"Benchmark `{land.bench.name}`, objective `{land.metric}`, time budget "
             f"{budget:g} simulated s. Median regret [25th, 75th percentile] over runs at "
             "each budget (the search's own observed run); – where fewer than half the runs "
             "have an incumbent yet.", ""]
    lines += budget_table(at, budgets, "s", 3, "regret")
    if land.independent is not None:
        other = {_label(store, k, len(t)): regret_by_time(
            t, grid, lambda tr: independent_regret(land, tr)) for k, t in trajs.items()}
        panels.append(("incumbent judged by the second training seed", "regret (second seed)",
                       other, grid, "simulated training time [s]"))
        at2 = {label: np.column_stack([m[:, np.searchsorted(grid, b - 1e-9)] for b in budgets])
               for label, m in other.items()}
        lines += ["", "The same incumbents judged by the second training seed (best second-seed "
                  "value minus the incumbent's; runs whose incumbent has no second run are "
                  "left out):", ""]
        lines += budget_table(at2, budgets, "s", 3, "second-seed regret")
        defined = ", ".join(f"{label}: {int(np.isfinite(m[:, -1]).sum())}/{len(m)}"
                            for label, m in at2.items())
        lines += ["", f"Runs whose final incumbent has a second run: {defined}."]
    lines += ["", _predictor_seconds(store, trajs)]
    md = out / f"{stem}-time-table.md"
    md.write_text("\n".join(lines) + "\n")
    png = _plot(panels, out / f"{stem}-time-regret.png")
    log.info("wrote %s, %s", md, png)
    return [md, png]


def found_front(objectives: Objectives, traj: Trajectory) -> np.ndarray:
    """Rows of the front a run found (its queried cells that none of them dominates)."""
    rows = np.unique(traj.arch_index)
    return rows[pareto_mask(objectives.values[rows])]


def write_pareto_report(store: SearchStore, keys: Sequence[str], objectives: Objectives,
                        out: str | Path) -> list[Path]:
    """Hypervolume regret against queries and simulated time, and the fronts found."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    land = objectives.land
    first, second = objectives.names
    stem = f"{land.bench.name}-{first}-vs-{second}"
    trajs = {k: store.trajectories(k) for k in keys}
    trajs = {k: t for k, t in trajs.items() if t}
    queries = max(store.budget(k) for k in trajs)
    by_query = {_label(store, k, len(t)): regret_by_query(t, queries) for k, t in trajs.items()}
    x = np.arange(1, queries + 1, dtype=float)
    panels = [(f"{land.bench.name}: {first} × {second}", "hypervolume regret", by_query, x,
               "queries (architectures trained)")]
    end = max(float(t.sim_time[-1]) for ts in trajs.values() for t in ts)
    if land.has_cost and end > 0:
        grid = np.geomspace(end / 200, end, 200)
        panels.append(("hypervolume regret vs simulated time", "hypervolume regret",
                       {label: regret_by_time(t, grid) for label, t in
                        zip(by_query, trajs.values(), strict=True)}, grid,
                       "simulated training time [s]"))
    png = _plot(panels, out / f"{stem}-hv-regret.png", log_x=False)
    budgets = [max(1, int(round(queries * f))) for f in BUDGET_FRACTIONS]
    at = {label: m[:, [b - 1 for b in budgets]] for label, m in by_query.items()}
    lines = [f"Benchmark `{land.bench.name}`: `{first}` (higher is better) × `{second}` "
             f"({'higher' if objectives.second_sign > 0 else 'lower'} is better), both "
             "scaled to [0, 1] over the table, reference point the origin. "
             f"True front: {len(objectives.true_front)} cells, hypervolume "
             f"{objectives.true_hv:.4f}. Median hypervolume regret [25th, 75th percentile] "
             "over runs after each number of queries.", ""]
    lines += budget_table(at, budgets, "queries", 4, "HV regret")
    exact = ", ".join(f"{label}: {int(np.sum(m[:, -1] <= 1e-12))}/{len(m)}"
                      for label, m in by_query.items())
    lines += ["", f"Runs whose front after {queries} queries is the true front: {exact}.", "",
              _predictor_seconds(store, trajs)]
    md = out / f"{stem}-hv-table.md"
    md.write_text("\n".join(lines) + "\n")
    fronts = _plot_fronts(store, trajs, objectives, out / f"{stem}-fronts.png")
    log.info("wrote %s, %s, %s", md, png, fronts)
    return [md, png, fronts]


def _plot_fronts(store: SearchStore, trajs: dict[str, list[Trajectory]],
                 objectives: Objectives, path: Path) -> Path:
    """Per configuration, the front of its median run (by final hypervolume) over the true
    front and the whole table, in the benchmark's units."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    raw, land = objectives.raw, objectives.land
    first, second = objectives.names
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    members = land.members
    ax.scatter(raw[members, 1], raw[members, 0], s=3, color="0.85", label="all cells")
    true = objectives.true_front[np.argsort(raw[objectives.true_front, 1])]
    ax.step(raw[true, 1], raw[true, 0], where="post", color="black", linewidth=1.2)
    ax.scatter(raw[true, 1], raw[true, 0], s=40, marker="x", color="black",
               label=f"true front ({len(true)} cells)")
    styles = _curve_styles(len(trajs))
    markers = "osD^v<>ph*"
    for i, (key, ts) in enumerate(trajs.items()):
        finals = np.array([t.regret[-1] for t in ts])
        median_run = ts[int(np.argsort(finals)[len(finals) // 2])]
        rows = found_front(objectives, median_run)
        rows = rows[np.argsort(raw[rows, 1])]
        ax.step(raw[rows, 1], raw[rows, 0], where="post", color=styles[i]["color"],
                linestyle="--", linewidth=0.9)
        ax.scatter(raw[rows, 1], raw[rows, 0], s=22, color=styles[i]["color"],
                   marker=markers[i % len(markers)],
                   label=f"{store.label(key)}: median run (HV regret {np.median(finals):.4f})")
    if second in land.bench.static_names:
        ax.set_xscale("log")
    ax.set(xlabel=second, ylabel=first, title=f"{land.bench.name}: fronts found")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
