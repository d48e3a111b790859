"""How far can a supernet's ranking be trusted? Weight-sharing predictors against ground truth.

    predbench analyze supernet analyze --benchmark fmnist-nb201 \
        [--samplers oneshot,rsws,greedynas,fairnas,darts_alpha] [--epochs 1,3,10,30] \
        [--steps-per-epoch 157] [--archs 1000] [--rank-archs 1000] [--finetune-steps 0,5] \
        [--out results/supernet]
    predbench analyze supernet score [--order 1000] [...same options]
    predbench bench supernet [--steps 20] [--archs 5]

``analyze`` trains each sampler's supernet once, snapshot by snapshot (each snapshot resumes the
previous one's checkpoint), and after every snapshot scores ``--archs`` distinct benchmark
architectures. Per sampler and epoch it records (a) the mean supernet accuracy of the subnets (%),
(b) Kendall tau and Spearman against the benchmark's final objective over the first
``--rank-archs`` of them, (c) the best ground-truth value among the supernet's top-1 and top-10
of all ``--archs`` next to the expected best of a random 1 and 10 (the analyses of "How Does
Supernet Help in Neural Architecture Search?"), the supernet's bias (tau of its score against
parameter count beside the ground truth's) and, per operation, the mean rank of architectures by
how many edges use it (score and ground truth). At the last snapshot it also measures Kendall tau
after few-shot fine-tuning of each subnet. Outputs: ``table.csv``, ``op_ranks.csv``,
``finetune.csv``, ``summary.json`` and plots, under ``--out/<benchmark>``.

Both training and scoring resume: supernets checkpoint into ``--out/checkpoints`` and every
snapshot's scores go to a file in ``--out/cache`` (``benchmarks.analyses.supernet_snapshots``) after
each chunk of architectures. ``score`` fills that cache for the first ``--order`` architectures of
the Fashion-MNIST build order, the benchmark's own architectures, before their ground truth
exists; ``analyze`` then only correlates. Times are recorded as wall and as process CPU seconds
(on one thread, what an idle core would take, whatever else shares the machine).

``predbench bench supernet`` reports fit seconds (per step) and query seconds per architecture
of each sampler on real Fashion-MNIST batches for a network configuration, without any
benchmark: NB201's Fashion-MNIST network (``--channels``, ``--cells-per-stage``), or with
``--space nb101`` / ``darts`` the CIFAR-10 networks NAS-Bench-Suite-Zero scored, on Fashion-MNIST
resized to them (the ``fashion-mnist-resized`` substitute). A sampler the space does not define
is reported as refused, with the reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import typer

from benchmarks import checks
from benchmarks.analyses.supernet_snapshots import Snapshot
from benchmarks.builder.recipe import BENCHMARK_RECIPE
from benchmarks.checks import OptionError, ints, names
from benchmarks.live import dataset_source, live_source_for
from benchmarks.tabular import load_benchmark
from benchmarks.tabular.format import TabularBenchmark
from benchmarks.threads import limit_threads
from predictors import FitContext, QueryContext, make
from predictors.base import LiveSource
from predictors.ranking import kendall_tau
from predictors.spaces import get_space
from predictors.spaces.nb201 import OPS

log = logging.getLogger(__name__)

SAMPLERS = ("oneshot", "rsws", "greedynas", "fairnas", "darts_alpha")
FMNIST_NETWORK = {"channels": 8, "cells_per_stage": 3, "in_channels": 1, "num_classes": 10,
                  "stem_stride": 2, "input_shape": [1, 28, 28]}


# --- measures -------------------------------------------------------------------------------
def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    return float(stats.spearmanr(a, b).statistic)


def best_of_top(scores: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Best ground truth among the ``k`` highest scores (ties broken by position)."""
    order = np.argsort(-scores, kind="stable")[:k]
    return float(truth[order].max())


