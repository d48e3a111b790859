"""The shared supernet fit loop: build, resume from a checkpoint, train step by step, save.

Subclasses provide the optimizers and one training step; every step's batch seed derives from
the fit's data seed and the step index, so a resumed fit follows the same trajectory as an
uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, ClassVar

import numpy as np
import torch

from predictors.base import DataError, DataNeeds, FitContext, Predictor
from predictors.layout import preferred_layout
from predictors.params import COUNT, NON_NEGATIVE, POSITIVE, PROBABILITY, Interval
from predictors.spaces.networks import network_config
from predictors.weight_sharing import checkpoint
from predictors.weight_sharing.supernet import Supernet, build_supernet

log = logging.getLogger(__name__)

Batch = tuple[torch.Tensor, torch.Tensor]
#: Parameters that change neither the trained weights nor the step-by-step trajectory.
NOT_TRAINING: frozenset[str] = frozenset({
    "epochs", "checkpoint_dir", "checkpoint_every", "bn_batches", "eval_batches",
    "eval_batch_size", "finetune_steps", "finetune_lr", "score",
})


class SupernetTrainer(Predictor):
    """Base class of the weight-sharing predictors (``fit`` = supernet training)."""

    needs = DataNeeds(labels=False, live=True, network=True)
    #: The main job's quick grid trains 3 of the default 10 epochs (the default 1,000 DARTS
    #: steps took 18 minutes on a shared core of the Fashion-MNIST network); ``--full`` trains
    #: all 10, and ``benchmarks.analyses.supernet`` follows the ranking over epochs.
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 3}
    #: The first run's preset trains a quarter of an epoch's steps (ranking near chance: it
    #: shows the pipeline, not the method).
    quick_params: ClassVar[dict[str, Any]] = {"epochs": 1, "steps_per_epoch": 25}
    param_bounds: ClassVar[dict[str, Interval]] = {
        **dict.fromkeys(("epochs", "steps_per_epoch", "batch_size", "eval_batches",
                         "eval_batch_size", "checkpoint_every", "num_candidates", "top_k",
                         "pool_size", "greedy_eval_size", "stability_window"), COUNT),
        **dict.fromkeys(("weight_decay", "arch_weight_decay", "bn_batches", "finetune_steps",
                         "epsilon_ramp_steps"), NON_NEGATIVE),
        **dict.fromkeys(("lr", "finetune_lr", "arch_lr", "grad_clip"), POSITIVE),
        **dict.fromkeys(("momentum", "epsilon"), PROBABILITY),
    }

    epochs: int = 10
    steps_per_epoch: int = 100
    batch_size: int = 64
    #: Weight optimizer (SGD with momentum): learning rate, momentum, weight decay, grad clip.
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    #: Where (if anywhere) and how often, in steps, the fit saves a checkpoint to resume from.
    checkpoint_dir: str | None = None
    checkpoint_every: int = 100

    _optimizer_names: ClassVar[tuple[str, ...]] = ("weights",)

    # --- hooks --------------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name in ("epochs", "steps_per_epoch", "batch_size"):
            value = getattr(self, name)
            least = 0 if name == "epochs" else 1
            if int(value) != value or value < least:
                raise ValueError(f"{self.name}: {name} must be an integer >= {least}, "
                                 f"got {value!r}")

    def _make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def _train_step(self, step: int) -> None:
        raise NotImplementedError

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    # --- data ---------------------------------------------------------------------------------
    def _batch(self, split: str, size: int, stream: int, index: int) -> Batch:
        """A live batch whose seed depends only on the data seed, a stream id and an index."""
        seed = (self.data_seed_ * 16 + stream) * 10_000_019 + index
        x, y = self.live_.batch(split, size, seed)
        x = x.to(self.device_).contiguous(memory_format=preferred_layout(self.device_, x.dim()))
        return x, y.to(self.device_)

    # --- fit ----------------------------------------------------------------------------------
    def _fit(self, ctx: FitContext) -> None:
        self._check_params()
        self.network_kwargs_, self.input_shape_ = network_config(ctx.network, self.name)
        init_seed, self.data_seed_, sampler_seed = (int(v) for v in ctx.rng.integers(2**31,
                                                                                      size=3))
        self.device_ = torch.device(ctx.device)
        self.live_ = ctx.live
        self.supernet_: Supernet = build_supernet(
            ctx.space, self.network_kwargs_, init_seed, self.name
        ).to(self.device_, memory_format=preferred_layout(self.device_))
        self.rng_ = np.random.default_rng(sampler_seed)
        self.optimizers_ = self._make_optimizers()
        total = int(self.epochs) * int(self.steps_per_epoch)
        start, path = self._resume(ctx, init_seed, sampler_seed, total)
        began = time.perf_counter()
        self.supernet_.train()
        for step in range(start, total):
            self._train_step(step)
            done = step + 1
            if path is not None and (done % int(self.checkpoint_every) == 0 or done == total):
                self._save(path, done)
        self.fit_info_ = {"steps": total, "resumed_from": start,
                          "train_seconds": time.perf_counter() - began,
                          "checkpoint": str(path) if path else None}
        self.supernet_.eval()
        self.live_ = None  # the fitted predictor keeps no reference to the data source

    # --- checkpoints ------------------------------------------------------------------------
    def _resume(self, ctx: FitContext, init_seed: int, sampler_seed: int,
                total: int) -> tuple[int, Any]:
        if not self.checkpoint_dir:
            return 0, None
        if int(self.checkpoint_every) < 1:
            raise ValueError(f"{self.name}: checkpoint_every must be >= 1")
        config = {"predictor": self.name,
                  "params": {k: v for k, v in self.get_params().items() if k not in NOT_TRAINING},
                  "network": dict(ctx.network or {}), "space": ctx.space.name,
                  "live": getattr(ctx.live, "name", None), "seeds": [init_seed, self.data_seed_,
                                                                      sampler_seed]}
        path = checkpoint.checkpoint_path(self.checkpoint_dir, self.name,
                                          checkpoint.fingerprint(config))
        state = checkpoint.load(path)
        if state is None:
            return 0, path
        step = int(state["step"])
        if step > total:
            log.warning("%s: checkpoint %s holds %d steps, more than the %d asked for; training "
                        "from scratch without overwriting it", self.name, path, step, total)
            return 0, None
        self.supernet_.load_state_dict(state["model"])
        for name, opt in self.optimizers_.items():
            opt.load_state_dict(state["optimizers"][name])
        self.rng_.bit_generator.state = json.loads(state["rng"])
        self._load_extra_state(json.loads(state["extra"]))
        log.info("%s: resumed from %s at step %d of %d", self.name, path, step, total)
        return step, path

    def _save(self, path: Any, step: int) -> None:
        checkpoint.save(path, {
            "step": step,
            "model": self.supernet_.state_dict(),
            "optimizers": {n: o.state_dict() for n, o in self.optimizers_.items()},
            "rng": json.dumps(self.rng_.bit_generator.state),
            "extra": json.dumps(self._extra_state()),
        })

    def _require_same_space(self, space_name: str) -> None:
        fitted = self.supernet_.space_name
        if space_name != fitted:
            raise DataError(f"{self.name} was fitted on the {fitted} space and scores its "
                            f"architectures only, got {space_name!r}")
