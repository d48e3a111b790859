"""Mutation test sets: test architectures that are small edits of a benchmark's top cells.

Neighbourhood-based search (local search, evolution) asks a predictor to order small mutations of
good architectures, not uniform samples of the space. The ``mutations`` test distribution
(``benchmarks.protocol``, ``--test-distribution mutations``) draws a trial's test set from:

- **parents**: the top ``top`` fraction (at least one) of the benchmark's cells with a final
  value, ranked by the mean final value over the runs present (the objective, oriented so that
  higher is better). A cell sharing a parent's canonical form is a parent too: an isomorphic copy
  computes the same network, so it is not a new architecture;
- **edit distance**: on NAS-Bench-201, the number of the six edges whose operation differs
  (one edit is one step of ``NB201Space.neighbours``); a cell's distance is to its nearest
  parent cell;
- **the pool**: the benchmark's cells (within the label mode's test pool) whose distance is one
  of ``distances`` and whose canonical form is no parent's. Parents are never tested: the test
  ranks the mutations a search would have to choose between, not the architectures they came
  from. On a benchmark that holds part of the space (``fmnist-nb201``: 1,000 of the 15,625
  cells) the pool is the benchmark's own cells within reach, so it is far smaller than the
  space's neighbourhood.

The test set is drawn within the pool as ``cells`` draws (uniform over cells, one per canonical
form); the train set is drawn as for every distribution, uniform over the cells whose forms are
not tested (parents may be in it, as a search has trained them).

Spelling: ``mutations`` (distances 1 and 2 of the top 1%) or with either part given,
``mutations:d=1,2:top=0.01``; :func:`canonical` is the one spelling tasks record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from benchmarks.contexts import TaskError, oriented_final
from benchmarks.tabular import TabularBenchmark

MUTATIONS = "mutations"
DEFAULT_DISTANCES = (1, 2)
DEFAULT_TOP = 0.01
SYNTAX = "mutations[:d=1,2][:top=0.01]"
#: Spaces whose architectures are fixed-length tuples of edge operations (edit distance defined).
EDIT_SPACES = ("nb201",)


@dataclass(frozen=True)
class MutationSpec:
    """Edit distances of the tested mutations and the top fraction of cells they come from."""

    distances: tuple[int, ...] = DEFAULT_DISTANCES
    top: float = DEFAULT_TOP

    def __str__(self) -> str:
        return f"{MUTATIONS}:d={','.join(map(str, self.distances))}:top={self.top:g}"

    def describe(self) -> str:
        """Words for titles: ``mutations at edit distance 1,2 of the top 1%``."""
        return (f"mutations at edit distance {','.join(map(str, self.distances))} of the top "
                f"{100 * self.top:g}%")


def is_mutations(distribution: str) -> bool:
    """Whether ``distribution`` names a mutation test distribution (well formed or not)."""
    return distribution == MUTATIONS or distribution.startswith(MUTATIONS + ":")


def parse(distribution: str) -> MutationSpec:
    """The spec of ``mutations[:d=..][:top=..]``; ``TaskError`` naming the fix otherwise."""
    if not is_mutations(distribution):
        raise TaskError(f"{distribution!r} is not a mutation test distribution; write {SYNTAX}")
    distances, top = DEFAULT_DISTANCES, DEFAULT_TOP
    for part in distribution.split(":")[1:]:
        name, sep, value = part.partition("=")
        try:
            if name == "d" and sep:
                distances = tuple(sorted({int(v) for v in value.split(",")}))
            elif name == "top" and sep:
                top = float(value)
            else:
                raise ValueError(part)
        except ValueError:
            raise TaskError(f"malformed test distribution {distribution!r} at {part!r}; write "
                            f"{SYNTAX}, e.g. mutations:d=1:top=0.05") from None
    if min(distances) < 1:
        raise TaskError(f"test distribution {distribution!r}: edit distances must be at least 1 "
                        "(distance 0 is the parent itself); e.g. mutations:d=1,2")
    if not 0.0 < top <= 1.0:
        raise TaskError(f"test distribution {distribution!r}: top must be a fraction in (0, 1] "
                        "of the benchmark's cells, e.g. mutations:top=0.01")
    return MutationSpec(distances, top)


def canonical(distribution: str) -> str:
    """The recorded spelling of a distribution: a mutation spec in full, others unchanged."""
    return str(parse(distribution)) if is_mutations(distribution) else distribution


def _op_codes(bench: TabularBenchmark) -> np.ndarray:
    """``[arch, edge]`` integer codes of each cell's edge operations."""
    if bench.space.name not in EDIT_SPACES:
        raise TaskError(
            f"the mutations test distribution measures edit distance on NAS-Bench-201 cells; "
            f"benchmark {bench.name!r} is in space {bench.space.name!r}: use "
            "--test-distribution cells or forms")
    specs = np.asarray([a.spec for a in bench.archs])
    _, codes = np.unique(specs, return_inverse=True)
    return codes.reshape(specs.shape)


