"""DARTS-style differentiable supernet [darts_alpha] with SGAS diagnostics.

Every edge mixes its operations with softmax weights of architecture parameters alpha
([edge, op]); training alternates a first-order step on alpha (Adam, a validation batch) with a
step on the network weights (SGD, a training batch). A subnet scores the sum of its chosen
operations' log-softmax alpha. ``sgas_diagnostics`` reports the criteria of SGAS (Li et al.
2020): edge importance, selection certainty, selection stability and the combined scores.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from predictors.base import DataError, NotFittedError, Prediction, QueryContext
from predictors.registry import register
from predictors.spaces.base import Arch
from predictors.spaces.nb201 import EDGES, OPS
from predictors.weight_sharing.supernet import NONE, NUM_EDGES, arch_to_path
from predictors.weight_sharing.training import SupernetTrainer

TRAIN, ARCH_VAL = 0, 1


def _minmax(values: np.ndarray) -> np.ndarray:
    span = values.max() - values.min()
    return np.ones_like(values) if span <= 0 else (values - values.min()) / span


def sgas_criteria(probs: np.ndarray, history: list[np.ndarray]) -> dict[str, np.ndarray]:
    """SGAS criteria per edge from op probabilities ``probs`` [edge, op] and earlier ones.

    importance: total weight of the non-``none`` ops; certainty: 1 - normalized entropy of the
    non-``none`` distribution; stability: mean histogram intersection of that distribution with
    each earlier one (1 when there is no history). ``criterion1`` = importance x certainty,
    ``criterion2`` also x stability, each factor min-max normalized over edges.
    """
    keep = [k for k in range(probs.shape[1]) if k != NONE]
    importance = probs[:, keep].sum(axis=1)
    dist = probs[:, keep] / np.maximum(importance[:, None], 1e-12)
    entropy = -(dist * np.log(np.clip(dist, 1e-12, None))).sum(axis=1)
    certainty = 1.0 - entropy / np.log(len(keep))
    if history:
        past = [h[:, keep] / np.maximum(h[:, keep].sum(axis=1, keepdims=True), 1e-12)
                for h in history]
        stability = np.mean([np.minimum(dist, p).sum(axis=1) for p in past], axis=0)
    else:
        stability = np.ones(len(probs))
    c1 = _minmax(importance) * _minmax(certainty)
    return {"importance": importance, "certainty": certainty, "stability": stability,
            "criterion1": c1, "criterion2": c1 * _minmax(stability)}


@register("darts_alpha", family="weight_sharing")
class DartsAlpha(SupernetTrainer):
    """Score = sum of the chosen ops' log-softmax architecture weights after DARTS training."""

    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 1, "steps_per_epoch": 2,
                                                     "batch_size": 8}
    #: A DARTS step runs every operation of every edge: the first run's preset takes 25.
    quick_params: ClassVar[dict[str, Any]] = {"epochs": 1, "steps_per_epoch": 25}
    _optimizer_names = ("weights", "arch")

    lr: float = 0.025
    arch_lr: float = 3e-4
    arch_weight_decay: float = 1e-3
    stability_window: int = 3

    def _make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self.supernet_.space_name != "nb201":
            raise DataError(f"{self.name} mixes the operations of NAS-Bench-201's supernet "
                            f"edges; it does not cover the {self.supernet_.space_name} space "
                            "(the single-path predictors oneshot and greedynas do)")
        gen = torch.Generator().manual_seed(int(self.rng_.integers(2**31)))
        init = 1e-3 * torch.randn(NUM_EDGES, len(OPS), generator=gen)
        self.alpha_ = nn.Parameter(init.to(self.device_))
        self.history_: list[np.ndarray] = []
        weights = torch.optim.SGD(self.supernet_.parameters(), lr=self.lr,
                                  momentum=self.momentum, weight_decay=self.weight_decay)
        arch = torch.optim.Adam([self.alpha_], lr=self.arch_lr, betas=(0.5, 0.999),
                                weight_decay=self.arch_weight_decay)
        return {"weights": weights, "arch": arch}

    def _train_step(self, step: int) -> None:
        xv, yv = self._batch("val", int(self.batch_size), ARCH_VAL, step)
        arch_opt, weight_opt = self.optimizers_["arch"], self.optimizers_["weights"]
        arch_opt.zero_grad(set_to_none=True)
        F.cross_entropy(self.supernet_(xv, weights=F.softmax(self.alpha_, dim=-1)), yv).backward()
        arch_opt.step()
        x, y = self._batch("train", int(self.batch_size), TRAIN, step)
        weight_opt.zero_grad(set_to_none=True)
        mix = F.softmax(self.alpha_, dim=-1).detach()
        F.cross_entropy(self.supernet_(x, weights=mix), y).backward()
        nn.utils.clip_grad_norm_(self.supernet_.parameters(), self.grad_clip)
        weight_opt.step()
        if (step + 1) % int(self.steps_per_epoch) == 0:
            self.history_.append(self.probabilities())

    def _extra_state(self) -> dict[str, Any]:
        return {"alpha": self.alpha_.detach().cpu().tolist(),
                "history": [h.tolist() for h in self.history_]}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self.alpha_.copy_(torch.tensor(state["alpha"], dtype=self.alpha_.dtype))
        self.history_ = [np.asarray(h) for h in state["history"]]

    # --- scoring and diagnostics ----------------------------------------------------------
    def probabilities(self) -> np.ndarray:
        """Softmax of alpha, [edge, op] in NB201 edge and op order."""
        return F.softmax(self.alpha_.detach(), dim=-1).cpu().double().numpy()

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        self._require_same_space(ctx.space.name)
        logp = F.log_softmax(self.alpha_.detach(), dim=-1).cpu().double().numpy()
        edges = np.arange(NUM_EDGES)
        return Prediction(np.array([logp[edges, list(arch_to_path(a))].sum() for a in archs]))

    def sgas_diagnostics(self) -> dict[str, Any]:
        """SGAS criteria per edge (see ``sgas_criteria``) over the last ``stability_window``
        epochs, with the edges (``(src, dst)``) and the greedy decision order by criterion 2."""
        if not self._fitted:
            raise NotFittedError(f"{self.name}: call fit() before sgas_diagnostics()")
        probs = self.probabilities()
        window = int(self.stability_window)
        past = self.history_[-window - 1:-1] if self.history_ else []
        out: dict[str, Any] = dict(sgas_criteria(probs, past))
        out["edges"] = list(EDGES)
        out["ops"] = list(OPS)
        out["probabilities"] = probs
        out["decision_order"] = [EDGES[e] for e in np.argsort(-out["criterion2"], kind="stable")]
        return out
