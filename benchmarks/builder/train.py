"""One training run of one architecture with one seed, and the per-architecture measurements."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.builder.fashion_mnist import split_tensors
from benchmarks.builder.recipe import Recipe
from predictors.spaces import Arch, get_space

log = logging.getLogger(__name__)

METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")
INPUT_SHAPE = (1, 28, 28)
#: Memory layout of training: channels-last convolutions run 1.3-1.8x faster per core on CPU
#: (benchmarks/timings/train_layout.py) and are the default of cuDNN's fast paths.
MEMORY_FORMAT = torch.channels_last


def build_network(arch: Arch, recipe: Recipe) -> nn.Module:
    return get_space(arch.space).to_network(arch, **recipe.network_kwargs())


def count_params(net: nn.Module) -> int:
    return int(sum(p.numel() for p in net.parameters()))


def count_flops(net: nn.Module) -> int:
    """Forward FLOPs of one 1x28x28 image (torch's flop counter; a multiply-add = 2 FLOPs)."""
    net.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        net(torch.zeros(1, *INPUT_SHAPE))
    return int(counter.get_total_flops())


def cpu_latency(net: nn.Module, repeats: int = 30, batch: int = 1) -> float:
    """Median seconds of one CPU forward pass of ``batch`` images with the current threads."""
    net = net.to("cpu").eval()
    x = torch.zeros(batch, *INPUT_SHAPE)
    times = []
    with torch.no_grad():
        for _ in range(3):
            net(x)
        for _ in range(repeats):
            start = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def evaluate(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (%) of ``net`` on ``(x, y)`` (eval mode)."""
    net.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(y), batch):
        out = net(x[start: start + batch])
        target = y[start: start + batch]
        loss_sum += float(nn.functional.cross_entropy(out, target, reduction="sum"))
        correct += int((out.argmax(1) == target).sum())
    return loss_sum / len(y), 100.0 * correct / len(y)


def train_one(arch: Arch, seed: int, recipe: Recipe, device: str = "cpu") -> dict[str, Any]:
    """Train ``arch`` with ``seed`` under ``recipe``; returns per-epoch curves and statics.

    Times: ``epoch_time`` is wall seconds per epoch (training and validation; the test
    evaluation is timed apart in ``test_time``); ``epoch_cpu_time`` the process CPU seconds of
    the same span (all threads), which other processes sharing the machine do not inflate.

    Initialization and data order follow ``seed`` alone (``torch.manual_seed`` and a seeded
    ``torch.Generator``), so reruns on the same device and thread count repeat exactly.
    """
    dev = torch.device(device)
    data = split_tensors(recipe.splits)
    x_tr, y_tr = (t.to(dev) for t in data["train"])
    x_va, y_va = (t.to(dev) for t in data["val"])
    x_te, y_te = (t.to(dev) for t in data["test"])

    torch.manual_seed(seed)
    net = build_network(arch, recipe)
    params = count_params(net)
    flops = count_flops(net)
    net = net.to(dev, memory_format=MEMORY_FORMAT)
    opt = torch.optim.SGD(
        net.parameters(), lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.nesterov,
        weight_decay=recipe.weight_decay,
    )
    steps_per_epoch = math.ceil(len(y_tr) / recipe.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=recipe.epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(seed)
    curves: dict[str, list[float]] = {m: [] for m in METRICS}
    epoch_time: list[float] = []
    epoch_cpu_time: list[float] = []
    train_time: list[float] = []
    test_time = 0.0
    run_cpu_start = time.process_time()
    nan = float("nan")
    for epoch in range(recipe.epochs):
        _sync(dev)
        start, cpu_start = time.perf_counter(), time.process_time()
        net.train()
        order = torch.randperm(len(y_tr), generator=gen).to(dev)
        loss_sum, correct = 0.0, 0
        for b in range(steps_per_epoch):
            idx = order[b * recipe.batch_size: (b + 1) * recipe.batch_size]
            out = net(x_tr[idx])
            loss = nn.functional.cross_entropy(out, y_tr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((out.detach().argmax(1) == y_tr[idx]).sum())
        _sync(dev)
        train_time.append(time.perf_counter() - start)
        val_loss, val_acc = evaluate(net, x_va, y_va, recipe.eval_batch_size)
        _sync(dev)
        epoch_time.append(time.perf_counter() - start)
        epoch_cpu_time.append(time.process_time() - cpu_start)
        test_loss, test_acc = nan, nan
        if recipe.test_every_epoch or epoch == recipe.epochs - 1:
            start = time.perf_counter()
            test_loss, test_acc = evaluate(net, x_te, y_te, recipe.eval_batch_size)
            test_time += time.perf_counter() - start
        for name, value in zip(
            METRICS,
            (loss_sum / len(y_tr), 100.0 * correct / len(y_tr), val_loss, val_acc, test_loss,
             test_acc),
            strict=True,
        ):
            curves[name].append(value)
        log.debug("%s seed %d epoch %d: val_acc %.2f (%.1fs)", arch, seed, epoch + 1, val_acc,
                  epoch_time[-1])
    latency = cpu_latency(net)
    return {
        "curves": curves,
        "epoch_time": epoch_time,
        "epoch_cpu_time": epoch_cpu_time,
        "cpu_time": time.process_time() - run_cpu_start,
        "train_time": train_time,
        "test_time": test_time,
        "params": params,
        "flops": flops,
        "latency_cpu": latency,
        "device": str(dev) if dev.type == "cpu" else torch.cuda.get_device_name(dev),
        "threads": torch.get_num_threads(),
        "memory_format": str(MEMORY_FORMAT).removeprefix("torch."),
    }
