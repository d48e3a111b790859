"""BANANAS path encoding: one bit per possible input->output sequence of operations.

A path is the sequence of node operations met on a walk from the input node to the output node
of an op-on-node cell graph. Paths are indexed by length, then lexicographically by the
vocabulary order, so every space has a fixed width. Long paths are rare, and their number grows
as ``|ops| ** length``; as in BANANAS, the encoding is truncated: only lengths up to
``space.path_max_length`` (default: the longest whose cumulative count stays within
``MAX_PATHS_PER_CELL``) are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictors.encodings import register_encoding
from predictors.spaces.base import Arch, CellGraph, SearchSpace

MAX_PATHS_PER_CELL = 10_000


def paths(graph: CellGraph) -> list[tuple[int, ...]]:
    """Every input->output path as a tuple of vocabulary indices of its inner nodes."""
    vocab = {op: i for i, op in enumerate(graph.vocabulary)}
    adj = np.asarray(graph.adjacency)
    last = graph.num_nodes - 1
    found: list[tuple[int, ...]] = []

    def walk(node: int, prefix: tuple[int, ...]) -> None:
        for nxt in np.flatnonzero(adj[node]):
            nxt = int(nxt)
            if nxt == last:
                found.append(prefix)
            elif graph.ops[nxt] in vocab:
                walk(nxt, (*prefix, vocab[graph.ops[nxt]]))
            else:
                walk(nxt, prefix)

    walk(0, ())
    return found


def max_length(space: SearchSpace, vocab_size: int, longest: int) -> int:
    """The truncation length for ``space`` (see module docstring)."""
    if getattr(space, "path_max_length", None) is not None:
        return int(space.path_max_length)
    total, length = 0, 0
    for ell in range(1, longest + 1):
        total += vocab_size**ell
        if total > MAX_PATHS_PER_CELL:
            break
        length = ell
    return length


def path_index(path: tuple[int, ...], vocab_size: int) -> int:
    """Position of ``path`` among all paths of length >= 1 (shorter paths first)."""
    offset = sum(vocab_size**ell for ell in range(1, len(path)))
    code = 0
    for token in path:
        code = code * vocab_size + token
    return offset + code


@register_encoding("path")
def path_encoding(archs: Sequence[Arch], space: SearchSpace) -> np.ndarray:
    """One row per architecture: for each cell, bits over all paths up to the truncation length.

    The longest possible path has ``space.max_nodes - 2`` inner nodes where the space declares
    ``max_nodes``; otherwise (spaces of one fixed topology, such as NB201) it is the longest
    path of the batch's graphs.
    """
    if not archs:
        return np.zeros((0, 0), dtype=np.float32)
    graphs = [space.cell_graphs(a) for a in archs]
    rows = [[] for _ in archs]
    for c in range(len(graphs[0])):
        vocab_size = len(graphs[0][c].vocabulary)
        if hasattr(space, "max_nodes"):
            longest = int(space.max_nodes) - 2
        else:
            longest = max(len(p) for g in graphs for p in paths(g[c]))
        length = max_length(space, vocab_size, longest)
        width = sum(vocab_size**ell for ell in range(1, length + 1))
        for r, g in enumerate(graphs):
            bits = np.zeros(width, dtype=np.float32)
            for p in paths(g[c]):
                if 1 <= len(p) <= length:
                    bits[path_index(p, vocab_size)] = 1.0
            rows[r].append(bits)
    return np.stack([np.concatenate(r) for r in rows])
