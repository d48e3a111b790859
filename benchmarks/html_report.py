"""One self-contained interactive HTML report of a results store: ``report.html``.

Per benchmark and protocol (split as ``benchmarks.plots.write_report`` splits), the page holds
the Pareto plots of Kendall tau against initialization and query time, the best-predictor-per-
budget map, the noise ceiling per trial and the summary table, each with the commands that
produce it; then the environment. The plots are plotly figures with plotly.js embedded once in
the page, so the file opens offline. Colours and markers are those of the static plots
(``benchmarks.plots.predictor_styles``); a point's hover names the predictor, its parameters,
budget, tau with its paired interval against the best, and every cost component; clicking a
family's legend entries or picking it in the "show" menu filters the plot by family.
"""

from __future__ import annotations

import html
import json
import logging
import platform
import shlex
import tempfile
from collections import Counter
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from matplotlib import colormaps
from matplotlib.colors import to_hex
from plotly.offline import get_plotlyjs

from benchmarks.budget_map import FLOOR_NOTE, budget_table, setting_label
from benchmarks.experiments import QUICK_TRAIN_SIZES, TRAIN_SIZES, quick_fidelities
from benchmarks.plots import (
    AXES,
    TABLE_NOTE,
    _protocol_slug,
    _protocol_title,
    _versus_best,
    has_calibration,
    ok_records,
    pareto_front,
    predictor_styles,
    same_run_note,
    summarize,
    table_cells,
    table_header,
)
from benchmarks.snapshot import SUFFIX, restore
from benchmarks.statistics import PROTOCOL, SETTING, Comparisons, setting_of, trial_table
from benchmarks.store import ResultStore
from predictors.registry import PRESETS, UnknownPredictorError, preset_params

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"
#: Cost components of a record, summed into its initialization and query times.
INIT_PARTS = {"init_fit_s": "fit (measured)", "init_sim_train_s": "simulated training",
              "init_sim_tabulated_s": "tabulated"}
QUERY_PARTS = {"query_measured_s": "query (measured)",
               "query_sim_partial_s": "simulated partial training",
               "query_sim_tabulated_s": "tabulated"}
#: Packages whose versions the environment section lists, each under its distribution names.
PACKAGES = {"predbench": ("predbench",), "numpy": ("numpy",), "pandas": ("pandas",),
            "scipy": ("scipy",), "scikit-learn": ("scikit-learn",), "torch": ("torch",),
            "xgboost": ("xgboost-cpu", "xgboost"), "lightgbm": ("lightgbm",),
            "plotly": ("plotly",)}
#: plotly marker symbols of the matplotlib markers ``benchmarks.plots.MARKERS`` uses.
SYMBOLS = {"o": "circle", "s": "square", "D": "diamond", "^": "triangle-up",
           "v": "triangle-down", "<": "triangle-left", ">": "triangle-right", "p": "pentagon",
           "h": "hexagon", "P": "cross", "X": "x", "*": "star", "d": "diamond-tall",
           "8": "octagon", "H": "hexagon2"}
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def records_frame(path: Path, snapshot: bool = False) -> pd.DataFrame:
    """Every record of a results store, or of a snapshot (``predbench store snapshot``: read
    through a temporary store)."""
    if not snapshot:
        with ResultStore(path) as store:
            return store.to_frame()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "snapshot.db"
        restore(path, db)
        with ResultStore(db) as store:
            return store.to_frame()


# --- per-setting details -------------------------------------------------------------------------
def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(params.items())) or "defaults"


def _record_params(row: pd.Series) -> dict:
    """A record's parameters (``to_frame`` flattens them into ``params.*`` columns)."""
    params = {}
    for col, value in row.items():
        if str(col).startswith("params.") and not _missing(value):
            value = value.item() if hasattr(value, "item") else value
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # an int the frame's float column holds
            params[str(col)[len("params."):]] = value
    return params


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, (list, dict, str)) and bool(pd.isna(value)))


