"""Reproducibility audit of the live zero-cost proxies: batch size, seeds and data source.

    predbench analyze proxy-audit -b fmnist-nb201 --archs ARCHS.txt --sample 100 \\
        [--proxies jacov,zico,...] [--batch-sizes 1,8,32] [--seeds 3] [--split-seeds 3] \\
        [--sources gaussian,digits-resized] [--source-seeds 3] [--limit tenas_ntk=50] \\
        [--out results/proxy-audit/fmnist-nb201] [--dry-run | --report-only]

Scores a fixed, seeded sample of the benchmark's cells (``--sample`` of ``--archs``, or of all
its cells; written to ``OUT/archs.txt`` and checked on every later run) with every live
zero-cost proxy under a grid of settings, one ``predbench score`` result per *cell* of the grid
(``OUT/cells/<proxy>/<source>_b<batch>_i<init seed>_d<batch seed>_n<archs>.csv`` and its
``.csv.json`` record); a cell whose record exists is skipped, so an interrupted run continues
where it stopped. The grid, per proxy (``expand_grid``):

- **batch size**: the paper's batch size (the proxy's default, ``batch_size`` of its class)
  and each of ``--batch-sizes`` (default: ``BATCH_GRID``, sizes around the paper's), on the
  benchmark's own data, with init seed = batch seed = 0 .. ``--seeds`` - 1;
- **seeds**: at the paper's batch size, init seeds 1 .. ``--split-seeds`` - 1 with batch seed
  0, and batch seeds likewise with init seed 0;
- **data source**: each of ``--sources`` (substitutes of ``benchmarks.live``: Gaussian noise,
  scikit-learn digits or Fashion-MNIST resized to the network's input) at the paper's batch
  size, seeds as for the batch sizes (``--source-seeds``).

Settings a measure ignores are not varied (``IGNORES``: synflow and l2_norm read no data, zen
draws its own weights and inputs); data-free measures get no source cells. A benchmark without
images of its own (``nb201-cifar10``) scores data-dependent proxies on the first of
``--sources`` instead. ``--limit PROXY=N`` scores only the first ``N`` architectures of the
sample with that proxy (for the costly ones).

From every cell present the report (``OUT/README.md`` and CSVs) gives Spearman and Kendall tau
against the benchmark's objective as a function of batch size (mean, sd, min and max over
seeds), the spread over init and batch seeds, each source against the benchmark's own data,
the proxies' published NAS-Bench-201 CIFAR-10 figures beside ours, and a check of the cells
scored with a tabulation's settings against the benchmark's tabulated scores; plots
``spearman_vs_batch.png`` (seed range as error bars) and ``sources.png``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import typer

from benchmarks.analyses.published import (
    PUBLISHED_KENDALL_AZNAS,
    PUBLISHED_NB201_C10,
    other_figures,
)
from benchmarks.checks import OptionError, at_least, ints, names, output_dir
from benchmarks.checks import device as check_device
from benchmarks.keyvalue import parse_key_values
from benchmarks.progress import Progress

if TYPE_CHECKING:
    import pandas as pd

    from benchmarks.tabular import TabularBenchmark

log = logging.getLogger(__name__)

#: Batch sizes audited per proxy (default ``DEFAULT_GRID``): around each paper's own.
DEFAULT_GRID = (1, 8, 32, 64, 128)
BATCH_GRID: dict[str, tuple[int, ...]] = {
    "zico": (2, 8, 32, 64, 128),            # two batches of at least one sample each
    "swap": (1, 8, 16, 32, 64, 128),        # the paper's 16
    "tenas_ntk": (8, 16, 32, 72),           # the paper's 72; one backward pass per sample
    "tenas_lr": (64, 256, 1000, 3000),      # crops, the paper's 3 x 1,000
}
#: Settings a measure's score does not depend on, so the audit does not vary them: synflow
#: runs one all-ones input, l2_norm no input; zen draws Gaussian weights and inputs from the
#: batch seed. ``source`` is implied for every data-free measure.
IGNORES: dict[str, frozenset[str]] = {
    "synflow": frozenset({"batch_size", "batch_seed"}),
    "l2_norm": frozenset({"batch_size", "batch_seed"}),
    "zen": frozenset({"init_seed"}),
}
#: The source of cells on the benchmark's own images; ``DATA_FREE`` for measures reading none.
REAL, DATA_FREE = "real", "data-free"

# --- the grid ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One setting of one proxy, scored on the first ``archs`` architectures of the sample."""

    proxy: str
    source: str
    batch_size: int
    init_seed: int
    batch_seed: int
    archs: int

    @property
    def name(self) -> str:
        return (f"{self.proxy}/{self.source}_b{self.batch_size}_i{self.init_seed}"
                f"_d{self.batch_seed}_n{self.archs}")

    def path(self, out: Path) -> Path:
        """The cell's ``arch,score`` CSV (its record is the same path + ``.json``)."""
        return Path(out) / "cells" / f"{self.name}.csv"

    def params(self) -> dict[str, int]:
        return {"batch_size": self.batch_size, "init_seed": self.init_seed,
                "batch_seed": self.batch_seed}


