"""Throughput of every zero-cost proxy on the Fashion-MNIST benchmark's networks.

    predbench bench zero-cost-throughput [--archs N] [--device cpu|cuda] [--space nb201]

Scores ``--archs`` random NAS-Bench-201 cells with each live proxy (and the params/flops
baselines counted from the network), one predictor ``query`` per measure exactly as a sweep
calls it (network construction included), after one untimed warm-up architecture. With
``--space nb101`` or ``--space darts`` the networks are the CIFAR-10 networks
NAS-Bench-Suite-Zero scored (3x32x32 input; ``--channels``/``--cells`` do not apply) and the
Fashion-MNIST batches are resized to them (the ``fashion-mnist-resized`` substitute). Prints
architectures per second per measure (summed over ``--workers`` processes running side by
side) and the estimated time of all measures over 1,000 architectures.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import typer

from benchmarks import checks
from benchmarks.checks import OptionError, names
from benchmarks.jobs import JobFailure, JobPool
from predictors import FitContext, QueryContext, make
from predictors.base import LiveSource
from predictors.spaces import get_space

if TYPE_CHECKING:
    import torch

BASELINES = ("params", "flops")


def random_live(input_shape: tuple[int, ...], classes: int) -> LiveSource:
    import torch

    def batch(split: str, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        return (torch.randn(size, *input_shape, generator=gen),
                torch.randint(classes, (size,), generator=gen))

    return LiveSource(batch=batch, name="random tensors")


#: Spaces whose networks can be timed besides NB201's Fashion-MNIST network.
SUITE_ZERO_SPACES = ("nb101", "darts")


def live_source(kind: str, input_shape: tuple[int, ...], classes: int) -> LiveSource:
    if kind == "random":
        return random_live(input_shape, classes)
    from benchmarks.live import dataset_source

    if tuple(input_shape) != (1, 28, 28):
        return dataset_source("fashion-mnist-resized",
                              {"network": {"input_shape": list(input_shape),
                                           "num_classes": classes}})
    return dataset_source("fashion-mnist", {})


def network_for(opts: dict) -> dict:
    """The timed network's configuration (``to_network`` kwargs and ``input_shape``)."""
    if opts["space"] in SUITE_ZERO_SPACES:
        from benchmarks.tabular.suite_zero import NETWORKS

        return dict(NETWORKS[(opts["space"], "cifar10")])
    return {"channels": opts["channels"], "cells_per_stage": opts["cells"], "in_channels": 1,
            "num_classes": 10, "stem_stride": 2, "input_shape": (1, 28, 28)}


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_measure(name: str, archs: Sequence, warmup, space, network: dict, live: LiveSource,
                 device: str, batch_size: int | None) -> tuple[float, float, int]:
    """Wall and process-CPU seconds to score ``archs`` with one query, and the NaN count."""
    params = {} if name in BASELINES or batch_size is None else {"batch_size": batch_size}
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
    import torch

    if opts["threads"] > 0:
        torch.set_num_threads(opts["threads"])
    space = get_space(opts["space"])
    network = network_for(opts)
    live = live_source(opts["data"], tuple(network["input_shape"]), network["num_classes"])
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


