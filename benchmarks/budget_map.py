"""The best predictor at each (initialization time, query time) budget: the study's Figure 1.

A budget is a pair of limits. For each one the map picks, among the summarized (predictor,
train size, fidelity) settings whose mean initialization time and mean query time per
architecture both fit, the one with the highest mean Kendall tau, and lists the fitting settings
the trials cannot separate from it (a paired 95% interval of the difference containing zero,
``benchmarks.statistics``): where there are such ties the cell is hatched and names how many,
since the data do not single out a winner there. The limits step 1, 2, 5, 10, 20, ... seconds
over the range of the settings' times; a limit at which nothing changes along its axis is
dropped, which keeps the map as small as the answer. Times under ``TIME_FLOOR_S`` count as that
floor on both axes: below a millisecond the measured differences are timing noise (model-based
predictors score an architecture in 30-600 microseconds, label-free ones set up in 5-20, depending
on what else runs) and matter to no search, so the map does not let them pick a winner.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.statistics import SETTING, Comparisons, setting_of  # noqa: E402

INIT, QUERY, TAU = "init_time_s_mean", "query_time_s_mean", "kendall_mean"
#: Seconds (initialization, or query per architecture) below which settings are not told apart.
TIME_FLOOR_S = 1e-3
#: How axis titles say so.
FLOOR_NOTE = f"under {TIME_FLOOR_S:g} s counts as {TIME_FLOOR_S:g} s"


def floored(times: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
    """``times`` with every value under ``TIME_FLOOR_S`` raised to it (NaN stays NaN)."""
    return np.maximum(times, TIME_FLOOR_S)


def candidate_limits(times: pd.Series) -> list[float]:
    """The 1-2-5 steps (1, 2, 5, 10, 20, ...) that cover the positive finite times, ascending."""
    positive = times[np.isfinite(times) & (times > 0)]
    if positive.empty:
        return [1.0]
    low = int(np.floor(np.log10(positive.min())))
    high = int(np.ceil(np.log10(positive.max())))
    steps = [m * 10.0 ** k for k in range(low, high + 1) for m in (1, 2, 5)]
    first = next(i for i, v in enumerate(steps) if v >= positive.min())
    last = next(i for i, v in enumerate(steps) if v >= positive.max())
    return steps[first:last + 1]


def _changes(table: pd.DataFrame, init_limits: list[float], query_limits: list[float]
             ) -> tuple[list[float], list[float]]:
    """The limits along each axis at which some cell's answer differs from the limit before."""
    answer = table["predictor"].astype(str) + "|" + table["train_size"].astype(str) + "|" + \
        table["fidelity"].astype(str)
    grid = answer.to_numpy().reshape(len(query_limits), len(init_limits))
    cols = [j for j in range(len(init_limits)) if j == 0 or (grid[:, j] != grid[:, j - 1]).any()]
    rows = [i for i in range(len(query_limits)) if i == 0 or (grid[i] != grid[i - 1]).any()]
    return [init_limits[j] for j in cols], [query_limits[i] for i in rows]


def setting_label(row: pd.Series) -> str:
    """A setting as plots and tables name it: ``predictor [n=labels] [e=epochs]``."""
    parts = [str(row["predictor"])]
    if row["train_size"]:
        parts.append(f"n={int(row['train_size'])}")
    if not pd.isna(row["fidelity"]):
        parts.append(f"e={int(row['fidelity'])}")
    return " ".join(parts)


def _ties(fits: pd.DataFrame, best: pd.Series, comparisons: Comparisons | None) -> list[str]:
    """The other fitting settings the trials cannot separate from ``best``."""
    if comparisons is None:
        return []
    top = setting_of(best, SETTING)
    return [setting_label(row) for idx, row in fits.iterrows()
            if idx != best.name and comparisons.tied(top, setting_of(row, SETTING))]


def best_by_budget(summary: pd.DataFrame, init_limits: list[float],
                   query_limits: list[float], comparisons: Comparisons | None = None
                   ) -> pd.DataFrame:
    """One row per (init limit, query limit): the best setting that fits (or none) and, with
    ``comparisons``, the fitting settings tied with it."""
    data = summary.dropna(subset=[INIT, QUERY, TAU])
    rows = []
    for q in query_limits:
        for i in init_limits:
            fits = data[(data[INIT] <= i) & (data[QUERY] <= q)]
            best = fits.loc[fits[TAU].idxmax()] if len(fits) else None
            tied = [] if best is None else _ties(fits, best, comparisons)
            rows.append({
                "init_limit_s": i, "query_limit_s": q,
                "predictor": None if best is None else best["predictor"],
                "train_size": None if best is None else int(best["train_size"]),
                "fidelity": None if best is None or pd.isna(best["fidelity"])
                else int(best["fidelity"]),
                "kendall": np.nan if best is None else float(best[TAU]),
                "n_tied": len(tied),
                "tied": "; ".join(tied),
            })
    return pd.DataFrame(rows)