def setting_details(ok: pd.DataFrame) -> dict[tuple, dict]:
    """Per setting (``benchmarks.statistics.setting_of`` of its rows): its parameters and the
    mean of each cost component over its trials."""
    parts = [*INIT_PARTS, *QUERY_PARTS]
    collected: dict[tuple, dict] = {}
    for _, r in ok.iterrows():
        entry = collected.setdefault(setting_of(r, SETTING),
                                     {"params": set(), **{p: [] for p in parts}})
        entry["params"].add(_params_text(_record_params(r)))
        for p in parts:
            entry[p].append(float(pd.to_numeric(r.get(p), errors="coerce")))
    details = {}
    for key, entry in collected.items():
        details[key] = {"params": " | ".join(sorted(entry["params"]))}
        for p in parts:
            values = np.asarray(entry[p], dtype=float)
            details[key][p] = float(values[np.isfinite(values)].mean()) \
                if np.isfinite(values).any() else np.nan
    return details


def _seconds(value: float) -> str:
    return "n/a" if _missing(value) else f"{value:.3g} s"


def hover_text(row: pd.Series, details: dict) -> str:
    """A setting's hover: predictor, parameters, budget, tau, its difference to the best and the
    cost components."""
    versus = _versus_best(row).replace("**tie**", "<b>tie</b>")
    fidelity = "-" if pd.isna(row["fidelity"]) else int(row["fidelity"])
    init = " + ".join(f"{label} {_seconds(details[c])}" for c, label in INIT_PARTS.items())
    query = " + ".join(f"{label} {_seconds(details[c])}" for c, label in QUERY_PARTS.items())
    std = 0.0 if pd.isna(row["kendall_std"]) else row["kendall_std"]
    return "<br>".join([
        f"<b>{html.escape(str(row['predictor']))}</b> ({html.escape(str(row['family']))})",
        f"params: {html.escape(details['params'])}",
        f"train size {int(row['train_size'])}, fidelity {fidelity}",
        f"Kendall tau {row['kendall_mean']:.3f} ± {std:.3f} ({int(row['trials'])} trials)",
        f"Δ best [95%]: {versus}",
        f"init {_seconds(row['init_time_s_mean'])} = {init}",
        f"query {_seconds(row['query_time_s_mean'])}/arch = {query}",
    ])


# --- figures -------------------------------------------------------------------------------------
def plotly_styles(families: dict[str, str]) -> dict[str, dict]:
    """``benchmarks.plots.predictor_styles`` as plotly markers (hex colour, symbol), in the
    legend's family order."""
    styles = {}
    for name, style in predictor_styles(families).items():
        hollow = style["markerfacecolor"] == "white"
        styles[name] = {"color": to_hex(style["color"]),
                        "symbol": SYMBOLS[style["marker"]] + ("-open" if hollow else "")}
    return styles


def _family_menu(families: list[str], overlays: int) -> dict:
    """A "show" menu: every family, or one (the last ``overlays`` traces always shown)."""
    buttons = [{"label": "all families", "method": "restyle",
                "args": [{"visible": [True] * (len(families) + overlays)}]}]
    for family in dict.fromkeys(families):
        visible = [f == family for f in families] + [True] * overlays
        buttons.append({"label": family.replace("_", " "), "method": "restyle",
                        "args": [{"visible": visible}]})
    return {"buttons": buttons, "direction": "down", "x": 1.0, "xanchor": "left", "y": 1.02,
            "yanchor": "bottom", "showactive": True, "pad": {"l": 10}}


