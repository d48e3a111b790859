"""One zero-cost proxy predictor per registered measure, computed live on real networks.

``query`` builds each architecture's network with ``ctx.space.to_network`` (keyword arguments
from ``ctx.network``), initializes it from ``init_seed`` alone, scores it on ``ctx.device``
with one minibatch ``ctx.live.batch("train", batch_size, batch_seed)`` (data-free measures get
only the shape), and returns the measure's value. Both seeds default to ``None``: drawn from the
query context's generator, so they vary with the evaluation's trial (every architecture of one
query shares them); an integer pins them. A score that cannot be computed (NaN,
overflow, undefined for that network) becomes NaN, with the reason logged and kept in
``failures_``; CUDA out-of-memory retries with half the batch.
"""

from __future__ import annotations

import logging
import math
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from predictors.base import DataError, DataNeeds, FitContext, Prediction, Predictor, QueryContext
from predictors.layout import preferred_layout
from predictors.params import COUNT, NON_NEGATIVE, Interval
from predictors.registry import register
from predictors.spaces.base import Arch
from predictors.spaces.networks import build_network, can_build, network_config
from predictors.zero_cost import data_free_measures, gradient_measures, jacobian_measures
from predictors.zero_cost.measures import MeasureSpec, ScoreUndefined, get_measure

log = logging.getLogger(__name__)

#: The measures that get a proxy predictor (registry name = measure name).
PROXY_MEASURES = ("jacov", "synflow", "snip", "grasp", "fisher", "grad_norm", "nwot",
                  "epe_nas", "zen", "l2_norm", "plain")
# Importing the measure modules above registers the measures; keep the names referenced.
_MEASURE_MODULES = (data_free_measures, gradient_measures, jacobian_measures)


class ZeroCostProxy(Predictor):
    """Base class: subclasses set ``measure``; see the module docstring for the protocol."""

    measure: ClassVar[str] = ""
    needs = DataNeeds(labels=False, live=True, network=True)
    conformance_params: ClassVar[dict[str, Any]] = {"batch_size": 8}
    param_bounds: ClassVar[dict[str, Interval]] = {
        "batch_size": COUNT, "batch_seed": NON_NEGATIVE, "init_seed": NON_NEGATIVE}

    batch_size: int = 64
    batch_seed: int | None = None
    init_seed: int | None = None

    # --- protocol ---------------------------------------------------------------------------
    def _fit(self, ctx: FitContext) -> None:
        if int(self.batch_size) < 1:
            raise ValueError(f"{self.name}: batch_size must be at least 1, got {self.batch_size}")
        self.failures_: dict[str, str] = {}

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        spec = get_measure(self.measure)
        kwargs, shape = network_config(ctx.network, self.name)
        if not can_build(ctx.space):
            raise DataError(f"{self.name}: space {ctx.space.name!r} cannot build networks, so "
                            "live zero-cost proxies cannot run on it; use the tabulated "
                            "predictor 'zc_table' with precomputed scores instead")
        device = torch.device(ctx.device)
        drawn_init, drawn_batch = (int(v) for v in ctx.rng.integers(2**31, size=2))
        init_seed = drawn_init if self.init_seed is None else int(self.init_seed)
        batch_seed = drawn_batch if self.batch_seed is None else int(self.batch_seed)
        self.seeds_ = {"init_seed": init_seed, "batch_seed": batch_seed}
        inputs, targets = self._batch(spec, ctx, shape, batch_seed)
        loss_fn = nn.CrossEntropyLoss()
        scores = np.empty(len(archs))
        layout = preferred_layout(device, inputs.dim())
        inputs = inputs.contiguous(memory_format=layout)
        for i, arch in enumerate(archs):
            net = build_network(ctx.space, arch, kwargs, init_seed)
            net = net.to(device=device, memory_format=layout)
            scores[i] = self._score(spec, arch, net, inputs, targets, loss_fn, device, batch_seed)
            del net
        return Prediction(scores)

    # --- helpers ----------------------------------------------------------------------------
    def _batch(self, spec: MeasureSpec, ctx: QueryContext, shape: tuple[int, ...],
               batch_seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        if spec.data_free:
            return torch.zeros((int(self.batch_size), *shape)), None
        if ctx.live is None:
            raise DataError(f"{self.name} needs a live data source (ctx.live)")
        inputs, targets = ctx.live.batch("train", int(self.batch_size), batch_seed)
        return torch.as_tensor(inputs), torch.as_tensor(targets)

    def _score(self, spec: MeasureSpec, arch: Arch, net: nn.Module, inputs: torch.Tensor,
               targets: torch.Tensor | None, loss_fn: nn.Module, device: torch.device,
               batch_seed: int) -> float:
        size = inputs.shape[0]
        while True:
            x = inputs[:size].to(device)
            y = targets[:size].to(device) if targets is not None else None
            try:
                value = spec.fn(net, x, y, loss_fn, seed=batch_seed)
            except torch.cuda.OutOfMemoryError:
                if size == 1:
                    return self._fail(arch, "CUDA out of memory even with a batch of 1")
                size = max(1, size // 2)
                log.warning("%s: CUDA out of memory on %s; retrying with batch size %d",
                            self.name, arch, size)
                torch.cuda.empty_cache()
                continue
            except (ScoreUndefined, torch.linalg.LinAlgError) as exc:
                return self._fail(arch, str(exc))
            if not math.isfinite(value):
                return self._fail(arch, f"non-finite value {value} (NaN or overflow)")
            return float(value)

    def _fail(self, arch: Arch, reason: str) -> float:
        key = _arch_text(arch)
        self.failures_[key] = reason
        log.warning("%s: no score for %s: %s", self.name, key, reason)
        return math.nan


def _arch_text(arch: Arch) -> str:
    try:
        return str(arch)
    except Exception:  # an Arch of an unregistered space still needs a readable key
        return repr(arch.spec)


def _proxy_class(measure_name: str) -> type[ZeroCostProxy]:
    spec = get_measure(measure_name)
    title = "".join(part.capitalize() for part in measure_name.split("_"))
    attrs: dict[str, Any] = {
        "measure": measure_name,
        "__doc__": f"Zero-cost proxy ``{measure_name}``.\n\n{spec.fn.__doc__ or ''}",
        "__module__": __name__,
        "__qualname__": f"{title}Proxy",
    }
    if spec.data_free:
        attrs["needs"] = DataNeeds(labels=False, network=True)
    if measure_name == "epe_nas":  # needs two samples of a class in the minibatch
        attrs["conformance_params"] = {"batch_size": 16}
    cls = type(f"{title}Proxy", (ZeroCostProxy,), attrs)
    return register(measure_name, family="zero_cost")(cls)


for _name in PROXY_MEASURES:
    _cls = _proxy_class(_name)
    globals()[_cls.__name__] = _cls
