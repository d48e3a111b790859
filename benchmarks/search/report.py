"""Regret curves (mean with a confidence band over runs) and queries-to-top-k tables."""

from __future__ import annotations

import csv
import logging
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.search.oracle import Landscape
from benchmarks.search.store import SearchStore, Trajectory

log = logging.getLogger(__name__)

TOP_FRACTIONS = (0.001, 0.01)


def regret_by_query(trajs: Sequence[Trajectory], queries: int) -> np.ndarray:
    """``[runs, queries]`` regret after 1..queries queries; a run that stopped early holds its
    last value, NaN before its first query."""
    out = np.full((len(trajs), queries), np.nan)
    for r, t in enumerate(trajs):
        n = min(len(t.regret), queries)
        out[r, :n] = t.regret[:n]
        if 0 < n < queries:
            out[r, n:] = t.regret[n - 1]
    return out


def regret_by_time(trajs: Sequence[Trajectory], grid: np.ndarray,
                   values: Callable[[Trajectory], np.ndarray] | None = None) -> np.ndarray:
    """``[runs, len(grid)]`` regret of the queries finished by each simulated time (or any
    other per-step ``values`` of a run)."""
    out = np.full((len(trajs), len(grid)), np.nan)
    for r, t in enumerate(trajs):
        pos = np.searchsorted(t.sim_time, grid, side="right") - 1
        ok = pos >= 0
        out[r, ok] = (t.regret if values is None else values(t))[pos[ok]]
    return out


