"""Encodings: fixed widths per space, distinct archs -> distinct codes, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from predictors.encodings import encode, encoding_names
from predictors.encodings.path import paths
from predictors.encodings.seminas import vocab_size
from predictors.spaces import Arch, get_space

SPACES = ("nb201", "nb101", "darts", "nbgraph")
VECTOR = ("adjacency_one_hot", "path", "seminas")
WIDTHS = {  # (adjacency_one_hot, path, seminas) widths per space
    "nb201": (68, 155, 35),
    "nb101": (42, 363, 27),
    "darts": (286, 9360, 130),
    "nbgraph": (69, 7380, 20),
}


def _archs(space, n, seed):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        a = space.sample(rng)
        if a not in out:
            out.append(a)
    return out


def test_registry_lists_all():
    assert set(encoding_names()) >= {"adjacency_one_hot", "path", "gcn", "seminas", "bonas"}
    with pytest.raises(KeyError, match="unknown encoding"):
        encode([], "nope", get_space("nb201"))


@pytest.mark.parametrize("name", SPACES)
def test_vector_widths_fixed_and_deterministic(name):
    space = get_space(name)
    a, b = _archs(space, 12, 0), _archs(space, 3, 1)
    for enc, width in zip(VECTOR, WIDTHS[name], strict=True):
        x, y = encode(a, enc, space), encode(b, enc, space)
        assert x.ndim == 2 and x.shape == (12, width) and y.shape == (3, width)
        np.testing.assert_array_equal(x, encode(a, enc, space))
        np.testing.assert_array_equal(x[:3], encode(a[:3], enc, space))  # row independent


@pytest.mark.parametrize("name", SPACES)
def test_distinct_archs_get_distinct_adjacency_codes(name):
    space = get_space(name)
    archs = _archs(space, 40, 2)
    x = encode(archs, "adjacency_one_hot", space)
    graphs = {(tuple(map(tuple, g.adjacency)), g.ops) for a in archs
              for g in [tuple(space.cell_graphs(a))[0]]}
    rows = {r.tobytes() for r in x}
    if name != "darts":
        assert len(rows) == len(graphs)
    else:
        assert len(rows) == len(archs)


def test_path_encoding_nb201_known_paths():
    space = get_space("nb201")
    # only the direct edge 0->3 carries an op: one path of length 1
    arch = Arch("nb201", ("none",) * 3 + ("nor_conv_3x3",) + ("none",) * 2)
    x = encode([arch], "path", space)[0]
    graph = space.cell_graphs(arch)[0]
    assert len(paths(graph)) == 4  # NB201 cells always have four input->output paths
    conv = graph.vocabulary.index("nor_conv_3x3")
    assert x[conv] == 1.0
    # a cell differing on an edge of a long path differs in the path code
    other = Arch("nb201", ("skip_connect",) + ("none",) * 5)
    assert not np.array_equal(x, encode([other], "path", space)[0])


def test_path_distinguishes_where_paths_differ():
    space = get_space("nb201")
    archs = list(space.enumerate())[::53]
    x = encode(archs, "path", space)
    sets = [frozenset(paths(space.cell_graphs(a)[0])) for a in archs]
    for i in range(len(archs)):
        for j in range(i + 1, min(i + 20, len(archs))):
            assert (sets[i] != sets[j]) == (not np.array_equal(x[i], x[j]))


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize("enc", ["gcn", "bonas"])
def test_graph_encodings(name, enc):
    space = get_space(name)
    archs = _archs(space, 5, 4)
    batch = encode(archs, enc, space)
    cells = len(space.cell_graphs(archs[0]))
    n = batch.adjacency.shape[2]
    assert batch.adjacency.shape == (5, cells, n, n)
    assert batch.features.shape == (5, cells, n, len(batch.labels))
    assert batch.mask.shape == (5, cells, n)
    # every real node has exactly one label; padding rows are empty
    np.testing.assert_array_equal(batch.features.sum(-1), batch.mask.astype(np.float32))
    g = space.cell_graphs(archs[0])[0]
    k = g.num_nodes
    np.testing.assert_array_equal(batch.adjacency[0, 0, :k, :k], g.adjacency)
    if enc == "bonas":
        assert batch.labels[-1] == "global"
        assert batch.adjacency[0, 0, n - 1, :k].all() and batch.mask[0, 0, n - 1]
    other = encode(_archs(space, 2, 9), enc, space)
    assert other.adjacency.shape[2:] == batch.adjacency.shape[2:]


def test_seminas_tokens_in_vocabulary():
    for name in SPACES:
        space = get_space(name)
        x = encode(_archs(space, 10, 5), "seminas", space)
        assert x.dtype == np.int64 and x.min() >= 0 and x.max() < vocab_size(space)
        assert len({r.tobytes() for r in x}) == 10
