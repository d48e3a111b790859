"""Search spaces: parsing round trips, clear errors, canonical forms, operators, networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from predictors.spaces import Arch, ArchError, get_space
from predictors.spaces.nb101 import graph_hash
from predictors.spaces.nb201 import EDGES

SPACES = ("nb201", "nb101", "darts", "nbgraph", "nbgraph-proteins")


@pytest.mark.parametrize("name", SPACES)
def test_sample_roundtrip_neighbours(name):
    space = get_space(name)
    rng = np.random.default_rng(0)
    for _ in range(5):
        arch = space.check(space.sample(rng))
        assert space.from_string(space.to_string(arch)) == arch
        nbrs = space.neighbours(arch)
        assert nbrs and arch not in nbrs and len(set(nbrs)) == len(nbrs)
        for n in nbrs[:20]:
            space.check(n)
        assert space.mutate(arch, rng) in nbrs
        graphs = space.cell_graphs(arch)
        for g in graphs:
            assert g.adjacency.shape == (g.num_nodes, g.num_nodes)
            assert not np.tril(g.adjacency).any()
            assert g.ops[0] == "input" and g.ops[-1] == "output"


# --- NB201 --------------------------------------------------------------------------------------
def test_nb201_string_and_op_index_roundtrip():
    space = get_space("nb201")
    text = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|"
    arch = space.from_string(text)
    assert space.to_string(arch) == text
    assert arch.spec == ("nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "none",
                         "nor_conv_1x1")
    for a in list(space.enumerate())[::97]:
        assert space.from_op_indices(space.to_op_indices(a)) == a
    # Suite-Zero edge order (1,2),(1,3),(1,4),(2,3),(2,4),(3,4); ops skip,none,conv3,conv1,pool
    a = space.from_op_indices("(0, 2, 3, 2, 3, 1)")
    assert dict(zip(EDGES, a.spec, strict=True)) == {
        (0, 1): "skip_connect", (0, 2): "nor_conv_3x3", (0, 3): "nor_conv_1x1",
        (1, 2): "nor_conv_3x3", (1, 3): "nor_conv_1x1", (2, 3): "none"}


@pytest.mark.parametrize("text, fragment", [
    ("|nor_conv_3x3~0|+|none~0|skip_connect~1|", "expected 3"),
    ("|nor_conv_3x3~0|+|none~0|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|", "must list 2"),
    ("|conv~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|", "unknown op"),
    ("|nor_conv_3x3~1|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|", "~0"),
])
def test_nb201_malformed_strings(text, fragment):
    with pytest.raises(ArchError, match=fragment):
        get_space("nb201").from_string(text)


def test_nb201_canonical_merges_isomorphic_cells():
    space = get_space("nb201")
    cells = list(space.enumerate())
    keys = [space.canonical(a) for a in cells]
    assert len(cells) == 15625
    assert len(set(keys)) == 4930
    # with edge 1->2 = none, nodes 1 and 2 are interchangeable: swapping them keeps the form
    for a in cells[::7]:
        e = dict(zip(EDGES, a.spec, strict=True))
        if e[(1, 2)] != "none":
            continue
        swapped = {**e, (0, 1): e[(0, 2)], (0, 2): e[(0, 1)], (1, 3): e[(2, 3)],
                   (2, 3): e[(1, 3)]}
        assert space.canonical(Arch("nb201", tuple(swapped[x] for x in EDGES))) == \
            space.canonical(a)
    # soundness: a conv on the only live path changes the function, so the form differs
    base = ("nor_conv_3x3", "none", "none", "none", "none", "none")
    a = ("nor_conv_3x3", "none", "none", "none", "nor_conv_3x3", "none")
    b = ("nor_conv_3x3", "none", "none", "none", "nor_conv_1x1", "none")
    assert space.canonical(Arch("nb201", a)) != space.canonical(Arch("nb201", b))
    assert space.canonical(Arch("nb201", base)) == "zero"  # output never reached


def test_nb201_network_forward():
    space = get_space("nb201")
    arch = space.sample(np.random.default_rng(1))
    net = space.to_network(arch, channels=4, cells_per_stage=1, in_channels=1, num_classes=10)
    out = net(torch.zeros(2, 1, 28, 28))
    logits = out[-1] if isinstance(out, tuple) else out
    assert logits.shape == (2, 10)


# --- NB101 --------------------------------------------------------------------------------------
def test_nb101_pruning_and_hash():
    space = get_space("nb101")
    m = np.zeros((5, 5), dtype=int)
    m[0, 1] = m[1, 4] = m[0, 2] = m[2, 3] = 1  # node 3 never reaches the output
    arch = space.make(m, ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"])
    assert arch.spec[1] == ("input", "conv3x3-bn-relu", "output")
    assert space.to_string(arch) == "010,001,000|input,conv3x3-bn-relu,output"
    two = np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    a = space.make(two, ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    b = space.make(two, ["input", "maxpool3x3", "conv3x3-bn-relu", "output"])
    c = space.make(two, ["input", "maxpool3x3", "maxpool3x3", "output"])
    assert space.canonical(a) == space.canonical(b) != space.canonical(c)
    chain = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    assert graph_hash(chain, a.spec[1]) != graph_hash(two, a.spec[1])


@pytest.mark.parametrize("text, fragment", [
    ("011,001|input,conv3x3-bn-relu,output", "square"),
    ("010,001,000|input,conv5x5,output", "unknown NB101 op"),
    ("000,000,000|input,conv3x3-bn-relu,output", "no path"),
    ("100,001,000|input,conv3x3-bn-relu,output", "upper-triangular"),
])
def test_nb101_errors(text, fragment):
    with pytest.raises(ArchError, match=fragment):
        get_space("nb101").from_string(text)


def test_nb101_edge_limit():
    full = np.triu(np.ones((7, 7), dtype=int), 1)
    with pytest.raises(ArchError, match="at most 9"):
        get_space("nb101").make(full, ["input"] + ["conv3x3-bn-relu"] * 5 + ["output"])


# --- DARTS --------------------------------------------------------------------------------------
def test_darts_canonical_ignores_input_order_and_validates():
    space = get_space("darts")
    arch = space.sample(np.random.default_rng(3))
    normal = list(arch.spec[0])
    normal[0], normal[1] = normal[1], normal[0]
    swapped = Arch("darts", (tuple(normal), arch.spec[1]))
    assert swapped != arch and space.canonical(swapped) == space.canonical(arch)
    assert len(space.cell_graphs(arch)) == 2
    text = space.to_string(arch)
    with pytest.raises(ArchError, match="reads node"):
        space.from_string(text.replace("~0", "~5", 1) if "~0" in text.split("|")[0] else
                          text.replace("~1", "~5", 1))
    with pytest.raises(ArchError, match="normal;reduce"):
        space.from_string(text.split(";")[0])
    compact = [[(src, list(space_ops()).index(op)) for op, src in cell] for cell in arch.spec]
    assert space.from_compact(compact) == arch


def space_ops():
    from predictors.spaces.darts import OPS

    return OPS


# --- NAS-Bench-Graph ----------------------------------------------------------------------------
def test_nbgraph_members_keys_and_canonical():
    space = get_space("nbgraph")
    members = list(space.enumerate())
    assert len(members) == 26206
    assert len(list(get_space("nbgraph-proteins").enumerate())) == 2021
    from predictors.spaces.nbgraph import decode_key, encode_key
    for a in members[::1000]:
        assert decode_key(encode_key(*a.spec)) == a.spec
    # the same network written in a different layer order resolves to one member
    a = space.from_string("0,1,2,1|gcn,gin,fc,cheb")
    b = space.from_string("0,1,1,2|gcn,gin,cheb,fc")
    assert a == b and a in set(members)
    # functionally equal writings share the canonical form; a raw-input leaf is dropped
    assert space.canonical(space.make((0, 0, 0, 0), ("gcn", "gcn", "gat", "skip"))) == \
        "gat(x)+gcn(x)+gcn(x)"
    keys = {space.canonical(m) for m in members}
    assert len(keys) == 23822
    with pytest.raises(ArchError, match="four links"):
        space.from_string("0,0,1|gcn,gcn,gcn")
    with pytest.raises(ArchError, match="can only read"):
        space.from_string("0,2,1,1|gcn,gcn,gcn,gcn")
    with pytest.raises(ArchError, match="all-skip"):
        space.from_string("0,0,0,0|skip,skip,skip,skip")
    with pytest.raises(ArchError, match="unknown op"):
        get_space("nbgraph-proteins").from_string("0,0,0,0|gat,gcn,gcn,gcn")