def random_best_of(truth: np.ndarray, k: int) -> float:
    """Expected best ground truth of ``k`` architectures drawn without replacement (exact)."""
    from scipy.special import gammaln

    n = len(truth)
    t = np.sort(truth)  # the i-th smallest is the best with prob C(i, k-1) / C(n, k)
    i = np.arange(n)
    logw = np.full(n, -np.inf)
    ok = i >= k - 1
    logw[ok] = (gammaln(i[ok] + 1) - gammaln(k) - gammaln(i[ok] - k + 2)
                - (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)))
    return float(np.sum(np.exp(logw) * t))


def op_mean_ranks(archs: Sequence, values: np.ndarray) -> dict[str, float]:
    """Per op: mean rank (1 = best) of the architectures, weighted by edges using that op."""
    from scipy import stats

    ranks = stats.rankdata(-values, method="average")
    counts = np.array([[a.spec.count(op) for op in OPS] for a in archs], dtype=float)
    return {op: float((counts[:, j] * ranks).sum() / max(counts[:, j].sum(), 1.0))
            for j, op in enumerate(OPS)}


# --- the analysis ---------------------------------------------------------------------------
def pick_archs(bench: TabularBenchmark, n: int, seed: int) -> np.ndarray:
    """``n`` benchmark rows with distinct canonical forms and a finite objective."""
    truth = bench.final()
    keys = bench.canonical_keys
    order = np.random.default_rng(seed).permutation(len(bench))
    rows, seen = [], set()
    for i in order:
        if np.isfinite(truth[i]) and keys[i] not in seen:
            seen.add(keys[i])
            rows.append(int(i))
        if len(rows) == n:
            break
    return np.asarray(rows)


def train_params(name: str, args: Options) -> dict[str, Any]:
    params: dict[str, Any] = {"steps_per_epoch": int(args.steps_per_epoch),
                              "batch_size": args.batch_size}
    if name != "darts_alpha":
        params.update(bn_batches=args.bn_batches, eval_batches=args.eval_batches,
                      eval_batch_size=args.eval_batch_size)
    return params


@dataclass
class Setup:
    """What a supernet is trained and scored on: space, network, data, device, seed."""

    space: Any
    network: dict[str, Any]
    live: LiveSource
    device: str
    seed: int

    def fit_ctx(self) -> FitContext:
        return FitContext(space=self.space, rng=np.random.default_rng(self.seed),
                          device=self.device, live=self.live, network=self.network)

    def query_ctx(self) -> QueryContext:
        return QueryContext(space=self.space, rng=np.random.default_rng(self.seed + 1),
                            device=self.device, live=self.live, network=self.network)

    def identity(self) -> dict[str, Any]:
        return {"space": self.space.name, "network": self.network, "live": self.live.name,
                "seed": self.seed}