def mean_band(matrix: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, ...]:
    """Mean over runs and a Student-t confidence interval (NaN entries ignored)."""
    from scipy import stats

    n = np.sum(~np.isnan(matrix), axis=0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # columns before any run's first query
        mean = np.nanmean(matrix, axis=0)
        sem = np.nanstd(matrix, axis=0, ddof=1) / np.sqrt(n)
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sem
    half = np.where(n > 1, half, 0.0)
    return mean, np.maximum(mean - half, 0.0), mean + half


def independent_regret(land: Landscape, traj: Trajectory) -> np.ndarray:
    """Per step, the second-seed regret of the run's incumbent (its own where it records one,
    as multi-fidelity runs do)."""
    if traj.incumbent is not None:
        out = land.independent_regret_of(traj.incumbent)
    else:
        out = land.independent_regret(traj.arch_index)
    assert out is not None, "the benchmark has no second seed"
    return out


def queries_to_reach(traj: Trajectory, max_regret: float) -> int | None:
    """1-based number of queries after which regret is at most ``max_regret`` (None: never)."""
    hit = np.flatnonzero(traj.regret <= max_regret + 1e-9)
    return int(hit[0]) + 1 if len(hit) else None


def median_or_none(values: Sequence[int | None]) -> float | None:
    """Median where unreached runs count as infinite; None when the median is unreached."""
    arr = np.array([math.inf if v is None else v for v in values], dtype=float)
    med = float(np.median(arr)) if len(arr) else math.inf
    return None if math.isinf(med) else med


@dataclass
class ConfigSummary:
    label: str
    key: str
    runs: int
    budget: int
    final_regret: float
    final_regret_ci: float
    independent: tuple[float, float, int] | None  # mean, 95% half-width, runs where defined
    to_top: dict[float, tuple[float | None, int]]  # fraction -> (median queries, runs reaching)
    predictor_s: float

    def row(self) -> dict[str, object]:
        out: dict[str, object] = {
            "method": self.label, "runs": self.runs, "queries": self.budget,
            "final_regret": round(self.final_regret, 5),
            "final_regret_ci95": round(self.final_regret_ci, 5),
        }
        if self.independent is not None:
            mean, half, defined = self.independent
            out["final_regret_independent_seed"] = "" if defined == 0 else round(mean, 5)
            out["independent_ci95"] = "" if defined < 2 else round(half, 5)
            out["independent_defined"] = f"{defined}/{self.runs}"
        for frac, (med, reached) in self.to_top.items():
            name = f"top{frac * 100:g}%"
            out[f"median_queries_{name}"] = "" if med is None else med
            out[f"reached_{name}"] = f"{reached}/{self.runs}"
        out["predictor_wall_s_mean"] = round(self.predictor_s, 2)
        return out


def summarize(store: SearchStore, key: str, land: Landscape) -> ConfigSummary:
    budget = store.budget(key)
    trajs = store.trajectories(key)
    if not trajs:
        raise ValueError(f"no finished runs of {store.label(key)} in {store.path}")
    final = np.array([t.regret[-1] for t in trajs])
    _, lo, hi = mean_band(final.reshape(-1, 1))
    independent = None
    if land.independent is not None:
        other = np.array([independent_regret(land, t)[-1] for t in trajs])
        other = other[np.isfinite(other)]
        half = np.nan
        if len(other) >= 2:
            _, o_lo, o_hi = mean_band(other.reshape(-1, 1))
            half = float((o_hi[0] - o_lo[0]) / 2)
        independent = (float(other.mean()) if len(other) else np.nan, half, len(other))
    to_top = {}
    for frac in TOP_FRACTIONS:
        max_regret = land.best_score - land.top_threshold(frac)
        reached = [queries_to_reach(t, max_regret) for t in trajs]
        to_top[frac] = (median_or_none(reached), sum(r is not None for r in reached))
    return ConfigSummary(
        store.label(key), key, len(trajs), budget, float(final.mean()),
        float((hi[0] - lo[0]) / 2), independent, to_top,
        float(np.mean([t.predictor_s[-1] for t in trajs])),
    )


def write_table(summaries: Sequence[ConfigSummary], out: Path, land: Landscape) -> list[Path]:
    rows = [s.row() for s in summaries]
    name = land.bench.name
    csv_path, md_path = out / f"{name}-search-table.csv", out / f"{name}-search-table.md"
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    head = list(rows[0])
    lines = [
        f"Benchmark `{land.bench.name}` ({len(land)} architectures, objective "
        f"`{land.metric}`, best {land.sign * land.best_score:.4f}). Median queries to reach the "
        "top 0.1% / 1% (empty: not reached by at least half the runs)."
        + ("" if land.independent is None else
           " The search observes seed 0's final value; final_regret_independent_seed judges its "
           "incumbent by the second training run instead (best second-seed value minus the "
           "incumbent's), over the runs whose incumbent has a second run "
           "(independent_defined)."),
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
    md_path.write_text("\n".join(lines) + "\n")
    return [csv_path, md_path]


def _curve_styles(n: int) -> list[dict[str, Any]]:
    """Distinct colour and dash pattern per curve: 20 colours, then the dashes change."""
    import matplotlib

    colours = matplotlib.colormaps["tab20"].colors
    dashes = ["-", "--", ":", "-."]
    return [{"color": colours[i % len(colours)], "linestyle": dashes[(i // len(colours)) % 4]}
            for i in range(n)]


def plot_regret(store: SearchStore, keys: Sequence[str], land: Landscape, path: Path) -> Path:
    """Two panels: regret vs queries and vs simulated time, mean and 95% band over runs.

    One style per configuration in both panels; the legend sits below them, so it never hides
    a curve however many configurations a benchmark has.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    all_trajs = {k: store.trajectories(k) for k in keys}
    styles = dict(zip(keys, _curve_styles(len(keys)), strict=True))
    times = np.concatenate([t.sim_time for ts in all_trajs.values() for t in ts])
    legend_inches = 0.19 * math.ceil(len(keys) / 3) + 0.1
    height = 4.8 + legend_inches
    fig, axes = plt.subplots(1, 2 if land.has_cost else 1, squeeze=False,
                             figsize=(13 if land.has_cost else 7, height))
    ax_q = axes[0, 0]
    for key, trajs in all_trajs.items():
        budget = store.budget(key)  # each curve up to its own budget
        x = np.arange(1, budget + 1)
        mean, lo, hi = mean_band(regret_by_query(trajs, budget))
        ax_q.plot(x, mean, label=f"{store.label(key)} (n={len(trajs)})", **styles[key])
        ax_q.fill_between(x, lo, hi, alpha=0.12, color=styles[key]["color"], linewidth=0)
    ax_q.set(xlabel="queries (architectures trained)", ylabel="regret (best − best found)",
             title=f"{land.bench.name}: regret vs queries")
    ax_q.set_yscale("symlog", linthresh=_linthresh(land))
    ax_q.set_ylim(bottom=0)
    ax_q.grid(alpha=0.3)
    if land.has_cost:
        ax_t = axes[0, 1]
        positive = times[times > 0]
        grid = np.geomspace(positive.min(), times.max(), 200)
        for key, trajs in all_trajs.items():
            matrix = regret_by_time(trajs, grid)
            mean, lo, hi = mean_band(matrix)
            # only where most runs have finished a query: a mean over two runs misleads
            ok = np.sum(~np.isnan(matrix), axis=0) >= math.ceil(len(trajs) / 2)
            ax_t.plot(grid[ok], mean[ok], **styles[key])
            ax_t.fill_between(grid[ok], lo[ok], hi[ok], alpha=0.12, color=styles[key]["color"],
                              linewidth=0)
        suffix = " (estimated)" if land.bench.cost_estimated else ""
        ax_t.set(xscale="log", xlabel=f"simulated training time [s]{suffix}",
                 ylabel="regret", title="regret vs simulated time")
        ax_t.set_yscale("symlog", linthresh=_linthresh(land))
        ax_t.set_ylim(bottom=0)
        ax_t.grid(alpha=0.3)
    handles, labels = ax_q.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, legend_inches / height, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _linthresh(land: Landscape) -> float:
    """Linear region of the symlog axis: the regret of the top-0.1% threshold (or tiny)."""
    gap = land.best_score - land.top_threshold(0.001)
    return float(gap) if gap > 0 else 1e-3


def write_report(store: SearchStore, keys: Sequence[str], land: Landscape,
                 out: str | Path) -> list[Path]:
    """Plots and tables of ``keys`` (configs on one benchmark) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summaries = [summarize(store, k, land) for k in keys]
    paths = write_table(summaries, out, land)
    png = out / f"{land.bench.name}-search-regret.png"
    paths.append(plot_regret(store, keys, land, png))
    log.info("wrote %s", ", ".join(str(p) for p in paths))
    return paths
