"""Graph encodings for graph neural predictors: GCN (op-on-node DAG) and BONAS (plus a global node).

Both return a ``GraphBatch`` of padded arrays, one graph per (architecture, cell):

- ``adjacency``: float32 ``[n_archs, n_cells, N, N]`` directed edges ``i -> j`` (no self loops);
- ``features``: float32 ``[n_archs, n_cells, N, F]`` one-hot node labels over ``labels``
  (``input``, the space's vocabulary, ``output``, and for BONAS ``global``);
- ``mask``: bool ``[n_archs, n_cells, N]``, True for real nodes (padding rows are all zero);
- ``graph_features``: optional float32 ``[n_archs, k]`` per-architecture features a predictor
  joins to its graph embedding before the head (e.g. zero-cost scores); None from the encoders.

``N`` is ``space.max_nodes`` where declared (else the largest graph in the batch, plus one for
BONAS's global node), so widths are fixed per space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from predictors.encodings import register_encoding
from predictors.spaces.base import Arch, CellGraph, SearchSpace


@dataclass(frozen=True)
class GraphBatch:
    adjacency: np.ndarray
    features: np.ndarray
    mask: np.ndarray
    labels: tuple[str, ...]
    graph_features: np.ndarray | None = None

    def __len__(self) -> int:
        return self.adjacency.shape[0]


def _labels(graph: CellGraph, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return ("input", *graph.vocabulary, "output", *extra)


def _batch(archs: Sequence[Arch], space: SearchSpace, global_node: bool) -> GraphBatch:
    graphs = [space.cell_graphs(a) for a in archs]
    if not graphs:
        empty = np.zeros((0, 0, 0, 0), dtype=np.float32)
        return GraphBatch(empty, empty, np.zeros((0, 0, 0), dtype=bool), ())
    n_cells = len(graphs[0])
    extra = ("global",) if global_node else ()
    labels = _labels(graphs[0][0], extra)
    index = {name: i for i, name in enumerate(labels)}
    base = getattr(space, "max_nodes", max(g.num_nodes for gs in graphs for g in gs))
    n = base + int(global_node)
    adj = np.zeros((len(graphs), n_cells, n, n), dtype=np.float32)
    feats = np.zeros((len(graphs), n_cells, n, len(labels)), dtype=np.float32)
    mask = np.zeros((len(graphs), n_cells, n), dtype=bool)
    for a, cells in enumerate(graphs):
        for c, g in enumerate(cells):
            k = g.num_nodes
            adj[a, c, :k, :k] = g.adjacency
            for i, op in enumerate(g.ops):
                feats[a, c, i, index[op]] = 1.0
            mask[a, c, :k] = True
            if global_node:  # BONAS: a global node linked to every node of the cell
                adj[a, c, n - 1, :k] = 1.0
                feats[a, c, n - 1, index["global"]] = 1.0
                mask[a, c, n - 1] = True
    return GraphBatch(adj, feats, mask, labels)


@register_encoding("gcn")
def gcn_encoding(archs: Sequence[Arch], space: SearchSpace) -> GraphBatch:
    """Op-on-node cell graphs with one-hot node features (see module docstring)."""
    return _batch(archs, space, global_node=False)


@register_encoding("bonas")
def bonas_encoding(archs: Sequence[Arch], space: SearchSpace) -> GraphBatch:
    """As ``gcn`` plus a global node (last row) with edges to every node, as in BONAS."""
    return _batch(archs, space, global_node=True)