class SamplerRun:
    """One sampler's supernet over its snapshots, each scored through a ``Snapshot`` file."""

    def __init__(self, name: str, setup: Setup, args: Options,
                 extra: dict[str, Any] | None = None, tag: str = "") -> None:
        """``extra``: further predictor parameters (e.g. a pruned ``subspace``); ``tag``
        names the run's snapshot files."""
        self.name, self.setup, self.args = name, setup, args
        self.extra, self.tag = dict(extra or {}), tag
        self.cache_dir = Path(args.cache_dir or Path(args.out) / "cache")
        self.ckpt_dir = str(args.checkpoint_dir or Path(args.out) / "checkpoints")
        self.pred: Any = None
        self.prev_steps = 0

    def _params(self, epochs: int) -> dict[str, Any]:
        return {"epochs": epochs, **train_params(self.name, self.args), **self.extra}

    def _fit(self, epochs: int) -> tuple[float, float, int, int]:
        """Fit (resuming from the checkpoint): wall s, CPU s, steps trained now, total steps."""
        self.pred = make(self.name, checkpoint_dir=self.ckpt_dir, **self._params(epochs))
        wall, cpu = time.perf_counter(), time.process_time()
        self.pred.fit(self.setup.fit_ctx())
        info = self.pred.fit_info_
        return (time.perf_counter() - wall, time.process_time() - cpu,
                info["steps"] - info["resumed_from"], info["steps"])

    def _query(self, archs: list) -> tuple[np.ndarray, np.ndarray | None]:
        scores = self.pred.query(archs, self.setup.query_ctx()).mean
        acc = getattr(self.pred, "last_query_", {}).get("acc")
        return scores, (None if acc is None else np.asarray(acc))

    def snapshot(self, epochs: int, keys: list[str], archs: list,
                 finetune_steps: int = 0) -> Snapshot:
        """The snapshot after ``epochs`` cumulative epochs, with every one of ``keys`` scored."""
        config = {"sampler": self.name, "params": self._params(epochs),
                  "finetune_steps": finetune_steps, **self.setup.identity()}
        label = (f"{self.name}{self.tag}-e{epochs}"
                 + (f"-ft{finetune_steps}" if finetune_steps else ""))
        snap = Snapshot.open(self.cache_dir, config, label)
        loaded = self.pred is not None and self.pred.epochs == epochs
        if not snap.trained or (snap.missing(keys) and not loaded):
            wall, cpu, trained, total = self._fit(epochs)
            if not snap.trained:
                new = total - self.prev_steps  # steps since the previous snapshot
                share = new / trained if trained else math.nan
                snap.steps, snap.train_wall_s, snap.train_cpu_s = total, wall * share, cpu * share
                snap.save()
        self.prev_steps = int(snap.steps)
        if self.pred is not None and hasattr(self.pred, "finetune_steps"):
            self.pred.finetune_steps = finetune_steps
        snap.score(keys, archs, self._query, desc=label)
        return snap


def finetune_subset(keys: Sequence[str], n: int) -> list[int]:
    """Positions of the ``n`` keys with the smallest SHA-256 digests, ascending.

    The subset depends on the set of keys alone, not on their order, so ``score`` (build
    order) and ``analyze`` (a seeded permutation of the benchmark) fine-tune the same
    architectures whenever they see the same ones, and the cached scores are reused.
    """
    digest = [hashlib.sha256(k.encode()).hexdigest() for k in keys]
    return sorted(sorted(range(len(keys)), key=digest.__getitem__)[:n])


def snapshot_records(name: str, setup: Setup, args: Options, keys: list[str],
                     archs: list) -> tuple[list[Snapshot], list[Snapshot]]:
    """Every epoch snapshot of one sampler, and its fine-tuned snapshots (last epoch,
    ``--finetune-archs`` architectures chosen by ``finetune_subset``; zero steps is the plain
    last snapshot)."""
    run = SamplerRun(name, setup, args)
    snaps = [run.snapshot(epoch, keys, archs) for epoch in args.epochs]
    tuned: list[Snapshot] = []
    if name != "darts_alpha":
        subset = finetune_subset(keys, args.finetune_archs)
        sub_keys, sub_archs = [keys[i] for i in subset], [archs[i] for i in subset]
        for steps in args.finetune_steps:
            tuned.append(snaps[-1] if steps == 0 else
                         run.snapshot(args.epochs[-1], sub_keys, sub_archs, steps))
    return snaps, tuned


def setup_for(bench: TabularBenchmark | None, args: Options) -> Setup:
    """The benchmark's network and data; without one, those of the Fashion-MNIST recipe."""
    if bench is not None:
        return Setup(bench.space, dict(bench.metadata["network"]),
                     live_source_for(bench.metadata), args.device, args.seed)
    from benchmarks.builder.recipe import get_recipe
    from benchmarks.builder.train import INPUT_SHAPE

    recipe = get_recipe(args.recipe)
    live = {**recipe.splits.as_dict(), "dataset": "fashion-mnist"}
    return Setup(get_space("nb201"), {**recipe.network_kwargs(), "input_shape": list(INPUT_SHAPE)},
                 dataset_source("fashion-mnist", live), args.device, args.seed)


