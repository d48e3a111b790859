"""Label-free scores checked against a benchmark, beside published figures.

    predbench analyze proxy-report SCORES.csv [SCORES.csv ...] --out REPORT.md [--boot 1000] \
        [--plot BARS.png]
    predbench analyze proxy-report --table BENCHMARK --out REPORT.md [--plot BARS.png]
    predbench analyze proxy-report SCORES.csv [...] --against-table --out REPORT.md
    predbench analyze proxy-report --table BENCHMARK --zero-cost-dir SHARDS [--measures a,b] \
        --out REPORT.md

Each ``SCORES.csv`` is the output of ``predbench score`` (with its ``.json`` record beside it);
``--table BENCHMARK`` reads the zero-cost scores a benchmark tabulates instead (``zc_<measure>``
with their compute time ``zc_<measure>_time``, as ``predbench build zero-cost`` and the
NAS-Bench-Suite-Zero converter write them) and its ``params`` and ``flops``; with
``--zero-cost-dir`` the score files of a shard directory stand in for the benchmark's columns of
the same measures, tabulated as ``predbench build merge`` would (scores not yet merged). AZ-NAS,
tabulated as four components, is scored over all the benchmark's architectures at once.
For each, the report gives Spearman and Kendall tau against the benchmark's objective (with 95%
bootstrap intervals over the scored architectures), how many scores are missing, and the CPU
time per architecture, beside the published NAS-Bench-201 CIFAR-10 Spearman of the same measure.
Where several measures are given, it also says how well their ranking agrees with the published
one (Kendall tau over the measures present in both), and ``--plot`` draws them as a bar chart.

``--against-table`` checks live scores against the same measure's tabulated score instead (a
benchmark converted from NAS-Bench-Suite-Zero tabulates ``zc_params``, ``zc_flops``,
``zc_synflow``, ...): Spearman between the two, and the largest relative difference once the
live value is in the table's unit (``TABLE_UNITS``: millions of parameters and FLOPs, the natural
logarithm of synflow).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import typer

from benchmarks.analyses.published import (
    PUBLISHED_KENDALL_AZNAS,
    PUBLISHED_NB201_C10,
    other_figures,
)
from benchmarks.checks import OptionError, names, output_file
from benchmarks.mplot import pyplot
from benchmarks.score import oriented_truth
from benchmarks.tabular import TabularBenchmark, load_benchmark
from predictors.ranking import kendall_tau

#: Live value -> the unit of NAS-Bench-Suite-Zero's tables, per measure (others: as they are).
TABLE_UNITS = {
    "params": lambda v: v / 1e6,
    "flops": lambda v: v / 1e6,
    "synflow": lambda v: np.log(v),
}


def table_agreement(csv: Path) -> dict:
    """One ``predbench score`` output against the benchmark's tabulated ``zc_<predictor>``."""
    import pandas as pd
    from scipy import stats

    record = json.loads(csv.with_name(csv.name + ".json").read_text())
    bench = load_benchmark(record["benchmark"])
    measure = record["predictor"]
    column = f"zc_{measure}"
    if column not in bench.static_names:
        raise OptionError(f"benchmark {bench.name!r} tabulates no {column!r}; --against-table "
                          "needs a benchmark with the measure's own scores (e.g. converted "
                          "from NAS-Bench-Suite-Zero)")
    frame = pd.read_csv(csv)
    rows = [bench.index_of(bench.space.from_string(a)) for a in frame["arch"]]
    table = bench.static_value(column, rows).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        live = TABLE_UNITS.get(measure, lambda v: v)(frame["score"].to_numpy(dtype=float))
        rel = np.abs(live - table) / np.abs(table)
    ok = np.isfinite(live) & np.isfinite(table)
    return {
        "predictor": measure,
        "params": record.get("params", {}),
        "benchmark": bench.name,
        "archs": len(frame),
        "missing": int((~ok).sum()),
        "spearman_vs_table": float(stats.spearmanr(live[ok], table[ok]).statistic),
        "max_rel_error": float(np.max(rel[ok])),
        "cpu_s_per_arch": float(record.get("cpu_seconds", np.nan)) / len(frame),
        "device": record.get("device"),
    }