def command(
    archs: int = typer.Option(20, help="Architectures per measure."),
    device: str | None = typer.Option(None, help="cpu or cuda (default: cuda if any)."),
    channels: int = typer.Option(8, help="Network width C."),
    cells: int = typer.Option(3, help="Cells per stage N."),
    batch_size: int | None = typer.Option(None, help="Images per scoring batch [each proxy's own "
                                   "default: 64, or its paper's setting for the newer ones]"),
    data: str = typer.Option("fashion-mnist", help="Real Fashion-MNIST batches (needs the "
                             "dataset files) or random ones: fashion-mnist or random."),
    threads: int = typer.Option(1, help="Torch intra-op threads per worker (0: torch's "
                                "default); one per worker is much faster for these networks."),
    workers: int = typer.Option(1, help="Processes sharing the architectures (e.g. one per "
                                "CPU core)."),
    measures: str | None = typer.Option(
        None, help="Comma-separated measures to time (default: every live proxy, then params "
        "and flops)."),
    seed: int = typer.Option(0, help="Seed of the sampled cells."),
    space: str = typer.Option("nb201", help="nb201 (Fashion-MNIST network), or nb101 / darts "
                              "(the CIFAR-10 networks NAS-Bench-Suite-Zero scored)."),
) -> None:
    """Zero-cost throughput: seconds per architecture of every measure."""
    import torch

    from predictors.zero_cost import PROXY_MEASURES

    device = device or checks.default_device()
    if device not in ("cpu", "cuda"):
        raise OptionError(f"--device {device!r} is not supported; use cpu or cuda")
    checks.device(device)
    if data not in ("fashion-mnist", "random"):
        raise OptionError(f"--data {data!r} is not one of fashion-mnist, random")
    if space not in ("nb201", *SUITE_ZERO_SPACES):
        raise OptionError(f"--space {space!r} is not one of nb201, {', '.join(SUITE_ZERO_SPACES)}")
    if workers < 1 or archs < workers:
        raise OptionError("need --workers >= 1 and --archs >= --workers")
    chosen = names(measures or ",".join([*PROXY_MEASURES, *BASELINES]))
    opts = {"archs": archs, "device": device, "channels": channels, "cells": cells,
            "batch_size": batch_size, "data": data, "threads": threads, "workers": workers,
            "measures": chosen, "seed": seed, "space": space}
    shares = [len(part) for part in np.array_split(np.arange(archs), workers)]

    start = time.perf_counter()
    if workers == 1:
        results = [run_share(opts, 0, shares[0])]
    else:
        jobs = list(enumerate(shares))
        outcomes = dict(JobPool(workers).map(functools.partial(_share, opts), jobs))
        failed = [o for o in outcomes.values() if isinstance(o, JobFailure)]
        if failed:
            typer.echo(f"a worker's share failed: {failed[0].error}", err=True)
            raise typer.Exit(1)
        results = [outcomes[job] for job in jobs]
    wall = time.perf_counter() - start

    threads = threads or torch.get_num_threads()
    where = (torch.cuda.get_device_name() if device == "cuda"
             else f"cpu, {workers} worker(s) x {threads} thread(s)")
    shape = "x".join(str(v) for v in network_for(opts)["input_shape"])
    net = (f"network C={channels} N={cells}, stem stride 2" if space == "nb201"
           else "Suite-Zero's CIFAR-10 network")
    batch = "each proxy's default" if batch_size is None else batch_size
    typer.echo(f"device: {where}; {space} {net}, input {shape}; batch {batch} of "
               f"{data} data; {archs} archs")
    typer.echo(f"{'measure':<10} {'archs/s':>9} {'ms/arch':>9} {'cpu ms/arch':>12} {'NaN':>4}")
    total = total_cpu = 0.0
    for name in chosen:
        rate = sum(r[name][2] / r[name][0] for r in results)  # workers run side by side
        cpu = sum(r[name][1] for r in results) / archs
        nans = sum(r[name][3] for r in results)
        total += 1.0 / rate
        total_cpu += cpu
        typer.echo(f"{name:<10} {rate:9.2f} {1000.0 / rate:9.1f} {1000.0 * cpu:12.1f} "
                   f"{nans:4d}")
    typer.echo(f"all {len(chosen)} measures: {1000.0 * total:.0f} ms per architecture (wall) "
               f"-> estimated {1000.0 * total / 60.0:.1f} min for 1,000 architectures; "
               f"{1000.0 * total_cpu:.0f} ms CPU per architecture -> "
               f"{1000.0 * total_cpu / workers / 60.0:.1f} min on {workers} idle worker(s) "
               f"(whole run incl. start-up and warm-up: {wall:.1f} s wall)")
