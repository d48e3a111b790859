"""Throughput of every zero-cost proxy on the Fashion-MNIST benchmark's networks.

    python -m benchmarks.perf.zero_cost_throughput [--archs N] [--device cpu|cuda]

Scores ``--archs`` random NAS-Bench-201 cells with each live proxy (and the params/flops
baselines counted from the network), one predictor ``query`` per measure exactly as a sweep
calls it (network construction included), after one untimed warm-up architecture. Prints
architectures per second per measure (summed over ``--workers`` processes running side by
side) and the estimated time of all measures over 1,000 architectures.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Sequence

import numpy as np
import torch

from benchmarks.jobs import JobFailure, JobPool
from predictors import FitContext, QueryContext, make
from predictors.base import LiveSource
from predictors.spaces import get_space
from predictors.zero_cost import PROXY_MEASURES

BASELINES = ("params", "flops")


def random_live(input_shape: tuple[int, ...], classes: int) -> LiveSource:
    def batch(split: str, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        return (torch.randn(size, *input_shape, generator=gen),
                torch.randint(classes, (size,), generator=gen))

    return LiveSource(batch=batch, name="random tensors")


def live_source(kind: str, input_shape: tuple[int, ...], classes: int) -> LiveSource:
    if kind == "random":
        return random_live(input_shape, classes)
    from benchmarks.live import dataset_source

    return dataset_source("fashion-mnist", {})


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_measure(name: str, archs: Sequence, warmup, space, network: dict, live: LiveSource,
                 device: str, batch_size: int) -> tuple[float, float, int]:
    """Wall and process-CPU seconds to score ``archs`` with one query, and the NaN count."""
    params = {} if name in BASELINES else {"batch_size": batch_size}
    predictor = make(name, **params).fit(FitContext(space=space, live=live, device=device))
    ctx = QueryContext(space=space, network=network, live=live, device=device)
    predictor.query([warmup], ctx)
    _sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    scores = predictor.query(list(archs), ctx).mean
    _sync(device)
    return (time.perf_counter() - start, time.process_time() - cpu,
            int(np.isnan(scores).sum()))


def run_share(opts: dict, seed_offset: int, count: int) -> dict[str, tuple]:
    """Time every measure on ``count`` cells (one worker's share):
    ``{measure: (wall s, cpu s, archs, NaNs)}``."""
    if opts["threads"] > 0:
        torch.set_num_threads(opts["threads"])
    space = get_space("nb201")
    shape = (1, 28, 28)
    network = {"channels": opts["channels"], "cells_per_stage": opts["cells"], "in_channels": 1,
               "num_classes": 10, "stem_stride": 2, "input_shape": shape}
    live = live_source(opts["data"], shape, 10)
    rng = np.random.default_rng([opts["seed"], seed_offset])
    warmup, *archs = [space.sample(rng) for _ in range(count + 1)]
    out = {}
    for name in opts["measures"]:
        wall, cpu, nans = time_measure(name, archs, warmup, space, network, live,
                                       opts["device"], opts["batch_size"])
        out[name] = (wall, cpu, len(archs), nans)
    return out


def _share(opts: dict, share: tuple[int, int]) -> dict[str, tuple]:
    return run_share(opts, *share)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", type=int, default=20, help="architectures per measure")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        choices=("cpu", "cuda"))
    parser.add_argument("--channels", type=int, default=8, help="network width C")
    parser.add_argument("--cells", type=int, default=3, help="cells per stage N")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", choices=("fashion-mnist", "random"), default="fashion-mnist",
                        help="real Fashion-MNIST batches (needs the dataset files) or random ones")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads per worker (0: torch's default); one "
                             "thread per worker is much faster for these small networks")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes sharing the architectures (e.g. one per CPU core)")
    parser.add_argument("--measures", nargs="*", default=[*PROXY_MEASURES, *BASELINES])
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampled cells")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    if args.workers < 1 or args.archs < args.workers:
        parser.error("need --workers >= 1 and --archs >= --workers")
    opts = vars(args)
    shares = [len(part) for part in np.array_split(np.arange(args.archs), args.workers)]

    start = time.perf_counter()
    if args.workers == 1:
        results = [run_share(opts, 0, shares[0])]
    else:
        jobs = list(enumerate(shares))
        outcomes = dict(JobPool(args.workers).map(functools.partial(_share, opts), jobs))
        failed = [o for o in outcomes.values() if isinstance(o, JobFailure)]
        if failed:
            parser.exit(1, f"a worker's share failed: {failed[0].error}\n")
        results = [outcomes[job] for job in jobs]
    wall = time.perf_counter() - start

    threads = args.threads or torch.get_num_threads()
    device = (torch.cuda.get_device_name() if args.device == "cuda"
              else f"cpu, {args.workers} worker(s) x {threads} thread(s)")
    print(f"device: {device}; network C={args.channels} N={args.cells}, stem stride 2, input "
          f"1x28x28; batch {args.batch_size} of {args.data} data; {args.archs} archs")
    print(f"{'measure':<10} {'archs/s':>9} {'ms/arch':>9} {'cpu ms/arch':>12} {'NaN':>4}")
    total = total_cpu = 0.0
    for name in args.measures:
        rate = sum(r[name][2] / r[name][0] for r in results)  # workers run side by side
        cpu = sum(r[name][1] for r in results) / args.archs
        nans = sum(r[name][3] for r in results)
        total += 1.0 / rate
        total_cpu += cpu
        print(f"{name:<10} {rate:9.2f} {1000.0 / rate:9.1f} {1000.0 * cpu:12.1f} {nans:4d}")
    print(f"all {len(args.measures)} measures: {1000.0 * total:.0f} ms per architecture (wall) "
          f"-> estimated {1000.0 * total / 60.0:.1f} min for 1,000 architectures; "
          f"{1000.0 * total_cpu:.0f} ms CPU per architecture -> "
          f"{1000.0 * total_cpu / args.workers / 60.0:.1f} min on {args.workers} idle worker(s) "
          f"(whole run incl. start-up and warm-up: {wall:.1f} s wall)")


if __name__ == "__main__":
    main()
