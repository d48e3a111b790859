"""Training speed of the benchmark's networks in contiguous vs channels-last memory layout.

    predbench bench train-layout [--archs N] [--steps S] [--recipe R] [--threads T]

Builds ``--archs`` NAS-Bench-201 cells of the benchmark order with the recipe's network, and
times ``--steps`` SGD steps (forward, backward, update; one recipe batch of Fashion-MNIST-shaped
input) in both layouts, alternating them per architecture so that both see the same machine
load. Prints process-CPU milliseconds per step and the speed-up of channels-last per
architecture and overall. The layout changes no weight or batch, only how the tensors are
stored, so it is an execution detail of a recipe (like the device), not part of it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import typer

from benchmarks.builder.order import arch_order
from benchmarks.builder.recipe import BENCHMARK_RECIPE, get_recipe

if TYPE_CHECKING:
    import torch
    from torch import nn


def step_cpu_seconds(net: nn.Module, layout: torch.memory_format, batch: int, steps: int,
                     warmup: int = 3) -> float:
    """Mean process-CPU seconds of one SGD step of ``net`` stored in ``layout``."""
    import torch
    from torch import nn

    from benchmarks.builder.train import INPUT_SHAPE

    net = net.to(memory_format=layout).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, *INPUT_SHAPE, generator=gen)
    y = torch.randint(10, (batch,), generator=gen)
    elapsed = 0.0
    for i in range(warmup + steps):
        start = time.process_time()
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= warmup:
            elapsed += time.process_time() - start
    return elapsed / steps


def command(
    archs: int = typer.Option(6, help="Architectures of the build order to time."),
    steps: int = typer.Option(15, help="Training steps per layout."),
    recipe: str = typer.Option(BENCHMARK_RECIPE, help="Build recipe (network, batch size)."),
    threads: int = typer.Option(1, help="Torch threads."),
) -> None:
    """Training speed, contiguous vs channels-last layout."""
    import torch

    from benchmarks.builder.train import build_network

    torch.set_num_threads(threads)
    chosen = get_recipe(recipe)
    layouts = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
    ms: dict[str, list[float]] = {name: [] for name in layouts}
    typer.echo(f"recipe {chosen.name}, batch {chosen.batch_size}, {threads} thread(s), "
               f"{steps} steps per layout")
    typer.echo("| arch | contiguous ms/step | channels_last ms/step | speed-up |\n"
               "|---|---|---|---|")
    for arch in arch_order()[:archs]:
        for name, layout in layouts.items():
            torch.manual_seed(0)
            net = build_network(arch, chosen)
            ms[name].append(1000 * step_cpu_seconds(net, layout, chosen.batch_size, steps))
        a, b = ms["contiguous"][-1], ms["channels_last"][-1]
        typer.echo(f"| {arch} | {a:.1f} | {b:.1f} | {a / b:.2f}x |")
    total = float(np.sum(ms["contiguous"]) / np.sum(ms["channels_last"]))
    typer.echo(f"overall: channels_last needs {1 / total:.2f} of the contiguous CPU time "
               f"({total:.2f}x faster) over {archs} architectures")
