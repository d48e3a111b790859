"""Search-space pruning with supernets ("How Does Supernet Help in NAS?", its pruning section).

    predbench analyze supernet prune --benchmark fmnist-nb201 [--modes optimistic,random] \
        [--factors 0,0.5,0.75,0.9] [--samplers oneshot] [--epochs 10] [--prune-seeds 0,1] \
        [--supernet-seeds 0,1] [--precision-fraction 0.1] [--out results/supernet-pruning]

A pruned space keeps ``round((1 - f) * n)`` of the benchmark's ``n`` distinct architectures
(``--archs`` of them): *optimistic* pruning drops the fraction ``f`` with the worst ground truth
(what a perfect pruner would keep), *random* pruning a uniformly random fraction (one draw per
``--prune-seeds`` entry). For each setting and ``--supernet-seeds`` entry (the seed of the
supernet's initialization, batches and path draws) a supernet is trained on the kept
architectures only (its sampler draws from them: ``SinglePathPredictor.subspace``) and scores
every one of them.
Per setting and snapshot it records, within the kept space: Kendall tau and Spearman against the
ground truth; the best ground truth among the supernet's top-1 and top-10 beside the exact
expected best of 1 and 10 drawn at random; and precision at the top and at the bottom (the
share of the supernet's best, or worst, ``--precision-fraction`` that lies in the ground
truth's best, or worst, fraction), the paper's test of whether a supernet finds bad
architectures better than good ones. Factor 0 (nothing pruned) is trained once and stands for
both modes. Training and scoring resume as in ``benchmarks.analyses.supernet`` (checkpoints,
snapshot score files). Outputs under ``--out/<benchmark>``: ``table.csv``, ``summary.csv`` (mean
and spread over supernet and prune seeds), ``summary.json`` and ``pruning.png``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.analyses.supernet import (
    Options,
    SamplerRun,
    best_of_top,
    pick_archs,
    random_best_of,
    setup_for,
    spearman,
)
from benchmarks.checks import OptionError, floats, ints, names
from benchmarks.live import live_source_for
from benchmarks.metrics import precision_at_k
from benchmarks.tabular import load_benchmark
from benchmarks.threads import limit_threads
from predictors.ranking import kendall_tau

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

MODES = ("optimistic", "random")
#: Samplers that can be confined to a sub-space (FairNAS's fairness and DARTS's mixture cannot).
PRUNABLE = ("oneshot", "rsws", "greedynas")


def kept_count(n: int, factor: float) -> int:
    """How many of ``n`` architectures a space pruned by ``factor`` keeps (at least one)."""
    if not 0.0 <= factor < 1.0:
        raise ValueError(f"a prune factor is the fraction removed, in [0, 1); got {factor}")
    return max(1, int(math.floor((1.0 - factor) * n + 0.5)))


def prune(truth: np.ndarray, factor: float, mode: str,
          rng: np.random.Generator | None = None) -> np.ndarray:
    """Positions (ascending) of the architectures a pruned space keeps: exactly
    ``kept_count(len(truth), factor)`` of them, the best by ``truth`` (optimistic; ties by
    position) or drawn uniformly without replacement (random, from ``rng``)."""
    truth = np.asarray(truth, dtype=float)
    keep = kept_count(len(truth), factor)
    if mode == "optimistic":
        kept = np.argsort(-truth, kind="stable")[:keep]
    elif mode == "random":
        if rng is None:
            raise ValueError("random pruning needs a random generator")
        kept = rng.choice(len(truth), size=keep, replace=False)
    else:
        raise ValueError(f"unknown prune mode {mode!r}; use one of {', '.join(MODES)}")
    return np.sort(kept)


def precision_at_ends(truth: np.ndarray, scores: np.ndarray,
                      fraction: float) -> tuple[float, float]:
    """Precision of the supernet's best and of its worst ``fraction`` (ties as expectations,
    ``benchmarks.metrics.precision_at_k``); a random ranking expects ``fraction`` for both."""
    k = max(1, int(math.floor(fraction * len(truth) + 0.5)))
    return (precision_at_k(truth, scores, k),
            precision_at_k(-np.asarray(truth), -np.asarray(scores), k))


@dataclass(frozen=True)
class Setting:
    """One pruned space: its mode (``none`` for the whole space), factor and prune seed."""

    mode: str
    factor: float
    seed: int = 0

    @property
    def tag(self) -> str:
        if self.mode == "none":
            return "-full"
        return f"-{self.mode}{self.factor:g}" + (f"-s{self.seed}" if self.mode == "random" else "")


def settings(modes: list[str], factors: list[float], seeds: list[int]) -> list[Setting]:
    """Every pruned space asked for; factor 0 once, as the unpruned space."""
    out = [Setting("none", 0.0)] if 0.0 in factors else []
    for mode in modes:
        for factor in (f for f in factors if f > 0):
            out += [Setting(mode, factor, s) for s in (seeds if mode == "random" else [0])]
    return out


def analyze(args: Options, pruning: PruneOptions) -> dict[str, Any]:
    bench = load_benchmark(args.benchmark)
    rows = pick_archs(bench, args.archs, args.seed)
    archs = [bench.archs[i] for i in rows]
    keys = [bench.space.to_string(a) for a in archs]
    truth = bench.final()[rows]
    out_dir = Path(args.out) / bench.name
    out_dir.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    with limit_threads(args.threads):
        for seed in pruning.supernet_seeds:
            setup = setup_for(bench, dataclasses.replace(args, seed=seed))
            for name in args.samplers:
                for setting in settings(pruning.modes, pruning.factors, pruning.seeds):
                    rng = np.random.default_rng([args.seed, setting.seed, 7919])
                    kept = prune(truth, setting.factor, "optimistic" if setting.mode == "none"
                                 else setting.mode, rng)
                    records += _setting_records(name, setting, setup, args, pruning,
                                                [keys[i] for i in kept],
                                                [archs[i] for i in kept], truth[kept])
    summary = {"benchmark": bench.name, "objective": bench.objective, "archs": len(rows),
               "samplers": args.samplers, "epochs": args.epochs,
               "precision_fraction": pruning.precision_fraction, "truth_best": float(truth.max()),
               "live_source": live_source_for(bench.metadata).name, "device": args.device,
               "seed": args.seed, "supernet_seeds": pruning.supernet_seeds,
               "prune_seeds": pruning.seeds}
    write_outputs(out_dir, records, summary)
    return {"records": records, "summary": summary}


def _setting_records(name: str, setting: Setting, setup: Any, args: Options,
                     pruning: PruneOptions, keys: list[str], archs: list,
                     truth: np.ndarray) -> list[dict[str, Any]]:
    """Train one sampler's supernet on one pruned space and measure every snapshot."""
    run = SamplerRun(name, setup, args, extra={"subspace": keys}, tag=setting.tag)
    out = []
    for epoch in args.epochs:
        scores, _ = run.snapshot(epoch, keys, archs).values(keys)
        top, bottom = precision_at_ends(truth, scores, pruning.precision_fraction)
        rec = {"sampler": name, "mode": setting.mode, "factor": setting.factor,
               "prune_seed": setting.seed, "supernet_seed": setup.seed, "epoch": epoch,
               "kept": len(keys),
               "kendall": kendall_tau(truth, scores), "spearman": spearman(truth, scores),
               "top1_best_truth": best_of_top(scores, truth, 1),
               "top10_best_truth": best_of_top(scores, truth, 10),
               "random_top1_best_truth": random_best_of(truth, 1),
               "random_top10_best_truth": random_best_of(truth, min(10, len(truth))),
               "kept_best_truth": float(truth.max()),
               "precision_top": top, "precision_bottom": bottom}
        log.info("%s %s seed %d epoch %d: %d kept, tau %.3f, precision top %.2f bottom %.2f",
                 name, setting.tag[1:], setup.seed, epoch, len(keys), rec["kendall"], top,
                 bottom)
        out.append(rec)
    return out


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over supernet and prune seeds (``runs`` of them); the
    unpruned space joins both modes."""
    import pandas as pd

    full = table[table["mode"] == "none"]
    parts = [table[table["mode"] != "none"]]
    parts += [full.assign(mode=mode) for mode in MODES if (table["mode"] == mode).any()]
    both = pd.concat(parts, ignore_index=True)
    metrics = ["kendall", "spearman", "top1_best_truth", "top10_best_truth",
               "random_top10_best_truth", "kept_best_truth", "precision_top",
               "precision_bottom"]
    grouped = both.groupby(["sampler", "mode", "factor", "epoch", "kept"])[metrics]
    mean, std = grouped.mean(), grouped.std(ddof=1)
    out = mean.join(std.add_suffix("_std")).join(grouped.size().rename("runs"))
    return out.reset_index().sort_values(["sampler", "epoch", "mode", "factor"])


def write_outputs(out_dir: Path, records: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    import pandas as pd

    table = pd.DataFrame(records)
    table.to_csv(out_dir / "table.csv", index=False)
    agg = summarize(table)
    agg.to_csv(out_dir / "summary.csv", index=False)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(out_dir / "pruning.png", agg, summary)


def plot(path: Path, agg: pd.DataFrame, summary: dict[str, Any]) -> None:
    """Against the prune factor: Kendall tau; top-1, top-10 and random top-10 best truth;
    precision at the top and the bottom. One line per mode (last epoch, each sampler)."""
    from benchmarks.mplot import pyplot

    plt = pyplot()
    last = agg[agg["epoch"] == agg["epoch"].max()]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    styles = {"optimistic": "-", "random": "--"}
    for (sampler, mode), rows in last.groupby(["sampler", "mode"]):
        rows = rows.sort_values("factor")
        label = f"{sampler}, {mode}"
        ls = styles.get(str(mode), ":")
        x = rows["factor"]
        axes[0].errorbar(x, rows["kendall"], yerr=rows["kendall_std"].fillna(0), ls=ls,
                         marker="o", capsize=3, label=label)
        axes[1].plot(x, rows["top1_best_truth"], ls=ls, marker="o", label=f"{label}: top-1")
        axes[1].plot(x, rows["top10_best_truth"], ls=ls, marker="s", label=f"{label}: top-10")
        axes[1].plot(x, rows["random_top10_best_truth"], ls=ls, marker="x", color="grey",
                     label=f"{label}: random top-10")
        axes[2].plot(x, rows["precision_top"], ls=ls, marker="^", label=f"{label}: top")
        axes[2].plot(x, rows["precision_bottom"], ls=ls, marker="v", label=f"{label}: bottom")
    axes[1].axhline(summary["truth_best"], color="black", lw=0.8, ls=":",
                    label="best in the benchmark")
    frac = summary["precision_fraction"]
    axes[2].axhline(frac, color="grey", lw=0.8, ls=":", label="random ranking")
    titles = ("Kendall tau within the kept space", "best ground truth found",
              f"precision of the supernet's best / worst {frac:.0%}")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xlabel("prune factor (fraction of the space removed)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[1].set_ylabel(summary["objective"])
    fig.suptitle(f"Supernets on pruned spaces: {summary['benchmark']}, "
                 f"{summary['archs']} architectures, epoch {int(last['epoch'].max())}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- command line ---------------------------------------------------------------------------
@dataclass
class PruneOptions:
    """The pruning grid: modes, factors, random prune seeds, precision fraction, and the
    supernet seeds each setting is trained with."""

    modes: list[str]
    factors: list[float]
    seeds: list[int]
    precision_fraction: float
    supernet_seeds: list[int]


def prune_options(modes: str, factors: str, seeds: str, precision_fraction: float,
                  samplers: list[str], supernet_seeds: str = "0") -> PruneOptions:
    """Parse and check the pruning options (``OptionError`` naming the fix)."""
    chosen = names(modes)
    if not chosen or set(chosen) - set(MODES):
        raise OptionError(f"--modes takes {', '.join(MODES)}; got {modes!r}")
    values = sorted(set(floats(factors, "--factors")))
    prune_seeds = ints(seeds, "--prune-seeds")
    net_seeds = list(dict.fromkeys(ints(supernet_seeds, "--supernet-seeds")))
    if not values or any(not 0.0 <= v < 1.0 for v in values):
        raise OptionError(f"--factors takes fractions removed, each in [0, 1); got {factors!r}")
    if not prune_seeds or not net_seeds:
        raise OptionError("--prune-seeds and --supernet-seeds need at least one seed each")
    if not 0.0 < precision_fraction < 1.0:
        raise OptionError(f"--precision-fraction must lie in (0, 1); got {precision_fraction}")
    refused = [s for s in samplers if s not in PRUNABLE]
    if refused:
        raise OptionError(f"sampler(s) {refused} cannot train on a pruned space; use "
                          f"{', '.join(PRUNABLE)}")
    return PruneOptions(chosen, values, prune_seeds, precision_fraction, net_seeds)
