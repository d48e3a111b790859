"""Adjacency one-hot encoding: upper-triangular adjacency bits plus one-hot node operations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictors.encodings import register_encoding
from predictors.spaces.base import Arch, CellGraph, SearchSpace


def _cell_vector(graph: CellGraph, max_nodes: int) -> np.ndarray:
    n = graph.num_nodes
    adj = np.zeros((max_nodes, max_nodes), dtype=np.float32)
    adj[:n, :n] = graph.adjacency
    vocab = {op: i for i, op in enumerate(graph.vocabulary)}
    ops = np.zeros((max_nodes, len(vocab)), dtype=np.float32)
    for i, op in enumerate(graph.ops):
        if op in vocab:
            ops[i, vocab[op]] = 1.0
    return np.concatenate([adj[np.triu_indices(max_nodes, k=1)], ops.ravel()])


@register_encoding("adjacency_one_hot")
def adjacency_one_hot(archs: Sequence[Arch], space: SearchSpace) -> np.ndarray:
    """One row per architecture; cells of multi-cell spaces are concatenated.

    Graphs are zero-padded to the largest node count seen per cell position, so the width is
    fixed for spaces whose cells have a fixed node count (NB201, DARTS) and for NB101 (7 nodes).
    """
    graphs = [space.cell_graphs(a) for a in archs]
    if not graphs:
        return np.zeros((0, 0), dtype=np.float32)
    widths = [max(g[c].num_nodes for g in graphs) for c in range(len(graphs[0]))]
    max_nodes = [getattr(space, "max_nodes", w) for w in widths]
    rows = [
        np.concatenate([_cell_vector(cell, m) for cell, m in zip(g, max_nodes, strict=True)])
        for g in graphs
    ]
    return np.stack(rows).astype(np.float32)
