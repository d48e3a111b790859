"""ZiCo, MeCo, SWAP, TE-NAS's two measures and AZ-NAS: values checked against direct small
computations, determinism, and that the caller's network and the global RNG are untouched."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_zero_cost import CELL_A, CELL_B, TINY, query, random_live, space
from torch import nn

from predictors import FitContext, QueryContext, available, make
from predictors.zero_cost import PROXY_MEASURES, get_measure
from predictors.zero_cost.proxy import AzNasProxy
from predictors.zero_cost.recent_measures import RECOMMENDED_BATCH, az_components

NEW = ("zico", "meco", "swap", "tenas_ntk", "tenas_lr")
IDENTITY_CELL = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"


def test_registered_with_their_papers_batch_sizes():
    assert set(NEW) <= set(PROXY_MEASURES) and "az_nas" in available("zero_cost")
    for name in (*NEW, "az_nas"):
        assert make(name).batch_size == RECOMMENDED_BATCH[name]
        assert available()[name].needs.live
    assert make("snip").batch_size == 64


def test_az_nas_is_finite_deterministic_and_leaves_global_rng():
    """(The live proxies get this check in test_zero_cost.py.)"""
    rng_before = torch.random.get_rng_state()
    _, first = query("az_nas", [CELL_A, CELL_B], batch_size=8)
    assert torch.equal(rng_before, torch.random.get_rng_state())
    _, again = query("az_nas", [CELL_A, CELL_B], batch_size=8)
    assert np.isfinite(first).all(), first
    np.testing.assert_array_equal(first, again)
    assert first[0] != first[1]


@pytest.mark.parametrize("name", [*NEW, "az_expressivity", "az_progressivity",
                                  "az_trainability"])
def test_measure_leaves_the_network_untouched(name):
    kwargs = {k: v for k, v in TINY.items() if k != "input_shape"}
    net = space().to_network(space().from_string(CELL_A), **kwargs).eval()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    x, y = random_live().batch("train", 8, 0)
    get_measure(name).fn(net, x, y, nn.CrossEntropyLoss(), seed=0)
    assert all(not m.training for m in net.modules())
    assert all(p.grad is None for p in net.parameters())
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k


def test_zico_matches_a_direct_computation():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2, bias=False))
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 1, 0])
    loss_fn = nn.CrossEntropyLoss()
    grads = []
    for xs, ys in ((x[:2], y[:2]), (x[2:], y[2:])):
        (g,) = torch.autograd.grad(loss_fn(net(xs), ys), [net[0].weight])
        grads.append(g.double().flatten())
    g1, g2 = grads
    expected = math.log(float(((g1.abs() + g2.abs()) / (g1 - g2).abs()).sum()))
    assert get_measure("zico").fn(net, x, y, loss_fn) == pytest.approx(expected, rel=1e-9)


def test_meco_is_one_minus_the_channel_correlation():
    """A 1x1 identity convolution passes two correlated channels through; the convolution
    and its container each contribute the smallest eigenvalue 1 - |r| of [[1, r], [r, 1]]."""
    conv = nn.Conv2d(2, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.eye(2).reshape(2, 2, 1, 1))
    x = torch.randn(1, 2, 5, 5, generator=torch.Generator().manual_seed(1))
    r = np.corrcoef(x[0].reshape(2, -1).double().numpy())[0, 1]
    value = get_measure("meco").fn(nn.Sequential(conv), x, None, None)
    assert value == pytest.approx(2 * (1 - abs(r)), abs=1e-9)


def test_swap_counts_distinct_unit_patterns():
    # units' patterns over the two samples: (1, 1), (0, 1), (1, 0), (1, 1) -> 3 distinct
    x = torch.tensor([[1.0, -1.0, 2.0, 3.0], [1.0, 2.0, -1.0, 5.0]]).reshape(2, 1, 1, 4)
    assert get_measure("swap").fn(nn.Sequential(nn.ReLU()), x, None, None) == 3.0


def test_tenas_lr_counts_distinct_sample_patterns():
    """On 3x3 inputs the crop is the whole image; samples 0 and 2 share a pattern."""
    x = torch.tensor([[1.0] * 9, [-1.0] * 9, [2.0] * 9, [1.0] * 8 + [-1.0]]).reshape(4, 1, 3, 3)
    assert get_measure("tenas_lr").fn(nn.Sequential(nn.ReLU()), x, None, None) == 3.0


def test_tenas_ntk_is_the_negated_condition_number_of_the_gram_matrix():
    """For f(x) = w.x the per-sample gradient is x, so the NTK is X X^T."""
    net = nn.Linear(5, 1, bias=False)
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(2))
    eig = np.linalg.eigvalsh(x.double().numpy() @ x.double().numpy().T)
    value = get_measure("tenas_ntk").fn(net, x, None, None)
    assert value == pytest.approx(-eig[-1] / eig[0], rel=1e-9)


def test_az_nas_ranks_components_within_the_query():
    values = [{"expressivity": 1.0, "progressivity": 0.0, "trainability": -math.inf,
               "complexity": 5.0},
              {"expressivity": 3.0, "progressivity": 1.0, "trainability": 0.0,
               "complexity": 5.0},
              None]
    out = AzNasProxy()._combine(values)
    # ranks among the two scored: (1, 1, 1, 1.5) and (2, 2, 2, 1.5) out of 2
    assert out[0] == pytest.approx(3 * math.log(0.5) + math.log(0.75))
    assert out[1] == pytest.approx(math.log(0.75)) and math.isnan(out[2])
    _, single = query("az_nas", [CELL_A], batch_size=8)
    assert single[0] == 0.0


def test_az_nas_from_tabulated_components_equals_the_live_query():
    """The builder stores each architecture's components (one query each); the table source
    ranks them over a query exactly as the live proxy ranks the ones it computes."""
    import json

    from benchmarks.builder import zero_cost as zc
    from benchmarks.builder.order import arch_order

    s, live = space(), random_live()
    ctx = QueryContext(space=s, network=TINY, live=live, rng=np.random.default_rng(0))
    fit = FitContext(space=s, live=live)
    scorer = zc._Scorer(ctx, fit, ["az_nas"])
    indices = [0, 1, 2, 3]
    records = {i: json.loads(json.dumps(scorer.score(i, ["az_nas"]))) for i in indices}
    dead = {"expressivity": 1.0, "progressivity": 0.0, "trainability": "-inf", "complexity": 5.0}
    records[9] = {"index": 9, "arch": "x", "scores": {"az_nas": {
        **records[0]["scores"]["az_nas"], "components": dead}}}
    names, table, meta = zc.tabulate(records, [*indices, 9])
    assert meta["components"] == {"az_nas": list(AzNasProxy.COMPONENTS)}
    props = {n: table[:4, k].astype(np.float32) for k, n in enumerate(names)}  # as stored
    tabled = make("az_nas", source="table")
    needs = tabled.data_needs()
    assert set(needs.properties) <= set(names) and needs.cost_properties == ("zc_az_nas_time",)
    archs = [arch_order()[i] for i in indices]
    from_table = tabled.fit(FitContext(space=s)).query(
        archs, QueryContext(space=s, properties=props)).mean
    computed = make("az_nas", init_seed=0, batch_seed=0).fit(fit).query(archs, ctx).mean
    np.testing.assert_array_equal(from_table, computed)
    assert len(set(computed)) == len(indices)
    assert table[4, names.index("zc_az_nas_trainability")] == 1.0  # -inf ranks first
    assert sorted(table[:, names.index("zc_az_nas_expressivity")]) == [1, 2, 3, 4, 5]


def test_az_nas_identity_block_has_minus_infinite_trainability():
    kwargs = {k: v for k, v in TINY.items() if k != "input_shape"}
    x, _ = random_live().batch("train", 8, 0)
    ident = az_components(space().to_network(space().from_string(IDENTITY_CELL), **kwargs), x)
    normal = az_components(space().to_network(space().from_string(CELL_A), **kwargs), x)
    assert ident["trainability"] == -math.inf and math.isfinite(normal["trainability"])
    assert all(math.isfinite(v) for v in normal.values())
