"""Time fit and query of every model-based predictor at a fixed train size.

``python -m benchmarks.perf.model_based_timing`` fits each predictor on 1,000 labeled
architectures and queries 200 more, then prints a table of wall times and Kendall tau. Data: a
tabular benchmark when ``--benchmark`` names one (its objective at the last epoch, one
architecture per canonical form), else synthetic NAS-Bench-201 data driven by the cell's ops.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

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


def from_benchmark(name: str, n: int, seed: int):
    """``n`` architectures of distinct canonical form with their objective (mean over seeds)."""
    from benchmarks.tabular import load_benchmark

    bench = load_benchmark(name)
    labels = bench.final()
    first: dict = {}
    for i, key in enumerate(bench.canonical_keys):
        if np.isfinite(labels[i]):
            first.setdefault(key, i)
    unique = np.fromiter(first.values(), dtype=int)
    pick = np.random.default_rng(seed).choice(unique, size=min(n, len(unique)), replace=False)
    return bench.space, [bench.archs[i] for i in pick], labels[pick]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--query", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--benchmark", default=None, help="tabular benchmark name (default: synthetic)")
    ap.add_argument("--only", nargs="*", default=None, help="predictor names to time")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch intra-op threads (1 is fastest for these small models)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import torch

    torch.set_num_threads(args.torch_threads)
    n = args.train + args.query
    if args.benchmark:
        space, archs, labels = from_benchmark(args.benchmark, n, args.seed)
    else:
        space, archs, labels = synthetic(n, args.seed)
    tr, te = slice(0, args.train), slice(args.train, n)
    names = args.only or list(available("model_based"))
    print(f"data: {args.benchmark or 'synthetic nb201'}; train {args.train}, query "
          f"{len(archs) - args.train}; torch threads {torch.get_num_threads()}")
    print(f"{'predictor':<15}{'fit s':>10}{'query s':>10}{'query ms/arch':>15}{'tau':>8}")
    for name in names:
        pred = make(name)
        factor = pred.data_needs().unlabeled_factor
        unlabeled = []
        if factor:
            rng_u = np.random.default_rng(args.seed + 7)
            unlabeled = [space.sample(rng_u) for _ in range(factor * args.train)]
        ctx = FitContext(space=space, archs=archs[tr], labels=labels[tr].copy(),
                         rng=np.random.default_rng(args.seed), unlabeled=unlabeled)
        t0 = time.perf_counter()
        pred.fit(ctx)
        t1 = time.perf_counter()
        out = pred.query(archs[te], QueryContext(space=space, rng=np.random.default_rng(1)))
        t2 = time.perf_counter()
        tau = kendall_tau(out.mean, labels[te])
        print(f"{name:<15}{t1 - t0:>10.2f}{t2 - t1:>10.3f}{1e3 * (t2 - t1) / len(out.mean):>15.3f}"
              f"{tau:>8.3f}", flush=True)


if __name__ == "__main__":
    main()