def budget_table(summary: pd.DataFrame, comparisons: Comparisons | None = None
                 ) -> tuple[pd.DataFrame, list[float], list[float]]:
    """The map's cells (:func:`best_by_budget`, query-major) at the limits where the answer
    changes, and those initialization and query limits (times floored at ``TIME_FLOOR_S``)."""
    data = summary.dropna(subset=[INIT, QUERY, TAU])
    data = data.assign(**{col: floored(data[col]) for col in (INIT, QUERY)})
    init_limits, query_limits = candidate_limits(data[INIT]), candidate_limits(data[QUERY])
    full = best_by_budget(data, init_limits, query_limits, comparisons)
    init_limits, query_limits = _changes(full, init_limits, query_limits)
    kept = full["init_limit_s"].isin(init_limits) & full["query_limit_s"].isin(query_limits)
    return full[kept].reset_index(drop=True), init_limits, query_limits


def _family_shades(names: list[str], summary: pd.DataFrame):
    """A colour map over ``names``: each predictor in its family's colour (as on the Pareto
    plots), the family's second and later winners in lighter shades of it (without a
    ``family`` column, one colour per predictor)."""
    from matplotlib.colors import ListedColormap, to_rgb

    from benchmarks.plots import FAMILY_COLOURS, OTHER_FAMILY_COLOUR

    if "family" not in summary:  # no families known: one colour per predictor
        return plt.get_cmap("tab20", max(len(names), 1))
    family = dict(zip(summary["predictor"], summary["family"], strict=False))
    seen: dict[str, int] = {}
    colours = []
    for name in names:
        fam = str(family.get(name, ""))
        k = seen[fam] = seen.get(fam, -1) + 1
        base = np.array(to_rgb(FAMILY_COLOURS.get(fam, OTHER_FAMILY_COLOUR)))
        light = 1.0 - 0.6 ** k  # 0, 0.4, 0.64, ... of the way to white
        colours.append(tuple(base + (1.0 - base) * light))
    return ListedColormap(colours or [(1.0, 1.0, 1.0)])


def plot_budget_map(summary: pd.DataFrame, path: Path, title: str,
                    comparisons: Comparisons | None = None) -> tuple[Path, pd.DataFrame]:
    """Cells colored by the best predictor, labeled with its Kendall tau and hatched with the
    number of settings tied with it; returns the table too."""
    table, init_limits, query_limits = budget_table(summary, comparisons)
    names = sorted(table["predictor"].dropna().unique())
    code = {name: k for k, name in enumerate(names)}
    grid = np.full((len(query_limits), len(init_limits)), np.nan)
    for n, row in table.iterrows():
        if row["predictor"] is not None:
            grid[n // len(init_limits), n % len(init_limits)] = code[row["predictor"]]
    cmap = _family_shades(names, summary)
    fig, ax = plt.subplots(figsize=(2.5 + 0.75 * len(init_limits), 1.8 + 0.5 * len(query_limits)))
    ax.imshow(grid, origin="lower", cmap=cmap, vmin=-0.5, vmax=max(len(names), 1) - 0.5,
              aspect="auto")
    for n, row in table.iterrows():
        if row["predictor"] is None:
            continue
        x, y = n % len(init_limits), n // len(init_limits)
        text = f"{row['kendall']:.2f}"
        if row["n_tied"]:
            text += f"\n+{row['n_tied']} tied"
            ax.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="///",
                                       edgecolor="white", linewidth=0))
        ax.text(x, y, text, ha="center", va="center", fontsize=5.5)
    ax.set_xticks(range(len(init_limits)), [f"{v:.2g}" for v in init_limits], rotation=60,
                  fontsize=7)
    ax.set_yticks(range(len(query_limits)), [f"{v:.2g}" for v in query_limits], fontsize=7)
    ax.set_xlabel("initialization budget (s, at most; uneven steps where the best changes;\n"
                  f"{FLOOR_NOTE})")
    ax.set_ylabel(f"query budget per architecture\n(s, at most; {FLOOR_NOTE})")
    ax.set_title(title + "\nbest predictor per budget (its family's colour, as on the Pareto "
                 "plots) and its Kendall tau;\nhatched: "
                 "others tied with it (paired 95% interval over trials)", fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(code[name])) for name in names]
    ax.legend(handles, names, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path, table