def audited_proxies() -> list[str]:
    """Every live zero-cost proxy: one per measure of ``PROXY_MEASURES``, and AZ-NAS."""
    from predictors.zero_cost.proxy import PROXY_MEASURES

    return [*PROXY_MEASURES, "az_nas"]


def paper_batch(proxy: str) -> int:
    """The proxy's default batch size (its paper's, for the measures published after 2021)."""
    from predictors.registry import get

    return int(get(proxy).batch_size)


def is_data_free(proxy: str) -> bool:
    from predictors.registry import make

    return not make(proxy).data_needs().live


def expand_grid(proxies: Sequence[str], *, archs: int, batch_sizes: Sequence[int] | None = None,
                seeds: int = 3, split_seeds: int = 3, sources: Sequence[str] = (),
                source_seeds: int = 3, real: bool = True,
                limits: Mapping[str, int] | None = None) -> list[Cell]:
    """The cells of the audit, in order, without repeats (see the module docstring).

    ``real``: whether the benchmark has images of its own (else data-dependent proxies run on
    ``sources[0]``); ``limits``: architectures per proxy where fewer than ``archs``."""
    cells: dict[Cell, None] = {}
    for proxy in proxies:
        ignores = IGNORES.get(proxy, frozenset())
        data_free = is_data_free(proxy)
        n = min(archs, int((limits or {}).get(proxy, archs)))
        b0 = paper_batch(proxy)
        if data_free:
            primary, substitutes = DATA_FREE, []
        elif real:
            primary, substitutes = REAL, list(sources)
        elif sources:
            primary, substitutes = sources[0], list(sources[1:])
        else:
            raise OptionError(f"{proxy} needs images and the benchmark ships none; give "
                              "--sources (e.g. --sources gaussian,digits-resized)")
        sizes = [b0] if "batch_size" in ignores else sorted(
            {b0, *(batch_sizes or BATCH_GRID.get(proxy, DEFAULT_GRID))})

        settings = [(primary, batch, s, s) for batch in sizes for s in range(seeds)]
        settings += [(primary, b0, s, 0) for s in range(1, split_seeds)]
        settings += [(primary, b0, 0, s) for s in range(1, split_seeds)]
        settings += [(source, b0, s, s) for source in substitutes for s in range(source_seeds)]
        for source, batch, init, bseed in settings:
            init = 0 if "init_seed" in ignores else init
            bseed = 0 if "batch_seed" in ignores else bseed
            cells[Cell(proxy, source, int(batch), int(init), int(bseed), n)] = None
    return list(cells)


# --- the sample ----------------------------------------------------------------------------------
def draw_sample(bench: TabularBenchmark, archs_file: Path | None, sample: int, seed: int
                ) -> tuple[list[str], str]:
    """``sample`` architecture strings drawn without replacement by ``default_rng(seed)`` from
    ``archs_file`` (default: the benchmark's cells), kept in their order there; all of them
    when ``sample`` is 0. Returns them and a one-line description."""
    from benchmarks.score import read_arch_file

    pool = (read_arch_file(archs_file, bench) if archs_file is not None else list(bench.archs))
    where = str(archs_file) if archs_file is not None else f"all cells of {bench.name}"
    if sample and sample > len(pool):
        raise OptionError(f"--sample {sample} exceeds the {len(pool)} architectures of {where}")
    if sample:
        chosen = np.sort(np.random.default_rng(seed).choice(len(pool), sample, replace=False))
        pool = [pool[i] for i in chosen]
        where = f"{sample} of {where}, drawn by numpy default_rng({seed}), in their order there"
    return [bench.space.to_string(a) for a in pool], where


def fix_sample(out: Path, archs: list[str], where: str) -> None:
    """Write the sample to ``out/archs.txt``, or check that it is the one already there."""
    path = out / "archs.txt"
    if path.exists():
        before = [line.strip() for line in path.read_text().splitlines()
                  if line.strip() and not line.startswith("#")]
        if before != archs:
            raise OptionError(f"{path} holds another sample of architectures; score this one "
                              "into another --out, or pass the --archs/--sample/--sample-seed "
                              "that drew it")
        return
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {where}\n" + "\n".join(archs) + "\n")


# --- scoring -------------------------------------------------------------------------------------
def cell_record(cell: Cell, out: Path) -> dict[str, Any] | None:
    """The stored record of ``cell`` (``None`` when it has not been scored)."""
    from benchmarks.score import record_path

    path = record_path(cell.path(out))
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    if "error" not in record and not cell.path(out).exists():
        return None
    return record


