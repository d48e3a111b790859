"""SemiNAS / NAO sequence encoding: a cell graph written as a token sequence.

For every node after the input, in topological order: one token per earlier node saying whether
it feeds this node (``EDGE_ABSENT``/``EDGE_PRESENT``), then the node's op token. Cells of
multi-cell spaces are concatenated. Graphs are padded to ``space.max_nodes`` (padding nodes have
no edges and the ``PAD`` op), so every space has a fixed length.

Returns int64 ``[n_archs, length]``; ``vocab_size(space)`` gives the number of distinct tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictors.encodings import register_encoding
from predictors.spaces.base import Arch, SearchSpace

PAD, EDGE_ABSENT, EDGE_PRESENT = 0, 1, 2
OP_OFFSET = 3  # op tokens: 3 + vocabulary index; then "output"


def _max_nodes(archs: Sequence[Arch], space: SearchSpace) -> int:
    if hasattr(space, "max_nodes"):
        return int(space.max_nodes)
    return max(g.num_nodes for a in archs for g in space.cell_graphs(a))


def vocab_size(space: SearchSpace, example: Arch | None = None) -> int:
    """Number of token values: PAD, two edge tokens, the ops, and ``output``."""
    arch = example if example is not None else space.sample(np.random.default_rng(0))
    return OP_OFFSET + len(space.cell_graphs(arch)[0].vocabulary) + 1


@register_encoding("seminas")
def seminas_encoding(archs: Sequence[Arch], space: SearchSpace) -> np.ndarray:
    if not archs:
        return np.zeros((0, 0), dtype=np.int64)
    n = _max_nodes(archs, space)
    rows = []
    for arch in archs:
        tokens: list[int] = []
        for g in space.cell_graphs(arch):
            vocab = {op: OP_OFFSET + i for i, op in enumerate(g.vocabulary)}
            output = OP_OFFSET + len(g.vocabulary)
            k = g.num_nodes
            # pad before the output node so the output keeps the last position
            order = list(range(k - 1)) + [None] * (n - k) + [k - 1]
            for pos in range(1, n):
                node = order[pos]
                for prev in range(pos):
                    src = order[prev]
                    edge = node is not None and src is not None and g.adjacency[src, node]
                    tokens.append(EDGE_PRESENT if edge else EDGE_ABSENT)
                if node is None:
                    tokens.append(PAD)
                elif node == k - 1:
                    tokens.append(output)
                else:
                    tokens.append(vocab.get(g.ops[node], PAD))
        rows.append(tokens)
    return np.asarray(rows, dtype=np.int64)
