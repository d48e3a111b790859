"""Pareto plots (time against Kendall tau) and summary tables from stored records."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.budget_map import floored, plot_budget_map, setting_label  # noqa: E402
from benchmarks.protocol import describe_distribution  # noqa: E402
from benchmarks.statistics import (  # noqa: E402
    PROTOCOL,
    SETTING,
    Comparisons,
    add_best_comparison,
    setting_of,
    trial_table,
)

log = logging.getLogger(__name__)

GROUP = [*PROTOCOL, "predictor", "family", "train_size", "fidelity"]
#: Calibration metrics the summaries show, for predictors with a std (``benchmarks.calibration``).
CALIBRATION_SUMMARY = ["nll", "crps", "coverage@0.68", "coverage@0.95"]
SUMMARY_METRICS = ["kendall", "spearman", "pearson", "noise_ceiling_kendall",
                   "seed_to_seed_kendall", "init_time_s",
                   "query_time_s", "init_fit_s", "query_measured_s", *CALIBRATION_SUMMARY]
#: Protocol fields of records written before they existed.
UNRECORDED = {"labels": "unrecorded", "test_distribution": "cells", "label_source": "unrecorded"}
AXES = {
    "init": ("init_time_s", "Initialization time (s)"),
    "query": ("query_time_s", "Query time per architecture (s)"),
}


def ok_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Successful records with the summary columns numeric and the protocol fields filled."""
    ok = frame[frame["status"] == "ok"].copy()
    for col in SUMMARY_METRICS:
        ok[col] = pd.to_numeric(ok[col], errors="coerce") if col in ok else np.nan
    for col, default in UNRECORDED.items():
        ok[col] = ok[col].fillna(default) if col in ok else default
    ok["fidelity"] = ok["fidelity"].astype("Int64")
    ok["cost_estimated"] = ok.get("cost_estimated", False).astype(bool)
    return ok


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (benchmark, protocol, predictor, train size, fidelity): mean and std over trials,
    the noise ceiling and tau as its fraction, and the paired difference to the best setting
    of the benchmark with its 95% interval (``tie_with_best`` where the data cannot separate
    them; ``benchmarks.statistics``). Successful records only."""
    ok = ok_records(frame)
    if ok.empty:
        return pd.DataFrame()
    grouped = ok.groupby(GROUP, dropna=False)
    stats = grouped[SUMMARY_METRICS].agg(["mean", "std"])
    stats.columns = [f"{m}_{s}" for m, s in stats.columns]
    stats["trials"] = grouped.size()
    stats["cost_estimated"] = grouped["cost_estimated"].any()
    stats["label_source"] = grouped["label_source"].agg(lambda v: "/".join(sorted(set(v))))
    stats = stats.reset_index()
    stats["kendall_of_ceiling"] = stats["kendall_mean"] / stats["noise_ceiling_kendall_mean"]
    stats = add_best_comparison(stats, ok)
    return stats.sort_values([*PROTOCOL, "predictor", "train_size", "fidelity"])


def pareto_mask(time: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Points no other point beats (less or equal time and higher or equal tau, one strictly)."""
    time, score = np.asarray(time, float), np.asarray(score, float)
    valid = np.isfinite(time) & np.isfinite(score)
    mask = np.zeros(len(time), dtype=bool)
    for i in np.flatnonzero(valid):
        dominated = valid & (time <= time[i]) & (score >= score[i]) & (
            (time < time[i]) | (score > score[i]))
        mask[i] = not dominated.any()
    return mask


def tied_with_front(data: pd.DataFrame, time: np.ndarray, front: np.ndarray,
                    comparisons: Comparisons) -> np.ndarray:
    """Points off the front that no point dominating them (at ``time``) beats by a paired 95%
    interval."""
    time = np.asarray(time, float)
    tau = data["kendall_mean"].to_numpy(float)
    settings = [setting_of(row, SETTING) for _, row in data.iterrows()]
    tied = np.zeros(len(data), dtype=bool)
    for i in np.flatnonzero(~front):
        above = (time <= time[i]) & (tau >= tau[i]) & ((time < time[i]) | (tau > tau[i]))
        tied[i] = not any(comparisons.difference(settings[j], settings[i]).separated
                          for j in np.flatnonzero(above))
    return tied