def score_order(args: Options) -> dict[str, int]:
    """Fill the snapshot cache for the first ``--order`` architectures of the Fashion-MNIST
    build order: the expensive part of ``analyze``, which needs no ground truth."""
    from benchmarks.builder.order import arch_order

    setup = setup_for(None, args)
    archs = list(arch_order()[: args.order])
    keys = [setup.space.to_string(a) for a in archs]
    done = {}
    with limit_threads(args.threads):
        for name in args.samplers:
            snaps, tuned = snapshot_records(name, setup, args, keys, archs)
            unique = {id(s): s for s in snaps + tuned}.values()  # zero steps is the last one
            done[name] = sum(s.query_count for s in unique)
            log.info("%s: %d snapshot scores cached", name, done[name])
    return done


def analyze(args: Options) -> dict[str, Any]:
    bench = load_benchmark(args.benchmark)
    setup = setup_for(bench, args)
    rows = pick_archs(bench, args.archs, args.seed)
    if len(rows) < args.archs:
        log.warning("benchmark has only %d distinct architectures; using them all", len(rows))
    archs = [bench.archs[i] for i in rows]
    keys = [bench.space.to_string(a) for a in archs]
    truth = bench.final()[rows]
    n_rank = min(args.rank_archs, len(rows))
    params = (bench.static_value("params", rows) if "params" in bench.static_names else None)
    out_dir = Path(args.out) / bench.name
    out_dir.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    op_rows: list[dict[str, Any]] = []
    ft_rows: list[dict[str, Any]] = []
    random_top = {k: random_best_of(truth, k) for k in (1, 10)}
    summary: dict[str, Any] = {"benchmark": bench.name, "objective": bench.objective,
                               "archs": len(rows), "rank_archs": n_rank, "device": args.device,
                               "live_source": setup.live.name, "random_best": random_top,
                               "truth_best": float(truth.max())}
    if params is not None:
        summary["truth_params_kendall"] = kendall_tau(truth[:n_rank], params[:n_rank])
    op_rows.append({"sampler": "ground_truth", "epoch": bench.epochs,
                    **op_mean_ranks(archs[:n_rank], truth[:n_rank])})
    with limit_threads(args.threads):
        runs = {name: snapshot_records(name, setup, args, keys, archs) for name in args.samplers}
    subset = finetune_subset(keys, args.finetune_archs)  # the fine-tuned architectures
    for name, (snaps, tuned) in runs.items():
        fit_wall = fit_cpu = 0.0
        for epoch, snap in zip(args.epochs, snaps, strict=True):
            scores, acc = snap.values(keys)
            fit_wall += snap.train_wall_s or math.nan
            fit_cpu += snap.train_cpu_s or math.nan
            n = max(snap.query_count, 1)
            rec = {"sampler": name, "epoch": epoch, "steps": snap.steps,
                   "fit_seconds_cumulative": fit_wall, "fit_cpu_seconds_cumulative": fit_cpu,
                   "query_seconds_per_arch": snap.query_wall_s / n,
                   "query_cpu_seconds_per_arch": snap.query_cpu_s / n,
                   "mean_subnet_acc": 100 * float(np.nanmean(acc)) if np.isfinite(acc).any()
                   else float("nan"),
                   "kendall": kendall_tau(truth[:n_rank], scores[:n_rank]),
                   "spearman": spearman(truth[:n_rank], scores[:n_rank]),
                   "top1_best_truth": best_of_top(scores, truth, 1),
                   "top10_best_truth": best_of_top(scores, truth, 10),
                   "random_top1_best_truth": random_top[1],
                   "random_top10_best_truth": random_top[10]}
            if params is not None:
                rec["score_params_kendall"] = kendall_tau(scores[:n_rank], params[:n_rank])
            records.append(rec)
            op_rows.append({"sampler": name, "epoch": epoch,
                            **op_mean_ranks(archs[:n_rank], scores[:n_rank])})
            log.info("%s epoch %d: tau %.3f spearman %.3f", name, epoch, rec["kendall"],
                     rec["spearman"])
        for steps, snap in zip(args.finetune_steps if tuned else [], tuned, strict=True):
            scores, _ = snap.values([keys[i] for i in subset])
            ft_rows.append({"sampler": name, "epoch": args.epochs[-1], "finetune_steps": steps,
                            "archs": len(subset), "kendall": kendall_tau(truth[subset], scores)})
    write_outputs(out_dir, records, op_rows, ft_rows, summary)
    return {"records": records, "op_ranks": op_rows, "finetune": ft_rows, "summary": summary}