def score_cell(cell: Cell, bench: TabularBenchmark, archs: Sequence[str], out: Path,
               device: str) -> dict[str, Any]:
    """Score one cell and store it; a proxy that fails on the whole cell (an error of its
    computation, not of the data source or the request) is stored as an error with its
    message, so a rerun does not repeat it."""
    from benchmarks.contexts import TaskError
    from benchmarks.live import LiveSourceError
    from benchmarks.score import (
        ScoreError,
        _write_atomic,
        record_path,
        score_architectures,
        write_scores,
    )

    source = None if cell.source in (REAL, DATA_FREE) else cell.source
    try:
        frame = score_architectures(cell.proxy, bench, list(archs[:cell.archs]),
                                    batch_source=source, params=cell.params(), device=device)
    except (LiveSourceError, ScoreError, TaskError):
        raise
    except (ValueError, RuntimeError, ArithmeticError) as exc:  # the setting is a finding
        record = {"cell": asdict(cell), "predictor": cell.proxy, "error":
                  f"{type(exc).__name__}: {exc}"}
        _write_atomic(record_path(cell.path(out)), json.dumps(record, indent=2) + "\n")
        return record
    frame.attrs["cell"] = asdict(cell)
    write_scores(frame, cell.path(out))
    return dict(frame.attrs)


def run_cells(cells: Sequence[Cell], bench: TabularBenchmark, archs: Sequence[str], out: Path,
              device: str = "cpu") -> list[Cell]:
    """Score the cells that have no record yet; returns those scored now."""
    todo = [c for c in cells if cell_record(c, out) is None]
    log.info("%d of %d cells already scored in %s; %d to score", len(cells) - len(todo),
             len(cells), out, len(todo))
    with Progress(len(todo), "proxy-audit cells") as bar:
        for cell in todo:
            record = score_cell(cell, bench, archs, out, device)
            bar.done(cell.name, "error" if "error" in record else "ok")
    return todo


# --- the report ----------------------------------------------------------------------------------
def collect(out: Path, bench: TabularBenchmark | None = None) -> pd.DataFrame:
    """One row per stored cell: its settings, Spearman, Kendall tau, missing scores, CPU time.

    With ``bench`` the correlations are computed again from the cell's stored scores against
    the benchmark's labels now (a rebuilt benchmark, e.g. one with a merged second seed, moves
    them); without it they are the ones recorded when the cell was scored."""
    import pandas as pd

    from benchmarks.score import agreement

    rows = []
    for path in sorted((Path(out) / "cells").glob("*/*.csv.json")):
        record = json.loads(path.read_text())
        cell = record["cell"]
        n = int(record.get("n", cell["archs"]))
        scores = path.with_name(path.name[:-len(".json")])
        if bench is not None and "error" not in record and scores.is_file():
            fresh = agreement(pd.read_csv(scores), bench)
            record = {k: v for k, v in record.items()
                      if k not in ("spearman", "kendall_tau", "missing_scores")} | fresh
        rows.append({**cell, "status": "error" if "error" in record else (
            "ok" if "spearman" in record else "undefined"),
            "spearman": record.get("spearman", np.nan),
            "kendall": record.get("kendall_tau", np.nan),
            "missing": record.get("missing_scores", n if "error" in record else 0),
            "cpu_ms_per_arch": 1000 * record.get("cpu_seconds", np.nan) / n,
            "batch_source": record.get("batch_source"), "error": record.get("error", "")})
    if not rows:
        raise OptionError(f"no scored cells in {Path(out) / 'cells'}; run the audit first "
                          "(without --report-only)")
    frame = pd.DataFrame(rows)
    frame["paper_batch"] = frame["proxy"].map(paper_batch)
    frame["primary"] = frame["proxy"].map(_primary_sources(frame))
    return frame


def _primary_sources(frame: pd.DataFrame) -> dict[str, str]:
    """Per proxy, the source its batch and seed cells use (real data where present)."""
    primary = {}
    for proxy, part in frame.groupby("proxy"):
        found = set(part["source"])
        primary[proxy] = (REAL if REAL in found else DATA_FREE if DATA_FREE in found
                          else part["source"].value_counts().idxmax())
    return primary