def edit_distances(bench: TabularBenchmark, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``[len(rows), len(others)]``: edges whose operation differs between the two cells."""
    codes = _op_codes(bench)
    return (codes[np.asarray(rows)][:, None, :] != codes[np.asarray(others)][None, :, :]).sum(-1)


def mean_pairwise_distance(bench: TabularBenchmark, rows: np.ndarray) -> float | None:
    """Mean edit distance over the pairs of ``rows``; ``None`` outside NB201 or below 2 rows."""
    if bench.space.name not in EDIT_SPACES or len(rows) < 2:
        return None
    dist = edit_distances(bench, rows, rows)
    return float(dist[np.triu_indices(len(rows), k=1)].mean())


@dataclass(frozen=True)
class Mutations:
    """A benchmark's parents under a spec and every cell's edit distance to the nearest one."""

    spec: MutationSpec
    top_cells: np.ndarray
    parents: np.ndarray
    distance: np.ndarray

    @classmethod
    def of(cls, bench: TabularBenchmark, metric: str, spec: MutationSpec) -> Mutations:
        score = oriented_final(bench, metric)
        finite = np.flatnonzero(np.isfinite(score))
        n_top = max(1, math.ceil(spec.top * len(finite) - 1e-9))
        top = finite[np.argsort(-score[finite], kind="stable")[:n_top]]
        keys = bench.canonical_keys
        forms = {keys[i] for i in top}
        parents = np.asarray([i for i in finite if keys[i] in forms], dtype=int)
        distance = edit_distances(bench, np.arange(len(bench.archs)), parents).min(axis=1)
        return cls(spec, np.sort(top), parents, distance)

    def pool(self, bench: TabularBenchmark, within: np.ndarray) -> np.ndarray:
        """Rows of ``within`` at a requested distance whose form is no parent's."""
        keys = bench.canonical_keys
        parent_forms = {keys[i] for i in self.parents}
        wanted = np.isin(self.distance, self.spec.distances)
        return np.asarray([i for i in np.asarray(within, dtype=int)
                           if wanted[i] and keys[i] not in parent_forms], dtype=int)

    def check_pool(self, bench: TabularBenchmark, within: np.ndarray, test_size: int,
                   two_runs: bool) -> np.ndarray:
        """The pool; ``TaskError`` naming the fix when it holds fewer forms than ``test_size``."""
        rows = self.pool(bench, within)
        keys = bench.canonical_keys
        n_forms = len({keys[i] for i in rows})
        if test_size > n_forms:
            runs = " with two or more runs" if two_runs else ""
            raise TaskError(
                f"the {self.spec} test pool of benchmark {bench.name!r} holds {n_forms} "
                f"architectures{runs} ({len(rows)} cells within edit distance "
                f"{','.join(map(str, self.spec.distances))} of its {len(self.top_cells)} top "
                f"cells); lower --test-size to at most {n_forms}, or widen the pool, e.g. "
                f"mutations:d=1,2,3:top={min(1.0, 5 * self.spec.top):g}")
        return rows