def write_outputs(out_dir: Path, records: list[dict], op_rows: list[dict], ft_rows: list[dict],
                  summary: dict[str, Any]) -> None:
    import pandas as pd

    table = pd.DataFrame(records)
    table.to_csv(out_dir / "table.csv", index=False)
    pd.DataFrame(op_rows).to_csv(out_dir / "op_ranks.csv", index=False)
    pd.DataFrame(ft_rows).to_csv(out_dir / "finetune.csv", index=False)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(out_dir, table, pd.DataFrame(op_rows))


def plot(out_dir: Path, table, ops) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(18, 4))
    panels = [("mean_subnet_acc", "mean supernet accuracy of subnets (%)"),
              ("kendall", "Kendall tau vs ground truth"),
              ("spearman", "Spearman vs ground truth")]
    for ax, (col, title) in zip(axes, panels, strict=False):
        for name, grp in table.groupby("sampler"):
            ax.plot(grp["epoch"], grp[col], marker="o", label=name)
        ax.set_title(title)
        ax.set_xlabel("supernet epochs")
    ax = axes[3]
    for name, grp in table.groupby("sampler"):
        line = ax.plot(grp["epoch"], grp["top10_best_truth"], marker="o", label=f"{name} top-10")
        ax.plot(grp["epoch"], grp["top1_best_truth"], marker="x", linestyle="--",
                color=line[0].get_color())
    ax.axhline(float(table["random_top10_best_truth"].iloc[0]), color="k", label="random 10")
    ax.axhline(float(table["random_top1_best_truth"].iloc[0]), color="k", linestyle="--",
               label="random 1")
    ax.set_title("best ground truth of top-1 (--) / top-10")
    ax.set_xlabel("supernet epochs")
    axes[0].legend(fontsize=7)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out_dir / "supernet_over_epochs.png", dpi=120)
    plt.close(fig)
    last = ops.sort_values("epoch").groupby("sampler").tail(1).set_index("sampler")[list(OPS)]
    ax = last.T.plot.bar(figsize=(9, 4))
    ax.set_ylabel("mean rank (1 = best)")
    ax.set_title("per-operation mean rank, last snapshot vs ground truth")
    ax.figure.tight_layout()
    ax.figure.savefig(out_dir / "op_mean_rank.png", dpi=120)
    plt.close(ax.figure)


# --- timing ---------------------------------------------------------------------------------
def fashion_mnist_live() -> LiveSource:
    return dataset_source("fashion-mnist", {})