def pareto_figure(part: pd.DataFrame, axis: str, title: str, details: dict,
                  comparisons: Comparisons) -> go.Figure:
    """Mean Kendall tau against time (log) per setting: one trace per predictor (lines join the
    budgets that differ along this axis, as on the static plot), grouped by family, the Pareto
    front, the points tied with it, and the noise ceiling."""
    column, label = AXES[axis]
    data = part.dropna(subset=[f"{column}_mean", "kendall_mean"])
    data = data[data[f"{column}_mean"] > 0]
    if bool(part["cost_estimated"].any()):
        label += " [simulated training part estimated by a cost model]"
    families = {name: str(rows["family"].iloc[0]) for name, rows in data.groupby("predictor")}
    styles = plotly_styles(families)
    held = "fidelity" if axis == "init" else "train_size"
    fig = go.Figure()
    for name, style in styles.items():
        x: list = []
        y: list = []
        text: list = []
        rows = data[data["predictor"] == name]
        for _, line in rows.groupby(rows[held].fillna(-1), sort=True):
            for _, r in line.sort_values(f"{column}_mean").iterrows():
                x.append(r[f"{column}_mean"])
                y.append(r["kendall_mean"])
                text.append(hover_text(r, details[setting_of(r, SETTING)]))
            x.append(None)
            y.append(None)
            text.append("")
        family = families[name]
        fig.add_trace(go.Scatter(
            x=x[:-1], y=y[:-1], text=text[:-1], name=name, mode="lines+markers",
            legendgroup=family, legendgrouptitle_text=family.replace("_", " "),
            marker={"symbol": style["symbol"], "color": style["color"], "size": 8,
                    "line": {"color": style["color"], "width": 1}},
            line={"color": style["color"], "width": 1}, opacity=0.85,
            hovertemplate="%{text}<extra></extra>", connectgaps=False))
    front, ties = pareto_front(data, axis, comparisons)
    pts = data[front].sort_values(f"{column}_mean")
    fig.add_trace(go.Scatter(
        x=pts[f"{column}_mean"], y=pts["kendall_mean"], name="Pareto front",
        mode="lines+markers", line={"shape": "hv", "color": "black", "width": 1.5},
        marker={"symbol": "circle-open", "size": 16, "color": "black", "line": {"width": 2}},
        text=[setting_label(r) for _, r in pts.iterrows()], legendgroup="overlay",
        legendgrouptitle_text="marks", hovertemplate="front: %{text}<extra></extra>"))
    tied = data[ties]
    fig.add_trace(go.Scatter(
        x=tied[f"{column}_mean"], y=tied["kendall_mean"], mode="markers",
        name="tied with the front (paired 95% interval)", legendgroup="overlay",
        marker={"symbol": "circle-open", "size": 18, "color": "grey",
                "line": {"width": 1.5, "dash": "dash"}},
        text=[setting_label(r) for _, r in tied.iterrows()],
        hovertemplate="tied with the front: %{text}<extra></extra>"))
    ceiling = data["noise_ceiling_kendall_mean"].mean()
    if np.isfinite(ceiling):
        fig.add_hline(y=ceiling, line={"dash": "dot", "color": "dimgrey"},
                      annotation_text=f"noise ceiling {ceiling:.3f}",
                      annotation_position="top left")
    fig.update_layout(
        title={"text": title + same_run_note(data).replace("\n", "<br>"), "font": {"size": 14}},
        xaxis={"type": "log", "title": label}, yaxis={"title": "Kendall tau (mean over trials)"},
        legend={"groupclick": "togglegroup", "tracegroupgap": 4, "font": {"size": 10}},
        updatemenus=[_family_menu(list(families[n] for n in styles), 2)],
        height=720, template="plotly_white", margin={"t": 110})
    return fig


def _hatch_outline(cells: list[tuple[int, int]]) -> tuple[list, list]:
    """Closed squares (separated by ``None``) around grid cells ``(x, y)``."""
    xs: list = []
    ys: list = []
    for x, y in cells:
        xs += [x - 0.5, x + 0.5, x + 0.5, x - 0.5, x - 0.5, None]
        ys += [y - 0.5, y - 0.5, y + 0.5, y + 0.5, y - 0.5, None]
    return xs, ys