def front_times(data: pd.DataFrame, axis: str) -> np.ndarray:
    """The times a Pareto front compares on ``axis``, floored as on the budget map
    (``budget_map.floored``: below a millisecond, differences are timing noise)."""
    return floored(data[f"{AXES[axis][0]}_mean"].to_numpy(float))


def pareto_front(data: pd.DataFrame, axis: str, comparisons: Comparisons | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Masks over ``data``'s rows: the Pareto front on ``axis`` (:func:`front_times` against
    mean Kendall tau), and the points the trials cannot separate from it (none without
    ``comparisons``)."""
    time = front_times(data, axis)
    front = pareto_mask(time, data["kendall_mean"].to_numpy())
    if comparisons is None or not front.any():
        return front, np.zeros(len(data), dtype=bool)
    return front, tied_with_front(data, time, front, comparisons)


#: One colour per predictor family, in the legend's order (the registry's families).
FAMILY_COLOURS = {
    "model_based": "tab:blue",
    "learning_curve": "tab:orange",
    "hybrid": "tab:purple",
    "zero_cost": "tab:green",
    "weight_sharing": "tab:red",
    "ensemble": "tab:brown",
    "baseline": "tab:gray",
}
OTHER_FAMILY_COLOUR = "tab:olive"
#: Markers told apart within a family; past them the same markers come again hollow.
MARKERS = "osD^v<>phPX*d8H"


def predictor_styles(families: dict[str, str]) -> dict[str, dict]:
    """Line style of each predictor (``name -> family``): its family's colour, and within the
    family a marker of its own (filled, then hollow once the markers run out)."""
    styles: dict[str, dict] = {}
    for family, names in _by_family(families).items():
        colour = FAMILY_COLOURS.get(family, OTHER_FAMILY_COLOUR)
        for k, name in enumerate(names):
            hollow = (k // len(MARKERS)) % 2 == 1
            styles[name] = {"marker": MARKERS[k % len(MARKERS)], "color": colour,
                            "markerfacecolor": "white" if hollow else colour,
                            "markeredgecolor": colour, "markersize": 6, "alpha": 0.85}
    return styles


def _by_family(families: dict[str, str]) -> dict[str, list[str]]:
    """Predictor names grouped by family: known families in ``FAMILY_COLOURS`` order, names
    sorted within each."""
    order = {f: i for i, f in enumerate(FAMILY_COLOURS)}
    grouped: dict[str, list[str]] = {}
    for name, family in sorted(families.items(),
                               key=lambda item: (order.get(item[1], len(order)), item[1],
                                                 item[0])):
        grouped.setdefault(family, []).append(name)
    return grouped


def _family_legend(ax, families: dict[str, str], styles: dict[str, dict],
                   extra: list[tuple]) -> None:
    """A legend beside ``ax`` with each family's name (bold) above its predictors, then
    ``extra`` (handle, label) entries."""
    from matplotlib.lines import Line2D

    handles, labels, headers = [], [], set()
    for family, names in _by_family(families).items():
        headers.add(len(labels))
        handles.append(Line2D([], [], linestyle="none"))
        labels.append(family.replace("_", " "))
        for name in names:
            handles.append(Line2D([], [], linestyle="-", **styles[name]))
            labels.append(name)
    for handle, label in extra:
        handles.append(handle)
        labels.append(label)
    ncol = 1 + len(labels) // 26
    legend = ax.legend(handles, labels, fontsize=7, loc="upper left",
                       bbox_to_anchor=(1.01, 1.0), ncol=ncol, handlelength=1.6,
                       columnspacing=1.0, borderaxespad=0.0)
    for i, text in enumerate(legend.get_texts()):
        if i in headers:
            text.set_fontweight("bold")


def _front_key(ax, pts: pd.DataFrame, column: str) -> None:
    """Number the front's points beside them, alternately above and below the step, and list
    the numbers' settings under the plot, so that no two labels overlap."""
    entries = []
    for k, (_, row) in enumerate(pts.iterrows(), start=1):
        above = k % 2 == 1
        ax.annotate(str(k), (row[f"{column}_mean"], row["kendall_mean"]),
                    textcoords="offset points", xytext=(-3, 7) if above else (4, -12),
                    ha="right" if above else "left", fontsize=7, fontweight="bold")
        entries.append(f"{k} {setting_label(row)}")
    if not entries:
        return
    rows = -(-len(entries) // 4)  # four columns
    columns = [entries[i * rows:(i + 1) * rows] for i in range(4)]
    width = max(len(e) for e in entries) + 2
    lines = ["".join(c[r].ljust(width) for c in columns if r < len(c)).rstrip()
             for r in range(rows)]
    ax.text(0.0, -0.11, "Pareto front:\n" + "\n".join(lines), transform=ax.transAxes,
            va="top", ha="left", fontsize=7, family="monospace")


def same_run_note(summary: pd.DataFrame) -> str:
    """A title line marking learning-curve settings whose labels come from the run they read."""
    reads = summary["fidelity"].notna() & summary["label_source"].astype(str).str.contains(
        "same-run")
    return ("\n[learning-curve labels from the run read (one seed): optimistic]"
            if bool(reads.any()) else "")


def plot_pareto(summary: pd.DataFrame, axis: str, path: Path, title: str,
                comparisons: Comparisons | None = None) -> Path:
    """One point per (predictor, budget): time (log) against mean Kendall tau; front outlined,
    and with ``comparisons`` the points the trials cannot separate from the front ringed."""
    column, label = AXES[axis]
    data = summary.dropna(subset=[f"{column}_mean", "kendall_mean"])
    data = data[data[f"{column}_mean"] > 0]
    if bool(summary["cost_estimated"].any()):
        label += " [simulated training part estimated by a cost model]"
    fig, ax = plt.subplots(figsize=(13, 8))
    predictors = sorted(data["predictor"].unique())
    families = {name: str(data.loc[data["predictor"] == name, "family"].iloc[0])
                for name in predictors}
    styles = predictor_styles(families)
    extra: list[tuple] = []
    _draw_predictors(ax, data, axis, styles, predictors, alpha=0.4)
    front, ties = pareto_front(data, axis, comparisons)
    if ties.any():
        pts = data[ties]
        rings = ax.scatter(pts[f"{column}_mean"], pts["kendall_mean"], s=140,
                           facecolors="none", edgecolors="grey", linewidths=1.0,
                           linestyle="--", zorder=4)
        extra.append((rings, "tied with the front (paired 95% interval over trials)"))
    if front.any():
        pts = data[front].sort_values(f"{column}_mean")
        (step,) = ax.step(pts[f"{column}_mean"], pts["kendall_mean"], where="post",
                          color="black", linewidth=1.2, alpha=0.6)
        extra.insert(0, (step, "Pareto front (numbered; key below)"))
        ax.scatter(pts[f"{column}_mean"], pts["kendall_mean"], s=140, facecolors="none",
                   edgecolors="black", linewidths=1.5, zorder=5)
        for _, row in pts.iterrows():  # the front's own points in full colour
            ax.plot(row[f"{column}_mean"], row["kendall_mean"], linestyle="none", zorder=6,
                    **{**styles[row["predictor"]], "alpha": 1.0})
        _front_key(ax, pts, column)
    ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("Kendall tau (mean over trials)")
    ax.set_title(title + same_run_note(data), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    _family_legend(ax, families, styles, extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def _draw_predictors(ax, data: pd.DataFrame, axis: str, styles: dict[str, dict],
                     names: list[str], alpha: float) -> None:
    """One line per predictor and held budget. A line joins the budgets that differ along this
    plot's axis only (train sizes at one fidelity on the init plot, fidelities at one train size
    on the query plot), as in the study's figures, instead of zig-zagging through a
    two-dimensional grid."""
    column = AXES[axis][0]
    held = "fidelity" if axis == "init" else "train_size"
    for name in names:
        rows = data[data["predictor"] == name]
        for _, line in rows.groupby(rows[held].fillna(-1), sort=True):
            line = line.sort_values(f"{column}_mean")
            ax.plot(line[f"{column}_mean"], line["kendall_mean"],
                    linestyle="-" if len(line) > 1 else "none",
                    **{**styles[name], "alpha": alpha})


def plot_pareto_families(summary: pd.DataFrame, axis: str, path: Path, title: str) -> Path:
    """The Pareto plot as small multiples, one panel per family (its predictors in colour and
    named, every other setting light grey, the overall front as a step), shared axes."""
    column, label = AXES[axis]
    data = summary.dropna(subset=[f"{column}_mean", "kendall_mean"])
    data = data[data[f"{column}_mean"] > 0]
    families = {name: str(data.loc[data["predictor"] == name, "family"].iloc[0])
                for name in sorted(data["predictor"].unique())}
    styles = predictor_styles(families)
    groups = _by_family(families)
    ncols = min(4, max(1, len(groups)))
    nrows = -(-len(groups) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.6 * nrows), sharex=True,
                             sharey=True, squeeze=False)
    front, _ = pareto_front(data, axis)
    pts = data[front].sort_values(f"{column}_mean")
    for ax, (family, names) in zip(axes.flat, groups.items(), strict=False):
        ax.scatter(data[f"{column}_mean"], data["kendall_mean"], s=8, color="lightgrey",
                   zorder=1)
        ax.step(pts[f"{column}_mean"], pts["kendall_mean"], where="post", color="black",
                linewidth=1.0, alpha=0.5)
        _draw_predictors(ax, data, axis, styles, names, alpha=0.9)
        handles = [plt.Line2D([], [], linestyle="-", **styles[n]) for n in names]
        ax.legend(handles, names, fontsize=6, loc="lower right", ncol=1 + len(names) // 10)
        ax.set_title(family.replace("_", " "), fontsize=9, fontweight="bold")
        ax.set_xscale("log")
        ax.grid(True, which="both", alpha=0.3)
    for ax in axes.flat[len(groups):]:
        ax.set_visible(False)
    if bool(summary["cost_estimated"].any()):
        label += " [training part estimated]"
    fig.supxlabel(label, fontsize=9)
    fig.supylabel("Kendall tau (mean over trials)", fontsize=9)
    fig.suptitle(title + same_run_note(data) + "\n(step: the Pareto front over all families)",
                 fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _fmt(mean: float, std: float, digits: int) -> str:
    if pd.isna(mean):
        return "n/a"
    if digits < 0:  # times: 3 significant digits
        return f"{mean:.3g} ± {0.0 if pd.isna(std) else std:.2g}"
    return f"{mean:.{digits}f} ± {0.0 if pd.isna(std) else std:.{digits}f}"


TABLE_NOTE = (
    "Mean ± std over trials. Ceiling: the Kendall tau a perfect predictor of the expected score "
    "reaches against labels this noisy (labels from runs other than any curve read; mean over "
    "trials), and tau as its fraction. Δ best: the paired difference to the best setting of the "
    "table with its 95% bootstrap interval over trials; **tie** where the interval contains "
    "zero (the trials cannot separate the two). Init time = simulated training of the labeled "
    "architectures + fit wall time; query time = simulated partial training + query wall time "
    "per architecture; the two wall columns are the measured parts alone.\n\n")


def _ceiling(r: pd.Series) -> str:
    mean = r.get("noise_ceiling_kendall_mean")
    if mean is None or pd.isna(mean):
        return "-"
    return f"{mean:.3f} ({r['kendall_of_ceiling']:.0%})"


def _versus_best(r: pd.Series) -> str:
    if pd.isna(r.get("diff_to_best")):
        return "-"
    if r["diff_to_best"] == 0 and r["diff_low"] == 0 and r["diff_high"] == 0:
        return "best"
    interval = ("" if not np.isfinite(r["diff_low"])
                else f" [{r['diff_low']:+.3f}, {r['diff_high']:+.3f}]")
    return f"{r['diff_to_best']:+.3f}{interval}" + (" **tie**" if r["tie_with_best"] else "")


def has_calibration(summary: pd.DataFrame) -> bool:
    """Whether any setting of ``summary`` has calibration metrics (a predictor with a std)."""
    return any(summary.get(f"{m}_mean", pd.Series(dtype=float)).notna().any()
               for m in CALIBRATION_SUMMARY)


#: Column headers of the summary table, then those of the calibration columns where shown.
TABLE_HEADER = ("predictor", "family", "train size", "fidelity", "trials", "Kendall tau",
                "ceiling", "Δ best [95%]", "Spearman", "Pearson", "init time (s)",
                "query time (s/arch)", "fit wall (s)", "query wall (s/arch)")
CALIBRATION_HEADER = ("NLL", "CRPS", "coverage 68%", "coverage 95%")


def table_header(calibrated: bool) -> list[str]:
    """The summary table's column headers (the calibration columns with ``calibrated``)."""
    return [*TABLE_HEADER, *(CALIBRATION_HEADER if calibrated else ())]


def table_cells(r: pd.Series, calibrated: bool) -> list[str]:
    """One summary row's cells under :func:`table_header` (a tie is marked ``**tie**``)."""
    cells = [
        str(r["predictor"]), str(r["family"]), str(int(r["train_size"])),
        "-" if pd.isna(r["fidelity"]) else str(int(r["fidelity"])), str(int(r["trials"])),
        _fmt(r["kendall_mean"], r["kendall_std"], 3), _ceiling(r), _versus_best(r),
        _fmt(r["spearman_mean"], r["spearman_std"], 3),
        _fmt(r["pearson_mean"], r["pearson_std"], 3),
        _fmt(r["init_time_s_mean"], r["init_time_s_std"], -1),
        _fmt(r["query_time_s_mean"], r["query_time_s_std"], -1),
        _fmt(r["init_fit_s_mean"], r["init_fit_s_std"], -1),
        _fmt(r["query_measured_s_mean"], r["query_measured_s_std"], -1),
    ]
    if calibrated:
        cells += [_fmt(r[f"{m}_mean"], r[f"{m}_std"], 2 if m == "nll" else 3)
                  for m in CALIBRATION_SUMMARY]
    return cells


def markdown_table(summary: pd.DataFrame) -> str:
    """The summary as markdown; NLL, CRPS and 68%/95% coverage columns where a setting has a
    std (``n/a`` in the rows of predictors without one)."""
    calibrated = has_calibration(summary)
    header = table_header(calibrated)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(table_cells(r, calibrated)) + " |"
              for _, r in summary.iterrows()]
    return "\n".join(lines) + "\n"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


def _protocol_slug(bench: str, labels: str, distribution: str) -> str:
    """File-name part of one benchmark under one protocol (the defaults add nothing)."""
    parts = [bench]
    if labels in ("same-run", "unrecorded"):
        parts.append("same-run" if labels == "same-run" else "labels-unrecorded")
    if distribution != "cells":
        parts.append(distribution)
    return _slug("_".join(parts))


def _protocol_title(bench: str, labels: str, distribution: str, estimated: str) -> str:
    notes = [n for n in (f"labels: {labels}" if labels != "independent" else "",
                         f"test: {describe_distribution(distribution)}"
                         if distribution != "cells" else "")
             if n]
    return f"{bench}{estimated}" + (f" ({'; '.join(notes)})" if notes else "")


def write_report(frame: pd.DataFrame, out: str | Path) -> list[Path]:
    """Per benchmark and protocol: two Pareto PNGs, the best-predictor-per-budget map and its
    CSV, a summary CSV and a markdown table; returns the written paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(frame)
    if summary.empty:
        raise ValueError("the store holds no successful evaluations to plot; run a sweep first")
    comparisons = Comparisons(trial_table(ok_records(frame), SETTING))
    written: list[Path] = []
    for (bench, labels, distribution), part in summary.groupby(PROTOCOL):
        slug = _protocol_slug(str(bench), str(labels), str(distribution))
        estimated = " (estimated costs)" if bool(part["cost_estimated"].any()) else ""
        name = _protocol_title(str(bench), str(labels), str(distribution), estimated)
        for axis in AXES:
            written.append(plot_pareto(
                part, axis, out / f"pareto_{axis}_{slug}.png",
                f"{name}: {axis} time vs Kendall tau", comparisons))
            written.append(plot_pareto_families(
                part, axis, out / f"pareto_{axis}_{slug}_by_family.png",
                f"{name}: {axis} time vs Kendall tau, by family"))
        budget_png, budget_table = plot_budget_map(part, out / f"budget_map_{slug}.png",
                                                   name + same_run_note(part), comparisons)
        budget_csv = out / f"best_by_budget_{slug}.csv"
        budget_table.to_csv(budget_csv, index=False, float_format="%.6g")
        written += [budget_png, budget_csv]
        csv = out / f"summary_{slug}.csv"
        part.to_csv(csv, index=False, float_format="%.6g")
        md = out / f"summary_{slug}.md"
        failed = int((frame["status"] != "ok").sum()) if "status" in frame else 0
        note = (f"\n{failed} failed or timed-out evaluation(s) in the store are not shown.\n"
                if failed else "")
        md.write_text(f"# {name}\n\n" + TABLE_NOTE + markdown_table(part) + note)
        written += [csv, md]
    log.info("wrote %s", ", ".join(map(str, written)))
    return written
