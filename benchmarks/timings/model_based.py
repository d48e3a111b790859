"""Time fit and query of every model-based predictor at a fixed train size.

``predbench bench model-based`` fits each predictor on 1,000 labeled
architectures and queries 200 more, then prints a table of wall times and Kendall tau. Data: a
tabular benchmark when ``--benchmark`` names one (the harness's split and labels of trial
``--seed``, so its tau is what ``predbench run`` gets), else synthetic NAS-Bench-201 data driven
by the cell's ops.
The load average is printed before and after: timings on a busy machine are slower.
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import typer

from benchmarks.checks import names
from benchmarks.threads import limit_threads
from predictors.base import FitContext, QueryContext
from predictors.ranking import kendall_tau
from predictors.registry import available, make
from predictors.spaces import get_space

log = logging.getLogger(__name__)

OP_SCORE = {"none": 0.0, "skip_connect": 0.4, "avg_pool_3x3": 0.7, "nor_conv_1x1": 1.5,
            "nor_conv_3x3": 2.0}


def synthetic(n: int, seed: int):
    space = get_space("nb201")
    rng = np.random.default_rng(seed)
    archs = list(dict.fromkeys(space.sample(rng) for _ in range(3 * n)))[:n]
    w = np.array([1.0, 1.0, 1.0, 1.5, 1.5, 1.5])
    score = np.array([[OP_SCORE[o] for o in a.spec] for a in archs]) @ w
    return space, archs, 60.0 + 3.0 * score + rng.normal(0, 1.0, len(archs))


def from_benchmark(name: str, train: int, query: int, trial: int):
    """The harness's split of ``trial`` (``benchmarks.protocol``, default protocol): the
    architectures and labels that ``predbench run -b NAME --train-size TRAIN --test-size QUERY``
    fits on and tests on in that trial, train first."""
    from benchmarks.harness import EvalTask, seed_from
    from benchmarks.protocol import make_split
    from benchmarks.tabular import load_benchmark

    bench = load_benchmark(name)
    task = EvalTask(benchmark=name, predictor="", train_size=train, test_size=query, trial=trial)
    split = make_split(bench, train, query, 0, np.random.default_rng(seed_from(task.split_key())))
    rows = np.concatenate([split.train, split.test])
    labels = np.concatenate([split.train_labels, split.test_labels])
    return bench.space, [bench.archs[i] for i in rows], labels


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def command(
    train: int = typer.Option(1000, help="Labelled architectures to fit on."),
    query: int = typer.Option(200, help="Architectures to query."),
    seed: int = typer.Option(
        0, help="Seed of the fits, and the trial whose harness split a benchmark's data uses."),
    benchmark: str | None = typer.Option(
        None, help="Tabular benchmark name (default: synthetic)."),
    only: str | None = typer.Option(
        None, help="Comma-separated predictor names to time (default: every model-based one)."),
    threads: int = typer.Option(
        1, "--threads", "--torch-threads",
        help="Native threads (torch, OpenMP, BLAS); 1 is fastest for these small models."),
) -> None:
    """Model-based fit/query timing at 1,000 labels."""
    n = train + query
    if benchmark:
        space, archs, labels = from_benchmark(benchmark, train, query, seed)
    else:
        space, archs, labels = synthetic(n, seed)
    tr, te = slice(0, train), slice(train, n)
    predictors = names(only) or list(available("model_based"))
    typer.echo(f"data: {benchmark or 'synthetic nb201'}; train {train}, query "
               f"{len(archs) - train}; threads {threads}; {load_text()}")
    typer.echo(f"{'predictor':<15}{'fit s':>10}{'query s':>10}{'query ms/arch':>15}{'tau':>8}")
    for name in predictors:
        pred = make(name)
        factor = pred.data_needs().unlabeled_factor
        unlabeled = []
        if factor:
            rng_u = np.random.default_rng(seed + 7)
            unlabeled = [space.sample(rng_u) for _ in range(factor * train)]
        ctx = FitContext(space=space, archs=archs[tr], labels=labels[tr].copy(),
                         rng=np.random.default_rng(seed), unlabeled=unlabeled)
        with limit_threads(threads):
            t0 = time.perf_counter()
            pred.fit(ctx)
            t1 = time.perf_counter()
            out = pred.query(archs[te], QueryContext(space=space, rng=np.random.default_rng(1)))
            t2 = time.perf_counter()
        tau = kendall_tau(out.mean, labels[te])
        typer.echo(f"{name:<15}{t1 - t0:>10.2f}{t2 - t1:>10.3f}"
                   f"{1e3 * (t2 - t1) / len(out.mean):>15.3f}{tau:>8.3f}")
    typer.echo(load_text())
