"""Which architectures the benchmark trains, and in which order.

One representative per canonical NB201 form (the first cell of the space's enumeration having
that form), ordered by a seeded permutation, so a longer run extends a shorter one. A second
seed goes to every ``second_seed_every``-th architecture of that order.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from predictors.spaces import Arch, get_space

ORDER_SEED = 201
SECOND_SEED_EVERY = 3


@lru_cache(maxsize=2)
def arch_order(space_name: str = "nb201", seed: int = ORDER_SEED) -> tuple[Arch, ...]:
    """Unique (canonical) architectures of the space in a fixed pseudo-random order."""
    space = get_space(space_name)
    reps: dict[object, Arch] = {}
    for arch in space.enumerate():
        reps.setdefault(space.canonical(arch), arch)
    ordered = sorted(reps.values(), key=space.to_string)
    perm = np.random.default_rng(seed).permutation(len(ordered))
    return tuple(ordered[i] for i in perm)


def seeds_for(index: int, every: int = SECOND_SEED_EVERY) -> tuple[int, ...]:
    """Seeds trained for the architecture at ``index`` of the order."""
    return (0, 1) if every > 0 and index % every == 0 else (0,)


def benchmark_tasks(num_archs: int, every: int = SECOND_SEED_EVERY) -> list[tuple[int, int]]:
    """(arch index, seed) pairs of a benchmark of the first ``num_archs`` architectures."""
    total = len(arch_order())
    if not 1 <= num_archs <= total:
        raise ValueError(f"number of architectures must be in 1..{total}, got {num_archs}")
    return [(i, s) for i in range(num_archs) for s in seeds_for(i, every)]


def pilot_tasks(num_archs: int, seeds: int = 2) -> list[tuple[int, int]]:
    """(arch index, seed) pairs of a pilot: the first ``num_archs`` of the order, every seed."""
    return [(i, s) for i in range(num_archs) for s in range(seeds)]