def budget_figure(part: pd.DataFrame, title: str, comparisons: Comparisons) -> go.Figure:
    """The budget map (``benchmarks.budget_map``) as a heatmap: colour = the best predictor,
    text = its Kendall tau, hatched = settings tied with it (listed in the hover)."""
    table, init_limits, query_limits = budget_table(part, comparisons)
    names = sorted(table["predictor"].dropna().unique())
    code = {name: k for k, name in enumerate(names)}
    shape = (len(query_limits), len(init_limits))
    z = np.full(shape, np.nan)
    text = np.full(shape, "", dtype=object)
    hover = np.full(shape, "", dtype=object)
    tied_cells = []
    for n, row in table.iterrows():
        y, x = divmod(n, len(init_limits))
        where = f"init ≤ {row['init_limit_s']:.3g} s, query ≤ {row['query_limit_s']:.3g} s/arch"
        if row["predictor"] is None:
            hover[y, x] = where + "<br>no setting fits"
            continue
        z[y, x] = code[row["predictor"]]
        text[y, x] = f"{row['kendall']:.2f}" + (f"<br>+{row['n_tied']} tied"
                                                 if row["n_tied"] else "")
        hover[y, x] = (f"{where}<br><b>{html.escape(setting_label(row))}</b>: Kendall tau "
                       f"{row['kendall']:.3f}")
        if row["n_tied"]:
            hover[y, x] += "<br>tied: " + html.escape(row["tied"]).replace("; ", "<br>  ")
            tied_cells.append((x, y))
    cmap = colormaps["tab20"].resampled(max(len(names), 1))
    count = max(len(names), 1)
    scale = []
    for k in range(count):
        colour = to_hex(cmap(k))
        scale += [[k / count, colour], [(k + 1) / count, colour]]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(len(init_limits))), y=list(range(len(query_limits))), text=text,
        texttemplate="%{text}", customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        colorscale=scale, zmin=-0.5, zmax=count - 0.5, xgap=1, ygap=1,
        colorbar={"tickvals": list(range(len(names))), "ticktext": names,
                  "title": {"text": "best predictor"}}))
    if tied_cells:
        xs, ys = _hatch_outline(tied_cells)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, fill="toself", mode="lines", line={"width": 0},
            fillcolor="rgba(0,0,0,0)", fillpattern={"shape": "/", "fgcolor": "white"},
            hoverinfo="skip", showlegend=False))
    fig.update_layout(
        title={"text": title + same_run_note(part).replace("\n", "<br>")
               + "<br>best predictor per budget (colour) and its Kendall tau; hatched: others "
                 "tied with it (paired 95% interval over trials)", "font": {"size": 13}},
        xaxis={"title": "initialization budget (s, at most; steps where the best changes; "
                        f"{FLOOR_NOTE})",
               "tickvals": list(range(len(init_limits))),
               "ticktext": [f"{v:.2g}" for v in init_limits]},
        yaxis={"title": f"query budget per architecture (s, at most; {FLOOR_NOTE})",
               "tickvals": list(range(len(query_limits))),
               "ticktext": [f"{v:.2g}" for v in query_limits]},
        height=max(420, 160 + 44 * len(query_limits)), template="plotly_white",
        margin={"t": 120})
    return fig


# --- commands ------------------------------------------------------------------------------------
def _used_full_grid(rows: pd.DataFrame) -> bool:
    """Whether one predictor's records hold budgets that only the ``--full`` grids have."""
    sizes = set(pd.to_numeric(rows["train_size"], errors="coerce").dropna().astype(int))
    if sizes & (set(TRAIN_SIZES) - set(QUICK_TRAIN_SIZES)):
        return True
    epochs = pd.to_numeric(rows.get("epochs"), errors="coerce").dropna()
    fidelities = set(rows["fidelity"].dropna().astype(int))
    return bool(len(epochs)) and bool(fidelities - set(quick_fidelities(int(epochs.max()))))