def table_agreement_markdown(rows: Sequence[dict]) -> str:
    lines = ["| measure | settings | benchmark | architectures (missing) | Spearman vs table | "
             "max relative error | CPU ms per arch |", "|" + "---|" * 7]
    for r in rows:
        settings = ", ".join(f"{k}={v}" for k, v in r["params"].items()
                             if k == "convention") or "–"
        lines.append(f"| {r['predictor']} | {settings} | {r['benchmark']} | {r['archs']} "
                     f"({r['missing']}) | {r['spearman_vs_table']:.4f} | "
                     f"{r['max_rel_error']:.2e} | {_seconds(1000 * r['cpu_s_per_arch'], '.0f')} |")
    return "\n".join(lines) + "\n"


def bootstrap_interval(truth: np.ndarray, score: np.ndarray, boot: int, seed: int = 0
                       ) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of Spearman and Kendall tau over resampled architectures."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    rho, tau = [], []
    for _ in range(boot):
        i = rng.integers(len(truth), size=len(truth))
        rho.append(stats.spearmanr(truth[i], score[i]).statistic)
        tau.append(kendall_tau(truth[i], score[i]))
    return {name: (float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5)))
            for name, v in (("spearman", rho), ("kendall_tau", tau))}


def correlation_row(predictor: str, bench, truth: np.ndarray, score: np.ndarray,
                    cpu_s_per_arch: float, wall_s: float, device: str | None,
                    batch_source: str | None, boot: int) -> dict:
    """Agreement of one measure's scores with the benchmark's objective, and their cost."""
    from scipy import stats

    ok = np.isfinite(score) & np.isfinite(truth)
    row = {
        "predictor": predictor,
        "benchmark": bench.name,
        "against": bench.objective,
        "archs": len(score),
        "missing": int((~np.isfinite(score)).sum()),
        "spearman": float(stats.spearmanr(truth[ok], score[ok]).statistic),
        "kendall_tau": kendall_tau(truth[ok], score[ok]),
        "cpu_s_per_arch": cpu_s_per_arch,
        "wall_s": wall_s,
        "device": device,
        "batch_source": batch_source,
    }
    if boot:
        ci = bootstrap_interval(truth[ok], score[ok], boot)
        row["spearman_ci"], row["kendall_tau_ci"] = ci["spearman"], ci["kendall_tau"]
    if row["missing"]:
        row.update(missing_as_worst(truth, score))
    return row


