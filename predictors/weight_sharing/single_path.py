"""Single-path supernet predictors: SPOS [oneshot], RS-WS [rsws], GreedyNAS [greedynas],
FairNAS [fairnas]. They differ only in the path sampler that picks what each step trains; they
run on every space with a supernet (``predictors.weight_sharing.supernet``), except where the
space does not define their sampler (FairNAS off NB201, RS-WS on NB101), which they refuse with
a ``DataError`` before training.

``fit`` trains the supernet on live training batches (SGD with Nesterov momentum, constant
learning rate, gradient clipping; ``epochs`` x ``steps_per_epoch`` steps). ``query`` gives each
architecture the supernet's weights in a standalone benchmark network, optionally fine-tunes
that copy for ``finetune_steps`` batches (nothing flows back into the supernet), recalibrates
its BatchNorm statistics on ``bn_batches`` training batches and scores it on ``eval_batches``
validation batches: ``score="acc"`` ranks by accuracy with ties broken by lower loss,
``score="loss"`` by minus the loss. Both values per architecture stay in ``last_query_``.

``subspace`` (architecture strings) trains the supernet on a pruned space: every sampler draws
from those architectures only (``samplers.restrict_to``; FairNAS refuses), as pruning-based NAS
does. Scoring is unchanged and may include architectures outside it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from predictors.base import Prediction, QueryContext
from predictors.layout import preferred_layout
from predictors.registry import register
from predictors.spaces import get_space
from predictors.spaces.base import Arch
from predictors.weight_sharing.evaluation import accuracy_and_loss, finetune, recalibrate_bn
from predictors.weight_sharing.samplers import (
    DistinctArchSampler,
    FairSampler,
    GreedySampler,
    PathSampler,
    UniformSampler,
    restrict_to,
)
from predictors.weight_sharing.supernet import Path, Supernet, extract_subnet
from predictors.weight_sharing.training import SupernetTrainer

SCORES = ("acc", "loss")
#: Batch streams (seed namespaces) of the live source.
TRAIN, GREEDY_VAL, EVAL_VAL, BN_TRAIN, FINETUNE_TRAIN = range(5)
CONFORMANCE = {"epochs": 1, "steps_per_epoch": 3, "batch_size": 8, "bn_batches": 1,
               "eval_batches": 1, "eval_batch_size": 8}


class SinglePathPredictor(SupernetTrainer):
    """Base class: subclasses choose the sampler in ``_make_sampler``."""

    conformance_params: ClassVar[dict[str, Any]] = dict(CONFORMANCE)
    #: The first run's preset also scores each subnet on an eighth of the images.
    quick_params: ClassVar[dict[str, Any]] = {
        **SupernetTrainer.quick_params, "bn_batches": 1, "eval_batches": 1,
        "eval_batch_size": 64}

    bn_batches: int = 2
    eval_batches: int = 2
    eval_batch_size: int = 256
    finetune_steps: int = 0
    finetune_lr: float = 0.01
    score: str = "acc"
    #: Train on these architectures only (strings of the space); ``None``: the whole space.
    subspace: list[str] | None = None

    def _make_sampler(self, net: type[Supernet]) -> PathSampler:
        raise NotImplementedError

    def _check_params(self) -> None:
        super()._check_params()
        if self.score not in SCORES:
            raise ValueError(f"{self.name}: score must be one of {SCORES}, got {self.score!r}")
        if self.eval_batches < 1 or self.eval_batch_size < 1 or self.bn_batches < 0:
            raise ValueError(f"{self.name}: eval_batches and eval_batch_size must be >= 1 and "
                             "bn_batches >= 0")
        if self.finetune_steps < 0:
            raise ValueError(f"{self.name}: finetune_steps must be >= 0")
        if self.subspace is not None and not self.subspace:
            raise ValueError(f"{self.name}: subspace must list at least one architecture")

    def _sampling_net(self) -> type[Supernet]:
        """The supernet class whose draws the sampler uses: confined to ``subspace`` if set."""
        net = type(self.supernet_)
        if self.subspace is None:
            return net
        space = get_space(net.space_name)
        try:
            archs = [space.from_string(text) for text in dict.fromkeys(self.subspace)]
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{self.name}: subspace holds an architecture the "
                             f"{space.name} space cannot read ({exc})") from exc
        return restrict_to(net, [net.arch_to_path(a) for a in archs],
                           [space.canonical(a) for a in archs])

    def _make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        choices = type(self.supernet_).path_choices
        self.sampler_ = self._make_sampler(self._sampling_net())
        #: How often each path position took each value in training ([position, value]).
        self.op_counts_ = np.zeros((len(choices), max(choices)), dtype=np.int64)
        opt = torch.optim.SGD(self.supernet_.parameters(), lr=self.lr, momentum=self.momentum,
                              nesterov=self.momentum > 0, weight_decay=self.weight_decay)
        return {"weights": opt}

    def _path_losses(self, step: int, paths: list[Path]) -> np.ndarray:
        """Validation-batch loss of each path under the current supernet (GreedyNAS ranking)."""
        x, y = self._batch("val", self._greedy_eval_size(), GREEDY_VAL, step)
        with torch.no_grad():
            return np.array([float(F.cross_entropy(self.supernet_(x, path=p), y))
                             for p in paths])

    def _greedy_eval_size(self) -> int:
        return self.batch_size

    def _train_step(self, step: int) -> None:
        paths = self.sampler_.propose(self.rng_, step, lambda ps: self._path_losses(step, ps))
        x, y = self._batch("train", int(self.batch_size), TRAIN, step)
        opt = self.optimizers_["weights"]
        opt.zero_grad(set_to_none=True)
        for path in paths:
            loss = F.cross_entropy(self.supernet_(x, path=path), y) / len(paths)
            loss.backward()
            self.op_counts_[np.arange(len(path)), list(path)] += 1
        nn.utils.clip_grad_norm_(self.supernet_.parameters(), self.grad_clip)
        opt.step()

    def _extra_state(self) -> dict[str, Any]:
        return {"sampler": self.sampler_.state_dict(), "op_counts": self.op_counts_.tolist()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.sampler_.load_state_dict(state["sampler"])
        self.op_counts_ = np.asarray(state["op_counts"], dtype=np.int64)

    # --- scoring ------------------------------------------------------------------------------
    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        self._require_same_space(ctx.space.name)
        self.live_, self.device_ = ctx.live, torch.device(ctx.device)
        self.supernet_.to(self.device_, memory_format=preferred_layout(self.device_))
        size = int(self.eval_batch_size)
        try:
            val = [self._batch("val", size, EVAL_VAL, i) for i in range(int(self.eval_batches))]
            bn = [self._batch("train", size, BN_TRAIN, i) for i in range(int(self.bn_batches))]
            tune = [self._batch("train", int(self.batch_size), FINETUNE_TRAIN, i)
                    for i in range(int(self.finetune_steps))]
        finally:
            self.live_ = None
        acc, loss = np.empty(len(archs)), np.empty(len(archs))
        for i, arch in enumerate(archs):
            subnet = extract_subnet(self.supernet_, ctx.space, arch, self.network_kwargs_)
            finetune(subnet, tune, self.finetune_lr, grad_clip=self.grad_clip)
            recalibrate_bn(subnet, bn)
            acc[i], loss[i] = accuracy_and_loss(subnet, val)
        self.last_query_ = {"acc": acc, "loss": loss}
        mean = acc - 1e-6 * np.minimum(loss, 1e3) if self.score == "acc" else -loss
        return Prediction(mean)


@register("oneshot", family="weight_sharing")
class OneShot(SinglePathPredictor):
    """Single-path one-shot supernet with uniform path sampling (SPOS)."""

    def _make_sampler(self, net: type[Supernet]) -> PathSampler:
        return UniformSampler(net)


@register("rsws", family="weight_sharing")
class RandomSearchWS(SinglePathPredictor):
    """Random search with weight sharing: uniform over distinct networks (isomorphism classes)."""

    def _make_sampler(self, net: type[Supernet]) -> PathSampler:
        return DistinctArchSampler(net, self.name)


@register("fairnas", family="weight_sharing")
class FairNAS(SinglePathPredictor):
    """FairNAS strict fairness: every op of every edge trained once per step."""

    def _make_sampler(self, net: type[Supernet]) -> PathSampler:
        return FairSampler(net, self.name)


@register("greedynas", family="weight_sharing")
class GreedyNAS(SinglePathPredictor):
    """GreedyNAS: train only the best of ``num_candidates`` paths; a pool of good paths."""

    conformance_params: ClassVar[dict[str, Any]] = {
        **CONFORMANCE, "num_candidates": 4, "top_k": 2, "greedy_eval_size": 8}

    num_candidates: int = 10
    top_k: int = 5
    pool_size: int = 100
    epsilon: float = 0.8
    epsilon_ramp_steps: int = 500
    greedy_eval_size: int = 64

    def _make_sampler(self, net: type[Supernet]) -> PathSampler:
        return GreedySampler(int(self.num_candidates), int(self.top_k), int(self.pool_size),
                             float(self.epsilon), int(self.epsilon_ramp_steps), net.sample_path)

    def _greedy_eval_size(self) -> int:
        return int(self.greedy_eval_size)