def _protocol_flags(ok: pd.DataFrame, labels: str, distribution: str) -> list[str]:
    flags = []
    metrics = sorted({str(m) for m in ok.get("metric", pd.Series(dtype=object)).dropna()})
    if len(metrics) == 1:
        flags += ["--metric", metrics[0]]
    if labels not in ("independent", "unrecorded"):
        flags += ["--labels", labels]
    if distribution != "cells":
        flags += ["--test-distribution", distribution]
    test_sizes = pd.to_numeric(ok["test_size"], errors="coerce").dropna()
    if len(test_sizes):
        flags += ["--test-size", str(int(test_sizes.max()))]
    return flags


def _trials(rows: pd.DataFrame) -> str:
    return str(int(pd.to_numeric(rows["trial"]).max()) + 1)


def _preset_of(name: str, params: dict, full: bool) -> str | None:
    """The ``predbench reproduce --preset`` that runs ``name`` with ``params`` on the grid the
    records show (None: none does, or ``name`` is not registered)."""
    for preset in ("full",) if full else ("standard", "quick"):
        try:
            if preset_params(name, preset) == params:
                return preset
        except UnknownPredictorError:
            return None
    return None


def sweep_destination(source: Path, snapshot: bool, out: Path) -> list[str]:
    """The ``--out`` (and ``--store`` where not ``OUT/predbench.db``) options of a sweep that
    writes the records of the store or snapshot ``source``."""
    db = source.with_name(source.name.removesuffix(SUFFIX) + ".db") if snapshot else source
    if db.name == "predbench.db":
        return ["--out", str(db.parent)]
    return ["--store", str(db), "--out", str(out)]


def sweep_commands(ok: pd.DataFrame, labels: str, distribution: str,
                   destination: list[str]) -> list[str]:
    """Commands that write these records: a ``predbench reproduce`` per preset and number of
    trials, for the predictors that ran with a preset's settings and grid (into
    ``destination``: :func:`sweep_destination`), and a ``predbench run`` per budget of any
    other (predictor, parameters)."""
    benchmark = str(ok["benchmark"].mode().iloc[0])
    flags = _protocol_flags(ok, labels, distribution)
    store = destination[:2] if destination[0] == "--store" else []
    params = ok.apply(lambda r: json.dumps(_record_params(r), sort_keys=True), axis=1)
    swept: dict[tuple[str, str], list[str]] = {}
    single = []
    for (name, text), rows in ok.groupby([ok["predictor"].astype(str), params]):
        preset = _preset_of(name, json.loads(text), _used_full_grid(rows))
        if preset is not None:
            swept.setdefault((preset, _trials(rows)), []).append(name)
            continue
        options = [a for k, v in json.loads(text).items() for a in ("--param", f"{k}={v}")]
        for (size, fid), budget in rows.groupby([rows["train_size"],
                                                 rows["fidelity"].fillna(-1)]):
            at = ["--train-size", str(int(size))] + (
                [] if fid == -1 else ["--fidelity", str(int(fid))])
            single.append(shlex.join(["predbench", "run", "--benchmark", benchmark,
                                      "--predictor", name, *options, *at,
                                      "--trials", _trials(budget), *flags, *store]))
    return [shlex.join(["predbench", "reproduce", "--benchmark", benchmark, "--trials", trials,
                        *flags, "--preset", preset, "--predictors", ",".join(sorted(names)),
                        *destination])
            for (preset, trials), names in sorted(swept.items(), key=_by_preset)] + single


def _by_preset(item: tuple[tuple[str, str], list[str]]) -> tuple[int, int]:
    (preset, trials), _ = item
    return PRESETS.index(preset), int(trials)


# --- the page ------------------------------------------------------------------------------------
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1500px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; margin-top: 1.6em; }
pre.cmd { background: #f4f4f4; padding: 0.5em; white-space: pre-wrap; word-break: break-all;
          font-size: 0.85em; }