def timing(args: Options) -> list[dict[str, Any]]:
    from predictors.base import DataError

    space = get_space(args.space)
    if args.space == "nb201":
        network = dict(FMNIST_NETWORK, channels=args.channels,
                       cells_per_stage=args.cells_per_stage)
        live = fashion_mnist_live()
    else:
        from benchmarks.timings.zero_cost_throughput import live_source, network_for

        network = network_for({"space": args.space})
        live = live_source("fashion-mnist", tuple(network["input_shape"]),
                           network["num_classes"])
    live.batch("train", 8, 0)  # load and normalize the dataset outside the timed calls
    archs = [space.sample(np.random.default_rng([args.seed, i])) for i in range(args.archs)]
    args.steps_per_epoch = args.steps
    out = []
    for name in args.samplers:
        pred = make(name, epochs=1, **train_params(name, args))
        fctx = FitContext(space=space, rng=np.random.default_rng(args.seed), device=args.device,
                          live=live, network=network)
        qctx = QueryContext(space=space, rng=np.random.default_rng(args.seed + 1),
                            device=args.device, live=live, network=network)
        start, cpu = time.perf_counter(), time.process_time()
        try:
            pred.fit(fctx)
        except DataError as exc:
            out.append({"sampler": name, "space": args.space, "refused": str(exc)})
            continue
        fit_s, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        pred.query(archs, qctx)
        query_s = (time.perf_counter() - start) / len(archs)
        query_cpu = (time.process_time() - cpu) / len(archs)
        row = {"sampler": name, "space": args.space, "steps": args.steps,
               "batch_size": args.batch_size, "fit_seconds": fit_s,
               "fit_seconds_per_step": fit_s / args.steps,
               "fit_cpu_seconds_per_step": fit_cpu / args.steps,
               "train_seconds_per_step": pred.fit_info_["train_seconds"] / args.steps,
               "query_seconds_per_arch": query_s, "query_cpu_seconds_per_arch": query_cpu,
               "device": args.device}
        out.append(row)
    return out


# --- command line ---------------------------------------------------------------------------
@dataclass
class Options:
    """What the analyses are told on the command line (the options of the same names)."""

    samplers: list[str] = field(default_factory=lambda: list(SAMPLERS))
    batch_size: int = 64
    bn_batches: int = 2
    eval_batches: int = 2
    eval_batch_size: int = 256
    device: str = "cpu"
    seed: int = 0
    threads: int = 1
    epochs: list[int] = field(default_factory=lambda: [1, 3, 10, 30])
    steps_per_epoch: int = 157
    finetune_steps: list[int] = field(default_factory=lambda: [0, 5])
    finetune_archs: int = 200
    out: str = "results/supernet"
    cache_dir: str | None = None
    checkpoint_dir: str | None = None
    benchmark: str = ""
    archs: int = 1000
    rank_archs: int = 1000
    order: int = 1000
    recipe: str = BENCHMARK_RECIPE
    steps: int = 20
    channels: int = 8
    cells_per_stage: int = 3
    space: str = "nb201"


def _samplers(text: str) -> list[str]:
    chosen = names(text)
    unknown = set(chosen) - set(SAMPLERS)
    if unknown:
        raise OptionError(f"unknown sampler(s) {sorted(unknown)}; use {', '.join(SAMPLERS)}")
    return chosen


def _epochs(text: str) -> list[int]:
    epochs = ints(text, "--epochs")
    if epochs != sorted(epochs):
        raise OptionError("--epochs must be ascending (each snapshot resumes the previous one)")
    return epochs


SamplersOpt = typer.Option(",".join(SAMPLERS), "--samplers",
                           help="Comma-separated samplers.")
BatchSizeOpt = typer.Option(64, "--batch-size", help="Training batch size.")
BnBatchesOpt = typer.Option(2, "--bn-batches", help="Batches re-estimating batch norm.")
EvalBatchesOpt = typer.Option(2, "--eval-batches", help="Validation batches per subnet.")
EvalBatchSizeOpt = typer.Option(256, "--eval-batch-size", help="Validation batch size.")
DeviceOpt = typer.Option(None, "--device", help="cpu or cuda (default: cuda if any).")
SeedOpt = typer.Option(0, "--seed", help="Seed of sampling and training.")
ThreadsOpt = typer.Option(1, "--threads", help="Native threads (torch, OpenMP, BLAS).")
EpochsOpt = typer.Option("1,3,10,30", "--epochs",
                         help="Snapshots (cumulative supernet epochs), ascending.")
StepsPerEpochOpt = typer.Option(
    157, "--steps-per-epoch", help="Steps of one supernet epoch (157 batches of 64 = one pass "
    "over the benchmark's 10,000 training images).")