def _spread(part: pd.DataFrame) -> dict[str, Any]:
    ok = part[part["status"] == "ok"]
    rho, tau = ok["spearman"], ok["kendall"]
    return {"seeds": len(part), "defined": len(ok),
            "spearman": rho.mean() if len(ok) else np.nan,
            "spearman_sd": rho.std(ddof=1) if len(ok) > 1 else np.nan,
            "spearman_min": rho.min() if len(ok) else np.nan,
            "spearman_max": rho.max() if len(ok) else np.nan,
            "kendall": tau.mean() if len(ok) else np.nan,
            "kendall_sd": tau.std(ddof=1) if len(ok) > 1 else np.nan,
            "archs": int(part["archs"].max()),
            "cpu_ms_per_arch": float(part["cpu_ms_per_arch"].mean()),
            "why_undefined": "; ".join(sorted({_why(r) for _, r in part.iterrows()
                                               if r["status"] != "ok"}))}


def _why(row: pd.Series) -> str:
    if row["status"] == "error":
        return row["error"].split("\n")[0][:120]
    return f"{row['missing']} of {row['archs']} scores undefined or all equal"


def batch_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per proxy and batch size: the spread over joint seeds on the proxy's primary source."""
    import pandas as pd

    joint = frame[(frame["source"] == frame["primary"])
                  & (frame["init_seed"] == frame["batch_seed"])]
    rows = [{"proxy": p, "batch_size": b, "paper_batch": int(part["paper_batch"].iloc[0]),
             "source": part["source"].iloc[0], **_spread(part)}
            for (p, b), part in joint.groupby(["proxy", "batch_size"])]
    return pd.DataFrame(rows)


def seed_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per proxy at its paper's batch size on its primary source: the spread over joint seeds,
    over init seeds (batch seed 0) and over batch seeds (init seed 0)."""
    import pandas as pd

    at = frame[(frame["source"] == frame["primary"])
               & (frame["batch_size"] == frame["paper_batch"])]
    kinds = {"joint": at["init_seed"] == at["batch_seed"], "init": at["batch_seed"] == 0,
             "batch": at["init_seed"] == 0}
    rows = []
    for kind, mask in kinds.items():
        for proxy, part in at[mask].groupby("proxy"):
            rows.append({"proxy": proxy, "varied": kind, **_spread(part)})
    return pd.DataFrame(rows)


def main_seeds(seeds: pd.DataFrame) -> pd.DataFrame:
    """Per proxy, the row of ``seed_table`` its headline figure comes from: the kind of seeds
    varied with the most defined cells (joint seeds on a tie; a measure that ignores the batch
    seed, such as synflow, has only its init seeds)."""
    order = {"joint": 0, "init": 1, "batch": 2}
    ranked = seeds.assign(_rank=seeds["varied"].map(order)).sort_values(
        ["proxy", "defined", "_rank"], ascending=[True, False, True])
    return ranked.groupby("proxy", as_index=False).head(1).drop(columns="_rank")


def source_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per proxy and source at the paper's batch size, joint seeds; ``delta`` is the mean
    Spearman minus that on the primary source (over the seeds both have)."""
    import pandas as pd

    at = frame[(frame["batch_size"] == frame["paper_batch"])
               & (frame["init_seed"] == frame["batch_seed"])]
    rows = []
    for proxy, part in at.groupby("proxy"):
        primary = part[part["source"] == part["primary"]]
        base = primary.set_index("init_seed")["spearman"]
        for source, sub in part.groupby("source"):
            paired = sub.set_index("init_seed")["spearman"].sub(base).dropna()
            rows.append({"proxy": proxy, "source": source,
                         "primary": source == part["primary"].iloc[0], **_spread(sub),
                         "delta": paired.mean() if len(paired) else np.nan})
    return pd.DataFrame(rows)


def tabulated_rows(bench: TabularBenchmark, archs: Sequence[str]) -> list[dict[str, Any]]:
    """Spearman and Kendall tau of the benchmark's tabulated ``params`` and ``flops`` on the
    sample (the reference the data-free measures are compared with)."""
    from scipy import stats

    from benchmarks.score import oriented_truth
    from predictors.ranking import kendall_tau

    truth = oriented_truth(archs, bench, bench.objective)
    rows = [bench.index_of(bench.space.from_string(a)) for a in archs]
    out = []
    for name in ("params", "flops"):
        if name in bench.static_names:
            score = bench.static_value(name, rows).astype(float)
            out.append({"proxy": name, "spearman": float(stats.spearmanr(truth, score).statistic),
                        "kendall": kendall_tau(truth, score), "archs": len(archs)})
    return out