table { border-collapse: collapse; font-size: 0.8em; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #f0f0f0; position: sticky; top: 0; }
td:first-child, td:nth-child(2) { text-align: left; }
div.tablewrap { max-height: 640px; overflow: auto; }
p.note { font-size: 0.85em; color: #444; }
"""


def _commands_block(lines: list[str]) -> str:
    return "<pre class=\"cmd\">" + html.escape("\n".join(lines)) + "</pre>"


def _figure_html(fig: go.Figure, div_id: str, commands: list[str]) -> str:
    plot = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id,
                       config=PLOT_CONFIG)
    return (f"<div class=\"figure\">{plot}<details><summary>commands that produce this figure"
            f"</summary>{_commands_block(commands)}</details></div>")


def _html_table(header: list[str], rows: list[list[str]], css: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c).replace('**tie**', '<b>tie</b>')}</td>"
                         for c in row) + "</tr>" for row in rows)
    return (f"<div class=\"tablewrap\"><table class=\"{css}\"><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def ceiling_html(ok: pd.DataFrame, part: pd.DataFrame) -> str:
    """Per trial (test set): two runs' Kendall tau and the noise ceiling it implies; and the
    best setting's tau as a fraction of it."""
    pair = "test_set_id" if "test_set_id" in ok else "trial"
    rows = []
    for (trial, test_set), g in ok.groupby(["trial", pair], sort=True):
        seed = pd.to_numeric(g["seed_to_seed_kendall"], errors="coerce").mean()
        ceiling = pd.to_numeric(g["noise_ceiling_kendall"], errors="coerce").mean()
        rows.append([str(trial), str(test_set), "n/a" if pd.isna(seed) else f"{seed:.3f}",
                     "n/a" if pd.isna(ceiling) else f"{ceiling:.3f}",
                     ", ".join(sorted(set(g["label_source"].astype(str))))])
    scored = part.dropna(subset=["kendall_mean"])
    text = "No setting has a Kendall tau."
    if len(scored):
        best = scored.loc[scored["kendall_mean"].idxmax()]
        ceiling = best.get("noise_ceiling_kendall_mean")
        text = (f"Best setting {setting_label(best)}: Kendall tau {best['kendall_mean']:.3f}"
                + ("" if pd.isna(ceiling) else
                   f", {best['kendall_of_ceiling']:.0%} of its noise ceiling {ceiling:.3f}")
                + ".")
    note = ("The noise ceiling is the Kendall tau a perfect predictor of the expected score "
            "reaches against labels as noisy as the benchmark's runs (from two runs' tau on the "
            "test set; <code>benchmarks.statistics.label_ceiling</code>). n/a: the benchmark has "
            "one run per architecture, so its label noise is unknown.")
    return (f"<p>{html.escape(text)}</p><p class=\"note\">{note}</p>" + _html_table(
        ["trial", "test set", "two runs' Kendall tau", "noise ceiling", "label source"], rows,
        "ceiling"))


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def environment_html(ok: pd.DataFrame) -> str:
    """Versions of the software writing the report, and the devices the records ran on."""
    rows = [["python", platform.python_version()], ["platform", platform.platform()]]
    for package, distributions in PACKAGES.items():
        rows.append([package, next((v for v in map(_version, distributions) if v),
                                   "not installed")])
    devices = Counter(ok.get("device_name", pd.Series(dtype=object)).fillna("unrecorded"))
    live = Counter(ok.get("live_source", pd.Series(dtype=object)).dropna())
    record_rows = [[f"device: {d}", f"{n} evaluations"] for d, n in devices.most_common()]
    record_rows += [[f"live data: {s}", f"{n} evaluations"] for s, n in live.most_common()]
    return ("<h3>Software writing this report</h3>" + _html_table(["", "version"], rows, "env")
            + "<h3>Where the evaluations ran (from the records)</h3>"
            + _html_table(["", "count"], record_rows, "env"))


def _section(ok: pd.DataFrame, part: pd.DataFrame, key: tuple, comparisons: Comparisons,
             details: dict, source: tuple[Path, bool], out: Path) -> str:
    bench, labels, distribution = (str(k) for k in key)
    slug = _protocol_slug(bench, labels, distribution)
    estimated = " (estimated costs)" if bool(part["cost_estimated"].any()) else ""
    name = _protocol_title(bench, labels, distribution, estimated)
    records = ok[(ok["benchmark_name"] == bench) & (ok["labels"] == labels)
                 & (ok["test_distribution"] == distribution)]
    sweep = sweep_commands(records, labels, distribution, sweep_destination(*source, out))
    commands = ["# the evaluations (resumable; evaluations already in the store are skipped)",
                *sweep, "# this report, from those records",
                shlex.join(["predbench", "report", *_source_option(*source), "--out",
                            str(out)])]
    parts = [f"<section id=\"{html.escape(slug)}\"><h2>{html.escape(name)}</h2>",
             f"<p>{len(part)} settings, {len(records)} successful evaluations.</p>",
             "<h3>Commands</h3>", _commands_block(commands)]
    for axis in AXES:
        fig = pareto_figure(part, axis, f"{name}: {axis} time vs Kendall tau", details,
                            comparisons)
        parts += [f"<h3>Pareto plot: {axis} time</h3>",
                  _figure_html(fig, f"pareto-{axis}-{slug}", commands)]
    parts += ["<h3>Best predictor per budget</h3>",
              _figure_html(budget_figure(part, name, comparisons), f"budget-map-{slug}",
                           commands)]
    parts += ["<h3>Noise ceiling</h3>", ceiling_html(records, part)]
    calibrated = has_calibration(part)
    parts += ["<h3>Summary</h3>",
              f"<p class=\"note\">{html.escape(TABLE_NOTE).replace('**tie**', '<b>tie</b>')}</p>",
              _html_table(table_header(calibrated),
                          [table_cells(r, calibrated) for _, r in part.iterrows()], "summary"),
              "<details><summary>commands that produce this table</summary>"
              + _commands_block(commands) + "</details></section>"]
    return "\n".join(parts)


def _source_option(source: Path, snapshot: bool) -> list[str]:
    return ["--snapshot" if snapshot else "--store", str(source)]


def write_html_report(frame: pd.DataFrame, out: str | Path, source: str | Path,
                      snapshot: bool = False) -> Path:
    """Write ``out/report.html`` from the records in ``frame``, read from the store (or with
    ``snapshot`` the snapshot) ``source``, which the report's commands name."""
    out, source = Path(out), Path(source)
    summary = summarize(frame)
    if summary.empty:
        raise ValueError("the store holds no successful evaluations to report; run a sweep first")
    ok = ok_records(frame)
    comparisons = Comparisons(trial_table(ok, SETTING))
    details = setting_details(ok)
    sections = [_section(ok, part, key, comparisons, details, (source, snapshot), out)
                for key, part in summary.groupby(PROTOCOL)]
    failed = int((frame["status"] != "ok").sum())
    title = f"predbench report: {out.resolve().name}"
    page = "\n".join([
        "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>",
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(ok)} successful evaluations"
        + (f"; {failed} failed or timed-out evaluation(s) are not shown" if failed else "")
        + f". Records: <code>{html.escape(str(source))}</code>. Hover a point for its parameters, "
          "budget, tau with its paired interval against the best and its cost components. "
          "Click a family in a legend (its name or any of its predictors) to hide or show it, "
          "double-click to show it alone, or pick one family in the <i>show</i> menu.</p>",
        *sections, "<h2>Environment</h2>", environment_html(ok), "</body></html>"])
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_NAME
    path.write_text(page, encoding="utf-8")
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path