FinetuneStepsOpt = typer.Option("0,5", "--finetune-steps", help="Comma-separated step counts.")
FinetuneArchsOpt = typer.Option(200, "--finetune-archs", help="Architectures fine-tuned.")
OutOpt = typer.Option("results/supernet", "--out", help="Output directory.")
CacheDirOpt = typer.Option(None, "--cache-dir", help="Snapshot score files [OUT/cache]; shared "
                           "by analyses and `score`.")
CheckpointDirOpt = typer.Option(None, "--checkpoint-dir",
                                help="Supernet checkpoints [OUT/checkpoints].")

app = typer.Typer(no_args_is_help=True,
                  help="How far a supernet's ranking can be trusted (resumable).")


def _options(args: dict[str, Any]) -> Options:
    """``Options`` from a command's arguments: list options parsed, the device checked."""
    return Options(**{**args, "samplers": _samplers(args["samplers"]),
                      "device": checks.device(args["device"]), "epochs": _epochs(args["epochs"]),
                      "finetune_steps": ints(args["finetune_steps"], "--finetune-steps")})


@app.command("analyze")
def analyze_command(
    benchmark: str = typer.Option(..., help="Benchmark name or directory."),
    archs: int = typer.Option(1000, help="Distinct benchmark architectures scored."),
    rank_archs: int = typer.Option(1000, help="Of them, those ranked against ground truth."),
    samplers: str = SamplersOpt, batch_size: int = BatchSizeOpt, bn_batches: int = BnBatchesOpt,
    eval_batches: int = EvalBatchesOpt, eval_batch_size: int = EvalBatchSizeOpt,
    device: str | None = DeviceOpt, seed: int = SeedOpt, threads: int = ThreadsOpt,
    epochs: str = EpochsOpt, steps_per_epoch: int = StepsPerEpochOpt,
    finetune_steps: str = FinetuneStepsOpt, finetune_archs: int = FinetuneArchsOpt,
    out: str = OutOpt, cache_dir: str | None = CacheDirOpt,
    checkpoint_dir: str | None = CheckpointDirOpt,
) -> dict[str, Any]:
    """Train each sampler's supernet snapshot by snapshot and correlate with ground truth."""
    return analyze(_options(locals()))


@app.command("score")
def score_command(
    order: int = typer.Option(
        1000, help="Score the first N architectures of the Fashion-MNIST build order."),
    recipe: str = typer.Option(BENCHMARK_RECIPE, help="Build recipe (network, data)."),
    samplers: str = SamplersOpt, batch_size: int = BatchSizeOpt, bn_batches: int = BnBatchesOpt,
    eval_batches: int = EvalBatchesOpt, eval_batch_size: int = EvalBatchSizeOpt,
    device: str | None = DeviceOpt, seed: int = SeedOpt, threads: int = ThreadsOpt,
    epochs: str = EpochsOpt, steps_per_epoch: int = StepsPerEpochOpt,
    finetune_steps: str = FinetuneStepsOpt, finetune_archs: int = FinetuneArchsOpt,
    out: str = OutOpt, cache_dir: str | None = CacheDirOpt,
    checkpoint_dir: str | None = CheckpointDirOpt,
) -> dict[str, int]:
    """Fill the snapshot cache for the build order's architectures ahead of ground truth."""
    return score_order(_options(locals()))


