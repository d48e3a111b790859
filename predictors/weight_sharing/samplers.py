"""Path samplers: which subnet(s) of the supernet one training step updates.

A sampler's ``propose(rng, step, evaluate)`` returns the list of paths whose gradients one
optimizer step accumulates; ``evaluate(paths)`` gives each path's loss on a small validation
batch with the current supernet (GreedyNAS uses it). ``state_dict``/``load_state_dict`` carry
whatever a resumed fit must continue from.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from predictors.base import DataError
from predictors.weight_sharing.supernet import Path, Supernet

Evaluate = Callable[[list[Path]], np.ndarray]


def require_defined(net: type[Supernet], kind: str, who: str) -> None:
    """``DataError`` where the space's supernet does not define sampler ``kind``."""
    reason = net.undefined.get(kind)
    if reason is not None:
        raise DataError(f"{who} is not defined on the {net.space_name} space: {reason}")


def restrict_to(net: type[Supernet], paths: Sequence[Path],
                forms: Sequence[Hashable]) -> type[Supernet]:
    """``net`` with its draws confined to ``paths`` (a pruned space; ``forms`` are their
    canonical forms): ``sample_path`` is uniform over the paths, ``distinct_path`` uniform over
    their forms and then over the form's paths. Strict fairness needs every choice of every
    position each step, which a sub-space lacks, so the fair sampler is undefined on it."""
    paths = [tuple(p) for p in paths]
    if not paths:
        raise ValueError("a pruned space needs at least one architecture")
    groups: dict[Hashable, list[Path]] = {}
    for path, form in zip(paths, forms, strict=True):
        groups.setdefault(form, []).append(path)
    members = list(groups.values())

    def sample(rng: np.random.Generator) -> Path:
        return paths[int(rng.integers(len(paths)))]

    def distinct(rng: np.random.Generator) -> Path:
        group = members[int(rng.integers(len(members)))]
        return group[int(rng.integers(len(group)))]

    undefined = {**net.undefined, "fair": "strict fairness trains every op of every position "
                 "each step, and a pruned space does not hold them all"}
    return type(f"Pruned{net.__name__}", (net,), {
        "sample_path": staticmethod(sample), "distinct_path": staticmethod(distinct),
        "undefined": undefined})


class PathSampler:
    """Base class; stateless samplers keep the default (empty) state."""

    def propose(self, rng: np.random.Generator, step: int, evaluate: Evaluate) -> list[Path]:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class UniformSampler(PathSampler):
    """Single-path one-shot (SPOS, Guo et al. 2020): one architecture, uniformly, each step
    (on NB201 one op per edge)."""

    def __init__(self, net: type[Supernet]) -> None:
        self.net = net

    def propose(self, rng: np.random.Generator, step: int, evaluate: Evaluate) -> list[Path]:
        return [self.net.sample_path(rng)]


class DistinctArchSampler(PathSampler):
    """Random search with weight sharing (Li & Talwalkar 2019) over *distinct* networks.

    Each step trains one architecture drawn uniformly among the space's isomorphism classes
    (then uniformly within the class), so on NB201 the many cells that compute the same network
    (mostly ``none``/``skip`` variants) are not over-trained as they are under per-edge
    sampling. Refused where the space cannot draw its classes uniformly.
    """

    def __init__(self, net: type[Supernet], who: str = "rsws") -> None:
        require_defined(net, "distinct", who)
        self.net = net

    def propose(self, rng: np.random.Generator, step: int, evaluate: Evaluate) -> list[Path]:
        return [self.net.distinct_path(rng)]


class FairSampler(PathSampler):
    """FairNAS strict fairness (Chu et al. 2021): each step trains the paths of one random
    permutation of the choices per position (on NB201 five paths, one op per edge each), so
    every op of every edge is trained exactly once per step (gradients accumulated, one
    update). Refused on spaces whose paths cannot do so (``Supernet.undefined``)."""

    def __init__(self, net: type[Supernet], who: str = "fairnas") -> None:
        require_defined(net, "fair", who)
        self.net = net

    def propose(self, rng: np.random.Generator, step: int, evaluate: Evaluate) -> list[Path]:
        return self.net.fair_paths(rng)


class GreedySampler(PathSampler):
    """GreedyNAS (You et al. 2020): multi-path sampling with rejection and a candidate pool.

    When its queue is empty it draws ``num_candidates`` paths, each from the pool with
    probability epsilon (ramped linearly from 0 to ``epsilon`` over ``epsilon_ramp_steps``) and
    from ``draw`` (the space's uniform sampler) otherwise, ranks them by validation-batch loss
    under the current supernet, queues the best ``top_k`` for training (one per step) and keeps
    the best ``pool_size`` paths seen (with their latest loss) as the candidate pool.
    """

    def __init__(self, num_candidates: int, top_k: int, pool_size: int, epsilon: float,
                 epsilon_ramp_steps: int, draw: Callable[[np.random.Generator], Path]) -> None:
        if not 1 <= top_k <= num_candidates:
            raise ValueError(f"greedynas needs 1 <= top_k <= num_candidates, got top_k={top_k}, "
                             f"num_candidates={num_candidates}")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"greedynas epsilon must lie in [0, 1], got {epsilon}")
        self.num_candidates = num_candidates
        self.top_k = top_k
        self.pool_size = pool_size
        self.epsilon = epsilon
        self.epsilon_ramp_steps = max(1, epsilon_ramp_steps)
        self.draw = draw
        self.queue: list[Path] = []
        self.pool: dict[Path, float] = {}

    def current_epsilon(self, step: int) -> float:
        return self.epsilon * min(1.0, step / self.epsilon_ramp_steps)

    def propose(self, rng: np.random.Generator, step: int, evaluate: Evaluate) -> list[Path]:
        if not self.queue:
            eps = self.current_epsilon(step)
            pool = list(self.pool)
            cands = [pool[int(rng.integers(len(pool)))] if pool and rng.random() < eps
                     else self.draw(rng) for _ in range(self.num_candidates)]
            losses = np.asarray(evaluate(cands), dtype=float)
            order = np.argsort(losses, kind="stable")
            for i in order:
                self.pool[cands[i]] = float(losses[i])
            best = sorted(self.pool.items(), key=lambda kv: (kv[1], kv[0]))[: self.pool_size]
            self.pool = dict(best)
            self.queue = [cands[i] for i in order[: self.top_k]]
        return [self.queue.pop(0)]

    def state_dict(self) -> dict[str, Any]:
        return {"queue": [list(p) for p in self.queue],
                "pool": [[*p, loss] for p, loss in self.pool.items()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.queue = [tuple(int(k) for k in p) for p in state.get("queue", [])]
        self.pool = {tuple(int(k) for k in row[:-1]): float(row[-1])
                     for row in state.get("pool", [])}