def missing_as_worst(truth: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Spearman and Kendall tau with every missing score counted as the worst one, all tied
    (what a proxy's authors do who substitute a constant, e.g. TE-NAS's condition number of
    100,000 for a singular NTK), instead of dropped."""
    from scipy import stats

    known = np.isfinite(truth)
    ranks = stats.rankdata(np.where(np.isfinite(score), score, -np.inf)[known])
    return {"spearman_missing_worst": float(stats.spearmanr(truth[known], ranks).statistic),
            "kendall_tau_missing_worst": kendall_tau(truth[known], ranks)}


def score_row(csv: Path, boot: int) -> dict:
    """The row of one ``predbench score`` output (its ``.json`` record names the benchmark)."""
    import pandas as pd

    record = json.loads(csv.with_name(csv.name + ".json").read_text())
    bench = load_benchmark(record["benchmark"])
    frame = pd.read_csv(csv)
    truth = oriented_truth(frame["arch"], bench, bench.objective)
    return correlation_row(
        record["predictor"], bench, truth, frame["score"].to_numpy(dtype=float),
        float(record.get("cpu_seconds", np.nan)) / len(frame),
        float(record["fit_seconds"] + record["query_seconds"]), record["device"],
        record.get("batch_source"), boot)


def with_score_files(bench: TabularBenchmark, shard_dir: Path) -> TabularBenchmark:
    """``bench`` with the score files of a shard directory (``predbench build zero-cost``)
    tabulated onto its architectures as ``predbench build merge`` does, replacing its columns
    of the same measures; nothing is written."""
    from benchmarks.builder.shards import ShardError
    from benchmarks.builder.zero_cost import SUBDIR, add_score_columns, read_scores

    order = (bench.metadata.get("order") or {}).get("indices")
    if order is None:
        raise OptionError(f"--zero-cost-dir needs a benchmark built by `predbench build merge`; "
                          f"{bench.name!r} records no architecture order")
    try:
        records = read_scores(shard_dir)
        if not records:
            raise OptionError(f"--zero-cost-dir {shard_dir} holds no score files "
                              f"({SUBDIR}/z*.json); run `predbench build zero-cost` first")
        for row, index in enumerate(order):
            rec = records.get(int(index))
            if rec is not None and rec["arch"] != str(bench.archs[row]):
                raise OptionError(f"--zero-cost-dir {shard_dir}: architecture {index} of its "
                                  f"files is {rec['arch']}, not {bench.name}'s; give the shard "
                                  "directory the benchmark was merged from")
        meta = copy.deepcopy(bench.metadata)
        static = bench.static if bench.static is not None else np.zeros((len(bench), 0))
        static = add_score_columns(meta, static, records, order)
    except ShardError as exc:
        raise OptionError(str(exc)) from None
    return TabularBenchmark(meta, bench.archs, bench.values, static)


def tabulated_scores(bench: TabularBenchmark) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per zero-cost measure a benchmark tabulates: its scores and per-architecture seconds
    (NaN where untabulated). A measure tabulated as components (``zero_cost.components``
    metadata: AZ-NAS) is scored by its proxy's table source over all architectures at once."""
    from predictors import FitContext, QueryContext, make

    static = bench.static_names
    components = (bench.metadata.get("zero_cost") or {}).get("components", {})
    parts = {f"zc_{m}_{c}" for m, cs in components.items() for c in cs}
    measures = [n[3:] for n in static
                if n.startswith("zc_") and not n.endswith("_time") and n not in parts]
    out = {}
    for m in [*measures, *components]:
        seconds = (bench.static_value(f"zc_{m}_time") if f"zc_{m}_time" in static
                   else np.full(len(bench), np.nan))
        if m in components:
            predictor = make(m, source="table")
            props = {p: bench.static_value(p) for p in predictor.data_needs().properties}
            scores = predictor.fit(FitContext(space=bench.space)).query(
                bench.archs, QueryContext(space=bench.space, properties=props)).mean
        else:
            scores = bench.static_value(f"zc_{m}")
        out[m] = (scores, seconds)
    return out


def table_rows(bench: TabularBenchmark, boot: int,
               baselines: Sequence[str] = ("params", "flops")) -> list[dict]:
    """Rows of every zero-cost measure a benchmark tabulates (``zc_<m>``, with its compute time
    ``zc_<m>_time``), plus the ``baselines`` among its static properties."""
    from benchmarks.builder.zero_cost import tabulated_settings

    scores = tabulated_scores(bench)
    if not scores:
        raise SystemExit(f"benchmark {bench.name!r} tabulates no zero-cost scores (zc_<measure> "
                         "columns); for this project's benchmark run `predbench build zero-cost` "
                         "and merge again, or pass `predbench score` outputs instead")
    truth = oriented_truth([bench.space.to_string(a) for a in bench.archs], bench,
                           bench.objective)
    meta = bench.metadata.get("zero_cost") or {}
    source = f"{bench.name}'s data" if bench.metadata.get("live") else None
    rows = []
    for m, (values, seconds) in scores.items():
        rows.append(correlation_row(m, bench, truth, values, float(np.nanmean(seconds)),
                                    float(np.nansum(seconds)),
                                    tabulated_settings(meta, m).get("device"), source, boot))
    for b in baselines:
        if b in bench.static_names:
            rows.append(correlation_row(b, bench, truth, bench.static_value(b), np.nan, 0.0,
                                        None, None, boot))
    return rows


def operation_table(bench: TabularBenchmark, measures: Sequence[str] | None = None) -> str:
    """Markdown table: Spearman of the ground truth and of every tabulated measure (those of
    ``measures`` where given) with the number of edges holding each operation (empty for
    spaces whose cells are not lists of operations).

    It shows which operations a measure rewards, beside the ones the benchmark's training does."""
    from scipy import stats

    specs = [getattr(a, "spec", None) for a in bench.archs]
    if not specs or not all(isinstance(s, tuple) and all(isinstance(o, str) for o in s)
                            for s in specs):
        return ""
    ops = sorted({o for s in specs for o in s})
    counts = {o: np.array([s.count(o) for s in specs], dtype=float) for o in ops}
    columns = {f"ground truth ({bench.objective})": bench.final()}
    for m, (values, _) in tabulated_scores(bench).items():
        if measures is None or m in measures:
            columns[m] = values
    lines = ["| score | " + " | ".join(ops) + " |", "|---" * (len(ops) + 1) + "|"]
    for name, values in columns.items():
        ok = np.isfinite(values)
        rhos = [stats.spearmanr(counts[o][ok], values[ok]).statistic for o in ops]
        lines.append(f"| {name} | " + " | ".join(f"{r:+.2f}" for r in rhos) + " |")
    return ("\nSpearman of each score with the number of edges holding each operation:\n\n"
            + "\n".join(lines) + "\n")


def _seconds(value: float, fmt: str) -> str:
    return format(value, fmt) if np.isfinite(value) else "–"


def _published(name: str) -> str:
    ref = PUBLISHED_NB201_C10.get(name, {})
    return " / ".join(f"{ref[k]:.2f}" if k in ref else "–" for k in ("suite_zero", "abdelfattah"))


def markdown(rows: Sequence[dict]) -> str:
    def ci(row: dict, key: str) -> str:
        lo_hi = row.get(f"{key}_ci")
        return f"{row[key]:.3f}" + (f" [{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]" if lo_hi else "")

    lines = ["| measure | benchmark | architectures (missing) | Spearman [95% CI] | "
             "Kendall tau [95% CI] | CPU s per arch | total s | published Spearman "
             "NB201-C10 (Suite-Zero / Abdelfattah) | published Kendall (AZ-NAS Table 1) | "
             "other published NB201-C10 |", "|" + "---|" * 10]
    for r in rows:
        lines.append(f"| {r['predictor']} | {r['benchmark']} | {r['archs']} ({r['missing']}) | "
                     f"{ci(r, 'spearman')} | {ci(r, 'kendall_tau')} | "
                     f"{_seconds(r['cpu_s_per_arch'], '.3g')} | {r['wall_s']:.0f} | "
                     f"{_published(r['predictor'])} | "
                     f"{PUBLISHED_KENDALL_AZNAS.get(r['predictor'], '–')} | "
                     f"{other_figures(r['predictor']) or '–'} |")
    worst = [f"{r['predictor']} ({r['missing']} of {r['archs']}): Spearman "
             f"{r['spearman_missing_worst']:.3f}, Kendall tau {r['kendall_tau_missing_worst']:.3f}"
             for r in rows if "spearman_missing_worst" in r]
    if worst:
        lines += ["", "Missing scores are left out above. Counted as the worst score instead "
                  "(all tied): " + "; ".join(worst) + "."]
    return "\n".join(lines) + "\n"


def ranking_agreement(rows: Sequence[dict], source: str = "suite_zero") -> dict | None:
    """Kendall tau between the measures' Spearman here and their published Spearman."""
    pairs = [(r["spearman"], PUBLISHED_NB201_C10[r["predictor"]][source]) for r in rows
             if source in PUBLISHED_NB201_C10.get(r["predictor"], {})
             and np.isfinite(r["spearman"])]
    if len(pairs) < 3:
        return None
    ours, published = (np.array(v) for v in zip(*pairs, strict=True))
    return {"source": source, "measures": len(pairs),
            "kendall_tau": kendall_tau(ours, published)}


def plot_bars(rows: Sequence[dict], path: Path) -> Path:
    """Spearman and Kendall tau per measure (95% intervals), published Spearman as markers."""
    plt = pyplot()

    order = sorted(rows, key=lambda r: r["spearman"])
    y = np.arange(len(order))
    height = 0.45 * len(order) + 1.6
    fig, ax = plt.subplots(figsize=(7.5, height))
    for offset, key, colour in ((0.2, "spearman", "tab:blue"), (-0.2, "kendall_tau", "tab:cyan")):
        values = np.array([r[key] for r in order])
        err = None
        if all(f"{key}_ci" in r for r in order):
            ci = np.array([r[f"{key}_ci"] for r in order])
            err = np.abs(ci.T - values)
        ax.barh(y + offset, values, height=0.4, xerr=err, color=colour, capsize=2,
                label=key.replace("_", " "))
    published = [PUBLISHED_NB201_C10.get(r["predictor"], {}).get("suite_zero") for r in order]
    marked = [(i, v) for i, v in enumerate(published) if v is not None]
    if marked:
        ax.scatter([v for _, v in marked], [i + 0.2 for i, _ in marked], marker="D",
                   color="black", zorder=3, label="published Spearman, NB201 CIFAR-10")
    labels = [f"{r['predictor']} ({_seconds(1000 * r['cpu_s_per_arch'], '.0f')} ms)"
              for r in order]
    ax.set_yticks(y, labels)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel(f"rank correlation with {order[0]['against']} on {order[0]['benchmark']} "
                  "(CPU time per architecture in brackets)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.9 / height),
              ncol=3, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def command(
    scores: list[Path] | None = typer.Argument(None, help="`predbench score` outputs."),
    table: str | None = typer.Option(None, "--table", metavar="BENCHMARK",
                                     help="Read the zero-cost scores the benchmark tabulates."),
    zero_cost_dir: Path | None = typer.Option(
        None, "--zero-cost-dir", metavar="SHARDS",
        help="With --table: read the score files of this shard directory (`predbench build "
             "zero-cost`) as `build merge` would tabulate them, instead of the benchmark's "
             "columns of the same measures."),
    measures: str | None = typer.Option(
        None, "--measures", help="With --table: only these measures and baselines "
        "(comma-separated)."),
    out: Path = typer.Option(..., help="Markdown report (a .json of the rows beside it)."),
    boot: int = typer.Option(1000, help="Bootstrap resamples (0: none)."),
    plot: Path | None = typer.Option(None, help="Bar chart PNG of the measures."),
    against_table: bool = typer.Option(
        False, "--against-table", help="Check each score file against the benchmark's own "
        "tabulated score of the measure (zc_<measure>) instead of its objective."),
) -> None:
    """Check zero-cost scores against a benchmark, beside published figures."""
    if not scores and not table:
        raise OptionError("give `predbench score` outputs or --table BENCHMARK")
    output_file(out, "--out")
    if against_table:
        if table or not scores:
            raise OptionError("--against-table checks `predbench score` outputs; give them "
                              "without --table")
        checked = [table_agreement(path) for path in scores]
        text = table_agreement_markdown(checked)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        out.with_suffix(".json").write_text(json.dumps(checked, indent=2) + "\n")
        typer.echo(text)
        return
    if (zero_cost_dir or measures) and not table:
        raise OptionError("--zero-cost-dir and --measures go with --table BENCHMARK")
    wanted = names(measures) or None
    bench = load_benchmark(table) if table else None
    if bench is not None and zero_cost_dir is not None:
        bench = with_score_files(bench, zero_cost_dir)
    rows = [score_row(path, boot) for path in scores or []]
    if bench is not None:
        tabled = table_rows(bench, boot)
        rows += [r for r in tabled if wanted is None or r["predictor"] in wanted]
        if wanted and len(rows) < len(wanted):
            absent = sorted(set(wanted) - {r["predictor"] for r in rows})
            raise OptionError(f"--measures: {bench.name!r} tabulates no {', '.join(absent)}")
    text = markdown(rows)
    agreement = ranking_agreement(rows)
    if agreement:
        text += (f"\nRanking of the measures against the published NB201 CIFAR-10 one "
                 f"({agreement['source']}): Kendall tau {agreement['kendall_tau']:.2f} over "
                 f"{agreement['measures']} measures.\n")
    if bench is not None:
        text += operation_table(bench, wanted)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n")
    if plot:
        plot_bars(rows, plot)
    typer.echo(text)