def table_check(frame: pd.DataFrame, bench: TabularBenchmark, out: Path) -> pd.DataFrame:
    """Cells scored with the settings of the benchmark's own zero-cost tabulation against its
    tabulated ``zc_<measure>``: Spearman between the two and the largest relative difference."""
    import pandas as pd
    from scipy import stats

    from benchmarks.builder.zero_cost import tabulated_settings

    meta = bench.metadata.get("zero_cost") or {}
    if not meta.get("settings"):
        return pd.DataFrame()
    rows = []
    for _, r in frame[frame["status"] == "ok"].iterrows():
        column = f"zc_{r['proxy']}"
        if column not in bench.static_names or r["source"] not in (REAL, DATA_FREE):
            continue
        own = tabulated_settings(meta, r["proxy"])
        if (r["batch_size"], r["init_seed"], r["batch_seed"]) != (
                own.get("batch_size"), own.get("init_seed"), own.get("batch_seed")):
            continue
        cell = Cell(**{k: r[k] for k in Cell.__dataclass_fields__})
        scores = pd.read_csv(cell.path(out))
        index = [bench.index_of(bench.space.from_string(a)) for a in scores["arch"]]
        table = bench.static_value(column, index).astype(float)
        live = scores["score"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(live - table) / np.abs(table)
        rows.append({"proxy": r["proxy"], "archs": len(live),
                     "spearman_vs_table": float(stats.spearmanr(live, table).statistic),
                     "max_rel_diff": float(np.nanmax(rel))})
    return pd.DataFrame(rows)


def published_table(seeds: pd.DataFrame, tabulated: Sequence[Mapping[str, Any]]
                    ) -> pd.DataFrame:
    """Ours (mean over seeds at the paper's batch size, ``main_seeds``) beside NAS-Bench-201
    CIFAR-10 figures: Spearman from NAS-Bench-Suite-Zero and Abdelfattah et al. 2021
    (``published.PUBLISHED_NB201_C10``), Kendall tau from AZ-NAS's Table 1, and others."""
    import pandas as pd

    ours = [{"proxy": r["proxy"], "spearman": r["spearman"], "spearman_sd": r["spearman_sd"],
             "kendall": r["kendall"], "seeds": r["defined"], "archs": r["archs"]}
            for _, r in main_seeds(seeds).iterrows()]
    ours += [{**r, "spearman_sd": np.nan, "seeds": 0} for r in tabulated]
    rows = []
    for r in ours:
        ref = PUBLISHED_NB201_C10.get(r["proxy"], {})
        rows.append({**r, "suite_zero_spearman": ref.get("suite_zero", np.nan),
                     "abdelfattah_spearman": ref.get("abdelfattah", np.nan),
                     "aznas_kendall": PUBLISHED_KENDALL_AZNAS.get(r["proxy"], np.nan),
                     "other": other_figures(r["proxy"])})
    return pd.DataFrame(rows)


def summary_table(batches: pd.DataFrame, seeds: pd.DataFrame, sources: pd.DataFrame
                  ) -> pd.DataFrame:
    """One row per proxy: Spearman and Kendall at the paper's batch size (mean and sd over
    the seeds of ``main_seeds``),
    the sd over init seeds alone and over batch seeds alone, the lowest and highest mean over
    batch sizes (with the sizes) and where it is undefined, and each substitute source's mean
    difference from the primary source."""
    import pandas as pd

    rows = []
    main = main_seeds(seeds).set_index("proxy")
    for proxy, part in batches.groupby("proxy"):
        by = {r["varied"]: r for _, r in seeds[seeds["proxy"] == proxy].iterrows()}
        defined = part[np.isfinite(part["spearman"])]
        row = {"proxy": proxy, "archs": int(part["archs"].max()),
               "paper_batch": int(part["paper_batch"].iloc[0]), "source": part["source"].iloc[0],
               "spearman": np.nan, "sd": np.nan, "kendall": np.nan, "seeds": "none yet"}
        if proxy in main.index:
            head = main.loc[proxy]
            row.update(spearman=head["spearman"], sd=head["spearman_sd"],
                       kendall=head["kendall"], seeds=f"{head['varied']}, n={head['defined']}")
        for kind in ("joint", "init", "batch"):
            r = by.get(kind)
            row[f"{kind}_spearman"] = r["spearman"] if r is not None else np.nan
            row[f"{kind}_sd"] = r["spearman_sd"] if r is not None else np.nan
        if len(defined):
            low, high = defined.loc[defined["spearman"].idxmin()], \
                defined.loc[defined["spearman"].idxmax()]
            row.update(low=low["spearman"], low_batch=int(low["batch_size"]),
                       high=high["spearman"], high_batch=int(high["batch_size"]))
        row["undefined_batches"] = ",".join(
            str(b) for b in part.loc[~np.isfinite(part["spearman"]), "batch_size"])
        for _, r in sources[(sources["proxy"] == proxy) & ~sources["primary"]].iterrows():
            row[f"delta_{r['source']}"] = r["delta"]
        row["cpu_ms_per_arch"] = float(part.loc[part["batch_size"] == row["paper_batch"],
                                                "cpu_ms_per_arch"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def summary_markdown(summary: pd.DataFrame) -> list[str]:
    deltas = [c for c in summary.columns if c.startswith("delta_")]
    head = ["proxy", "archs", "paper batch", "Spearman ± sd (seeds varied)", "Kendall",
            "sd: init seeds / batch seeds", "batch sizes: lowest – highest mean",
            "undefined at", *(f"{c[6:]} − primary" for c in deltas), "CPU ms/arch"]
    lines = ["## Summary per proxy", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for _, r in summary.sort_values("spearman", ascending=False).iterrows():
        spread = "–" if math.isnan(r.get("low", np.nan)) else (
            f"{r['low']:.2f} ({int(r['low_batch'])}) – {r['high']:.2f} ({int(r['high_batch'])})")
        cells = [r["proxy"], str(r["archs"]), str(r["paper_batch"]),
                 f"{_mean_sd(r)} ({r['seeds']})", _f(r["kendall"]),
                 f"{_f(r['init_sd'])} / {_f(r['batch_sd'])}", spread,
                 r["undefined_batches"] or "–", *(_f(r[c], "+.3f") for c in deltas),
                 _f(r["cpu_ms_per_arch"], ".0f")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def _f(value: float, fmt: str = ".3f") -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else format(value, fmt)


def _mean_sd(r: Mapping[str, Any], key: str = "spearman") -> str:
    if math.isnan(r[key]):
        return "undefined"
    sd = r.get(f"{key}_sd", r.get("sd", np.nan))
    return _f(r[key]) + ("" if sd is None or math.isnan(sd) else f" ± {_f(sd)}")


def markdown(bench_name: str, objective: str, where: str, batches: pd.DataFrame,
             seeds: pd.DataFrame, sources: pd.DataFrame, published: pd.DataFrame,
             checks: pd.DataFrame) -> str:
    """The report's tables as Markdown."""
    lines = [f"# Zero-cost proxy audit on `{bench_name}`", "",
             f"Spearman (± sd over seeds) against `{objective}` on {where}. Cells: "
             "`cells.csv`; plots `spearman_vs_batch.png`, `sources.png`.", "",
             *summary_markdown(summary_table(batches, seeds, sources)),
             "## Batch size (init seed = batch seed = 0, 1, 2; paper's size in bold)", "",
             "| proxy | source | " + " | ".join(["batch: Spearman (min–max)"]) + " |",
             "|---|---|---|"]
    for proxy, part in batches.groupby("proxy", sort=True):
        cells = []
        for _, r in part.sort_values("batch_size").iterrows():
            b = f"**{r['batch_size']}**" if r["batch_size"] == r["paper_batch"] else \
                str(r["batch_size"])
            value = "undefined" if math.isnan(r["spearman"]) else (
                f"{_f(r['spearman'], '.2f')} ({_f(r['spearman_min'], '.2f')}–"
                f"{_f(r['spearman_max'], '.2f')})")
            cells.append(f"{b}: {value}")
        lines.append(f"| {proxy} | {part['source'].iloc[0]} | " + "; ".join(cells) + " |")
    lines += ["", "## Seeds at the paper's batch size", "",
              "| proxy | archs | joint seeds | init seeds (batch seed 0) | batch seeds (init 0) |"
              " CPU ms/arch |", "|---|---|---|---|---|---|"]
    for proxy, part in seeds.groupby("proxy", sort=True):
        by = {r["varied"]: r for _, r in part.iterrows()}
        joint = by.get("joint")
        cols = [f"{_mean_sd(by[k])} (n={by[k]['defined']})" if k in by else "–"
                for k in ("joint", "init", "batch")]
        lines.append(f"| {proxy} | {joint['archs'] if joint is not None else '–'} | "
                     + " | ".join(cols) + f" | {_f(part['cpu_ms_per_arch'].mean(), '.0f')} |")
    if not sources.empty:
        lines += ["", "## Data source at the paper's batch size (joint seeds)", "",
                  "| proxy | source | Spearman ± sd | Kendall tau | minus primary source |",
                  "|---|---|---|---|---|"]
        for _, r in sources.sort_values(["proxy", "primary"], ascending=[True, False]
                                        ).iterrows():
            lines.append(f"| {r['proxy']} | {r['source']} | {_mean_sd(r)} (n={r['defined']}) |"
                         f" {_f(r['kendall'])} | {'–' if r['primary'] else _f(r['delta'], '+.3f')}"
                         " |")
    lines += ["", "## Beside published NAS-Bench-201 CIFAR-10 figures", "",
              "| measure | ours: Spearman ± sd | ours: Kendall | Suite-Zero Spearman | "
              "Abdelfattah Spearman | AZ-NAS Table 1 Kendall | other |",
              "|---|---|---|---|---|---|---|"]
    for _, r in published.iterrows():
        lines.append(f"| {r['proxy']} | {_mean_sd(r)} | {_f(r['kendall'])} | "
                     f"{_f(r['suite_zero_spearman'], '.2f')} | "
                     f"{_f(r['abdelfattah_spearman'], '.2f')} | {_f(r['aznas_kendall'])} | "
                     f"{r['other'] or '–'} |")
    if not checks.empty:
        lines += ["", "## Cells at the tabulation's settings against the tabulated scores", "",
                  "| measure | archs | Spearman vs table | max relative difference |",
                  "|---|---|---|---|"]
        for _, r in checks.iterrows():
            lines.append(f"| {r['proxy']} | {r['archs']} | {r['spearman_vs_table']:.6f} | "
                         f"{r['max_rel_diff']:.2e} |")
    return "\n".join(lines) + "\n"


def plot_batches(batches: pd.DataFrame, path: Path, title: str) -> Path:
    """One panel per proxy: Spearman against batch size (log scale), the range over seeds as
    error bars, the paper's batch size marked."""
    from benchmarks.mplot import pyplot

    plt = pyplot()
    proxies = sorted(set(batches["proxy"]))
    most = int(batches["archs"].max())
    cols = min(5, len(proxies))
    rows = -(-len(proxies) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.5 * rows), squeeze=False,
                             sharey=True)
    for ax, proxy in zip(axes.flat, proxies, strict=False):
        part = batches[batches["proxy"] == proxy].sort_values("batch_size")
        ok = part[np.isfinite(part["spearman"])]
        err = np.vstack([ok["spearman"] - ok["spearman_min"], ok["spearman_max"] - ok["spearman"]])
        err = np.clip(err, 0, None)  # a mean of equal values can round past their min or max
        ax.errorbar(ok["batch_size"], ok["spearman"], yerr=err, marker="o", ms=3, capsize=2)
        paper = ok[ok["batch_size"] == ok["paper_batch"]]
        ax.plot(paper["batch_size"], paper["spearman"], "*", color="black", ms=9, zorder=3)
        for b in part.loc[~np.isfinite(part["spearman"]), "batch_size"]:
            ax.axvline(b, color="tab:red", lw=0.8, ls=":")
        ax.set_xscale("log", base=2)
        sizes = sorted(set(part["batch_size"]))
        ax.set_xticks(sizes, [str(b) for b in sizes], fontsize=6)
        ax.minorticks_off()
        ax.axhline(0, color="grey", lw=0.6)
        archs = int(part["archs"].max())
        ax.set_title(proxy + (f" ({archs} archs)" if archs < most else ""), fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(proxies):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("Spearman", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("batch size", fontsize=8)
    fig.suptitle(f"{title}: mean and range over seeds; star = paper's batch size, red dotted = "
                 "undefined", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_sources(sources: pd.DataFrame, path: Path, title: str) -> Path:
    """Spearman per proxy and data source at the paper's batch size (range over seeds)."""
    from benchmarks.mplot import pyplot

    plt = pyplot()
    proxies = sorted(set(sources["proxy"]))
    names_ = sorted(set(sources["source"]), key=lambda s: (s not in (REAL, DATA_FREE), s))
    width = 0.8 / len(names_)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(proxies) * len(names_) / 2), 3.6))
    x = np.arange(len(proxies))
    for i, source in enumerate(names_):
        part = sources[sources["source"] == source].set_index("proxy").reindex(proxies)
        err = np.clip(np.vstack([part["spearman"] - part["spearman_min"],
                                 part["spearman_max"] - part["spearman"]]), 0, None)
        ax.bar(x + (i - (len(names_) - 1) / 2) * width, part["spearman"], width, yerr=err,
               capsize=2, label=source)
    ax.set_xticks(x, proxies, rotation=45, ha="right", fontsize=8)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_ylabel("Spearman (range over seeds)")
    ax.set_title(f"{title}: data source at the paper's batch size", fontsize=9)
    ax.legend(fontsize=7, ncol=len(names_))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(out: Path, bench: TabularBenchmark, archs: Sequence[str], where: str) -> str:
    """Tables, CSVs and plots of every cell stored under ``out``; returns the Markdown."""
    frame = collect(out, bench)
    batches, seeds, sources = batch_table(frame), seed_table(frame), source_table(frame)
    published = published_table(seeds, tabulated_rows(bench, archs))
    checks = table_check(frame, bench, out)
    frame.to_csv(out / "cells.csv", index=False, float_format="%.6g")
    for name, table in (("summary", summary_table(batches, seeds, sources)),
                        ("batch_size", batches), ("seeds", seeds), ("sources", sources),
                        ("published", published), ("table_check", checks)):
        table.to_csv(out / f"{name}.csv", index=False, float_format="%.6g")
    text = markdown(bench.name, bench.objective, where, batches, seeds, sources, published,
                    checks)
    (out / "README.md").write_text(text)
    plot_batches(batches, out / "spearman_vs_batch.png", bench.name)
    multi = sources.groupby("proxy")["source"].nunique()
    if (multi > 1).any():
        plot_sources(sources[sources["proxy"].isin(multi[multi > 1].index)],
                     out / "sources.png", bench.name)
    return text


# --- the command ---------------------------------------------------------------------------------
def _limits(items: Iterable[str], proxies: Sequence[str]) -> dict[str, int]:
    limits = parse_key_values(items, lambda item: OptionError(
        f"--limit {item!r} must read PROXY=N, e.g. --limit tenas_ntk=50"))
    for proxy, n in limits.items():
        if proxy not in proxies or not isinstance(n, int) or n < 2:
            raise OptionError(f"--limit {proxy}={n}: give an audited proxy ({', '.join(proxies)})"
                              " and a count of at least 2")
    return limits


def command(
    benchmark: str = typer.Option(..., "--benchmark", "-b", help="Benchmark name or directory."),
    out: Path | None = typer.Option(None, help="Directory of the cells and the report "
                                    "(default: results/proxy-audit/<benchmark>)."),
    archs: Path | None = typer.Option(None, "--archs", help="Architecture strings, one a line "
                                      "(default: all the benchmark's cells)."),
    sample: int = typer.Option(100, help="Architectures drawn from --archs (0: all)."),
    sample_seed: int = typer.Option(0, help="Seed of that draw."),
    proxies: str | None = typer.Option(None, help="Comma-separated proxies (default: every "
                                       "live zero-cost proxy)."),
    batch_sizes: str | None = typer.Option(None, help="Batch sizes for every proxy besides its "
                                           "paper's (default: BATCH_GRID around each paper's)."),
    seeds: int = typer.Option(3, help="Joint seeds (init = batch) at every batch size."),
    split_seeds: int = typer.Option(3, help="Init seeds and batch seeds varied one at a time "
                                    "at the paper's batch size."),
    sources: str = typer.Option("gaussian,digits-resized", help="Substitute data sources "
                                "compared with the benchmark's own (comma-separated)."),
    source_seeds: int = typer.Option(3, help="Joint seeds per substitute source."),
    limit: list[str] = typer.Option([], help="PROXY=N: score only the first N architectures "
                                    "of the sample with PROXY (repeatable)."),
    device: str = typer.Option("cpu", help="cpu or cuda."),
    threads: int = typer.Option(1, min=1, help="torch CPU threads."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the cells to score and stop."),
    report_only: bool = typer.Option(False, "--report-only", help="Report the stored cells "
                                     "without scoring any."),
) -> None:
    """Spearman of every live zero-cost proxy against batch size, seeds and data source."""
    import torch

    from benchmarks.live import SUBSTITUTES
    from benchmarks.tabular import load_benchmark

    check_device(device)
    for option, value in (("--seeds", seeds), ("--split-seeds", split_seeds),
                          ("--source-seeds", source_seeds)):
        at_least(option, value, 1)
    at_least("--sample", sample, 0)
    known = audited_proxies()
    chosen = names(proxies) or known
    unknown = [p for p in chosen if p not in known]
    if unknown:
        raise OptionError(f"--proxies: {unknown} are not live zero-cost proxies; choose from "
                          f"{', '.join(known)}")
    source_list = names(sources)
    bad = [s for s in source_list if s not in SUBSTITUTES]
    if bad:
        raise OptionError(f"--sources: unknown {bad}; choose from {', '.join(SUBSTITUTES)}")
    sizes = ints(batch_sizes, "--batch-sizes") or None
    if sizes and min(sizes) < 1:
        raise OptionError("--batch-sizes must be positive")
    limits = _limits(limit, known)
    bench = load_benchmark(benchmark)
    out = output_dir(out or Path("results") / "proxy-audit" / bench.name, "--out")
    sample_archs, where = draw_sample(bench, archs, sample, sample_seed)
    fix_sample(out, sample_archs, where)
    if not report_only:
        cells = expand_grid(chosen, archs=len(sample_archs), batch_sizes=sizes, seeds=seeds,
                            split_seeds=split_seeds, sources=source_list,
                            source_seeds=source_seeds, real=bool(bench.metadata.get("live")),
                            limits=limits)
        if dry_run:
            todo = [c for c in cells if cell_record(c, out) is None]
            for cell in todo:
                typer.echo(cell.name)
            typer.echo(f"{len(todo)} of {len(cells)} cells to score "
                       f"({len(cells) - len(todo)} already in {out})")
            return
        torch.set_num_threads(threads)
        run_cells(cells, bench, sample_archs, out, device)
    typer.echo(write_report(out, bench, sample_archs, where))
