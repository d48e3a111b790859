"""Static costs of NAS-Bench-201 networks and an estimated training-cost model.

- ``count_static``: parameters and forward FLOPs of one real network (``torch.utils.flop_counter``).
- ``AdditiveCostTable``: NB201 cells put every edge on the same tensor shape, so a network's
  parameters and FLOPs are a base (stem, reductions, head; all edges ``none``) plus one term per
  edge's op. The table counts five networks once and predicts the rest exactly; ``verify``
  checks the prediction against real counts.
- ``measure_step_times`` / ``fit_cost_model``: forward+backward seconds per image measured on this
  machine for sampled networks, fitted linearly against FLOPs and edge counts
  (``cost_features``); ``CostModel.epoch_time`` scales the fit to a training recipe's images per
  epoch. Every time it produces is an estimate.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from predictors.spaces.base import Arch, SearchSpace
from predictors.spaces.nb201 import EDGES, OPS

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def _build(space: SearchSpace, arch: Arch, network: Mapping[str, Any]) -> torch.nn.Module:
    kwargs = {k: v for k, v in network.items() if k != "input_shape"}
    return space.to_network(arch, **kwargs)


def count_static(space: SearchSpace, arch: Arch, network: Mapping[str, Any]) -> tuple[int, int]:
    """(parameters, forward FLOPs for one input) of ``arch``'s network in eval mode."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    net = _build(space, arch, network).eval()
    params = sum(p.numel() for p in net.parameters())
    x = torch.zeros(1, *network["input_shape"])
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(x)
    return int(params), int(counter.get_total_flops())


class AdditiveCostTable:
    """Exact per-op decomposition of NB201 parameter and FLOP counts.

    Every edge of a cell maps ``C`` channels to ``C`` at the cell's resolution, so an op costs the
    same on any edge: cost = base (all edges ``none``) + sum over edges of the op's increment,
    counted once with the op on the first edge. ``verify`` checks this against real counts.
    """

    def __init__(self, space: SearchSpace, network: Mapping[str, Any]):
        self.space, self.network = space, dict(network)
        empty = ("none",) * len(EDGES)
        self.base = np.array(count_static(space, Arch(space.name, empty), network), dtype=np.int64)
        self.delta = np.zeros((len(OPS), 2), dtype=np.int64)
        for o, op in enumerate(OPS):
            if op != "none":
                spec = (op, *empty[1:])
                counts = count_static(space, Arch(space.name, spec), network)
                self.delta[o] = np.array(counts) - self.base

    def predict(self, archs: Sequence[Arch]) -> np.ndarray:
        """``[n, 2]`` int64 (params, flops) for ``archs``."""
        idx = np.array([[OPS.index(op) for op in a.spec] for a in archs], dtype=np.int64)
        return self.base + self.delta[idx].sum(axis=1)

    def verify(self, archs: Sequence[Arch]) -> int:
        """Count ``archs`` for real and raise if any differs from the additive prediction."""
        predicted = self.predict(archs)
        for arch, pred in zip(archs, predicted, strict=True):
            real = np.array(count_static(self.space, arch, self.network))
            if not np.array_equal(real, pred):
                raise AssertionError(
                    f"additive cost model is wrong for {self.space.to_string(arch)}: "
                    f"counted {real.tolist()}, predicted {pred.tolist()}"
                )
        return len(archs)


def reference_device() -> str:
    """The CPU (model name and torch threads) that timings were measured on."""
    import torch

    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{name} (CPU, {torch.get_num_threads()} torch thread(s))"


def measure_step_times(nets: Sequence[torch.nn.Module], input_shape: Sequence[int],
                       batch: int = 32, rounds: int = 5, num_classes: int = 10) -> np.ndarray:
    """Seconds per image of one forward+backward pass for each network.

    Networks are timed round-robin, one pass each per round after a warm-up round, and each keeps
    its fastest pass: on a shared machine other processes only ever add time, and spreading a
    network's passes over the whole measurement keeps a burst of load from hitting all of them.
    """
    import torch

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, *input_shape, generator=gen)
    y = torch.randint(0, num_classes, (batch,), generator=gen)
    loss_fn = torch.nn.CrossEntropyLoss()
    best = np.full(len(nets), np.inf)
    for r in range(rounds + 1):
        for i, net in enumerate(nets):
            net.train()
            net.zero_grad(set_to_none=True)
            start = time.perf_counter()
            loss_fn(net(x), y).backward()
            if r:
                best[i] = min(best[i], time.perf_counter() - start)
        log.debug("timing round %d/%d done", r, rounds)
    return best / batch


#: Features of the time model: counted FLOPs, plus edge counts for the memory-bound work that
#: FLOP counting misses (3x3 average pooling; the tensor additions and copies of active edges).
COST_FEATURES: tuple[str, ...] = ("flops", "avg_pool_edges", "active_edges")


def cost_features(archs: Sequence[Arch], flops: np.ndarray) -> np.ndarray:
    """``[n, 3]`` features of ``COST_FEATURES`` for NB201 cells."""
    pools = [sum(op == "avg_pool_3x3" for op in a.spec) for a in archs]
    active = [sum(op != "none" for op in a.spec) for a in archs]
    return np.column_stack([np.asarray(flops, dtype=float), pools, active]).astype(float)


@dataclass(frozen=True)
class CostModel:
    """``seconds per image = intercept + coef . features`` on ``device`` (non-negative fit)."""

    features: tuple[str, ...]
    intercept: float
    coef: tuple[float, ...]
    r2: float
    n: int
    device: str

    def seconds_per_image(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float).reshape(-1, len(self.features))
        return self.intercept + x @ np.asarray(self.coef)

    def epoch_time(self, x: np.ndarray, images_per_epoch: int) -> np.ndarray:
        return self.seconds_per_image(x) * images_per_epoch

    def describe(self) -> dict[str, Any]:
        return {"features": list(self.features), "intercept_s_per_image": self.intercept,
                "coef_s_per_image": dict(zip(self.features, self.coef, strict=True)),
                "r2": self.r2, "n_measured": self.n, "reference_device": self.device}


def fit_cost_model(x: np.ndarray, seconds_per_image: np.ndarray, device: str,
                   features: Sequence[str] = ("flops",)) -> CostModel:
    """Non-negative least-squares fit of seconds per image on the feature columns ``x``, with R^2.

    Intercept and coefficients are constrained to be >= 0 (no feature makes training faster), so
    every architecture's estimate is positive.
    """
    from scipy.optimize import nnls

    x = np.asarray(x, dtype=float).reshape(len(seconds_per_image), -1)
    y = np.asarray(seconds_per_image, dtype=float)
    if x.shape[1] != len(features):
        raise ValueError(f"{x.shape[1]} feature columns for names {list(features)}")
    design = np.column_stack([np.ones(len(y)), x])
    beta, _ = nnls(design, y)
    residual = y - design @ beta
    r2 = 1.0 - float(residual @ residual) / float(((y - y.mean()) ** 2).sum())
    return CostModel(tuple(features), float(beta[0]), tuple(float(b) for b in beta[1:]), r2,
                     len(y), device)