@app.command("prune")
def prune_command(
    benchmark: str = typer.Option(..., help="Benchmark name or directory."),
    archs: int = typer.Option(1000, help="Distinct benchmark architectures (the whole space)."),
    modes: str = typer.Option("optimistic,random", help="Pruning: optimistic (drop the worst "
                              "ground truth) and/or random."),
    factors: str = typer.Option("0,0.5,0.75,0.9", help="Prune factors: fractions removed."),
    prune_seeds: str = typer.Option("0", "--prune-seeds", help="Draws of random pruning."),
    supernet_seeds: str = typer.Option(
        "0", "--supernet-seeds", help="Seeds each pruned space's supernet is trained with."),
    precision_fraction: float = typer.Option(
        0.1, help="Precision at the top and bottom of this fraction of the kept space."),
    samplers: str = typer.Option("oneshot", "--samplers", help="oneshot, rsws, greedynas."),
    batch_size: int = BatchSizeOpt, bn_batches: int = BnBatchesOpt,
    eval_batches: int = EvalBatchesOpt, eval_batch_size: int = EvalBatchSizeOpt,
    device: str | None = DeviceOpt, seed: int = SeedOpt, threads: int = ThreadsOpt,
    epochs: str = typer.Option("10", "--epochs", help="Snapshots (cumulative epochs)."),
    steps_per_epoch: int = StepsPerEpochOpt,
    out: str = typer.Option("results/supernet-pruning", "--out", help="Output directory."),
    cache_dir: str | None = CacheDirOpt, checkpoint_dir: str | None = CheckpointDirOpt,
) -> dict[str, Any]:
    """Train supernets on optimistically and randomly pruned spaces; ranking, best found and
    precision at the top vs the bottom against the prune factor."""
    args = dict(locals())
    from benchmarks.analyses import supernet_pruning

    grid = {k: args.pop(k) for k in ("modes", "factors", "prune_seeds", "precision_fraction",
                                     "supernet_seeds")}
    options = _options({**args, "finetune_steps": "0"})
    pruning = supernet_pruning.prune_options(grid["modes"], grid["factors"],
                                             grid["prune_seeds"], grid["precision_fraction"],
                                             options.samplers, grid["supernet_seeds"])
    return supernet_pruning.analyze(options, pruning)


def timing_command(
    steps: int = typer.Option(20, help="Training steps timed."),
    archs: int = typer.Option(5, help="Architectures queried."),
    channels: int = typer.Option(8, help="Network width C (nb201)."),
    cells_per_stage: int = typer.Option(3, help="Cells per stage N (nb201)."),
    samplers: str = SamplersOpt, batch_size: int = BatchSizeOpt, bn_batches: int = BnBatchesOpt,
    eval_batches: int = EvalBatchesOpt, eval_batch_size: int = EvalBatchSizeOpt,
    device: str | None = DeviceOpt, seed: int = SeedOpt, threads: int = ThreadsOpt,
    space: str = typer.Option("nb201", "--space", help="nb201 (Fashion-MNIST network), or "
                              "nb101 / darts (the CIFAR-10 networks NAS-Bench-Suite-Zero "
                              "scored, on resized Fashion-MNIST)."),
) -> list[dict[str, Any]]:
    """Supernet fit seconds per step and query seconds per architecture of each sampler."""
    if space not in ("nb201", "nb101", "darts"):
        raise OptionError(f"--space {space!r} is not one of nb201, nb101, darts")
    options = Options(
        samplers=_samplers(samplers), batch_size=batch_size, bn_batches=bn_batches,
        eval_batches=eval_batches, eval_batch_size=eval_batch_size,
        device=checks.device(device), seed=seed, threads=threads, steps=steps, archs=archs,
        channels=channels, cells_per_stage=cells_per_stage, space=space)
    with limit_threads(threads):
        rows = timing(options)
    for row in rows:
        if "refused" in row:
            typer.echo(f"{row['sampler']:12s} refused: {row['refused']}")
            continue
        typer.echo(f"{row['sampler']:12s} fit {row['fit_seconds']:7.2f} s "
                   f"({row['fit_seconds_per_step']:.3f} s/step, "
                   f"{row['fit_cpu_seconds_per_step']:.3f} CPU s/step, "
                   f"{row['train_seconds_per_step']:.3f} s/step without building)  "
                   f"query {row['query_seconds_per_arch']:.3f} s/arch "
                   f"({row['query_cpu_seconds_per_arch']:.3f} CPU s/arch)")
    return rows
