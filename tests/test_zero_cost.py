"""Zero-cost proxies, the params/flops baselines and the tabulated zero-cost predictor."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch
from torch import nn

from predictors import FitContext, QueryContext, available, make
from predictors.base import DataError, LiveSource
from predictors.spaces import get_space
from predictors.spaces.base import Arch, CellGraph, SearchSpace
from predictors.zero_cost import PROXY_MEASURES, ZeroCostProxy, get_measure, measures
from predictors.zero_cost.counting import count_flops, count_params
from predictors.zero_cost.proxy import AzNasProxy

AZ_COMPONENTS = AzNasProxy.COMPONENTS

TINY = {"channels": 4, "cells_per_stage": 1, "in_channels": 1, "num_classes": 10,
        "stem_stride": 2, "input_shape": (1, 28, 28)}
CELL_A = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|" \
         "skip_connect~2|"
CELL_B = "|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|" \
         "nor_conv_3x3~2|"
DEAD = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def random_live(classes: int = 10) -> LiveSource:
    def batch(split: str, size: int, seed: int):
        gen = torch.Generator().manual_seed(seed)
        return torch.randn(size, 1, 28, 28, generator=gen), torch.randint(classes, (size,),
                                                                          generator=gen)

    return LiveSource(batch=batch, name="random tensors")


def space():
    return get_space("nb201")


def query(name: str, cells: list[str], network=TINY, live=None, rng_seed=0, **params):
    s = space()
    live = live or random_live()
    predictor = make(name, **params).fit(FitContext(space=s, live=live))
    archs = [s.from_string(c) for c in cells]
    ctx = QueryContext(space=s, network=network, live=live,
                       rng=np.random.default_rng(rng_seed))
    return predictor, predictor.query(archs, ctx).mean


def test_every_measure_and_baseline_is_registered():
    zero_cost = available("zero_cost")
    assert set(PROXY_MEASURES) | {"zc_table"} <= set(zero_cost)
    assert {"params", "flops"} <= set(available("baseline"))
    for name in PROXY_MEASURES:
        needs = zero_cost[name].needs
        assert not needs.labels
        assert needs.live == (not get_measure(name).data_free)
    assert {m for m in PROXY_MEASURES if get_measure(m).data_free} == {"synflow", "l2_norm", "zen"}


@pytest.mark.parametrize("name", PROXY_MEASURES)
def test_measure_is_finite_deterministic_and_leaves_global_rng(name):
    # epe_nas needs two samples of a class; pattern counts saturate at 2**8 with 8 samples
    batch = {"epe_nas": 16, "swap": 16, "tenas_lr": 256}.get(name, 8)
    rng_before = torch.random.get_rng_state()
    _, first = query(name, [CELL_A, CELL_B], batch_size=batch)
    assert torch.equal(rng_before, torch.random.get_rng_state())
    _, again = query(name, [CELL_A, CELL_B], batch_size=batch)
    assert np.isfinite(first).all(), first
    np.testing.assert_array_equal(first, again)
    assert first[0] != first[1]  # the two cells are told apart


@pytest.mark.parametrize("name", ["synflow", "snip", "grasp", "fisher", "nwot", "zen"])
def test_measure_leaves_the_network_untouched(name):
    net = space().to_network(space().from_string(CELL_A), **{k: v for k, v in TINY.items()
                                                             if k != "input_shape"}).eval()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    x, y = random_live().batch("train", 8, 0)
    get_measure(name).fn(net, x, y, nn.CrossEntropyLoss(), seed=0)
    assert not net.training and all(not m.training for m in net.modules())
    assert all(p.grad is None for p in net.parameters())
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k


def test_init_and_batch_seeds_change_the_score():
    _, base = query("snip", [CELL_A], batch_size=8, init_seed=0, batch_seed=0)
    _, other_init = query("snip", [CELL_A], batch_size=8, init_seed=1, batch_seed=0)
    _, other_batch = query("snip", [CELL_A], batch_size=8, init_seed=0, batch_seed=1)
    assert base[0] != other_init[0] and base[0] != other_batch[0]


def test_unpinned_seeds_follow_the_context_generator():
    """Seeds drawn from the query context: one generator state gives one score, another
    (another trial) a different one; pinned seeds ignore the generator."""
    same = [query("snip", [CELL_A], batch_size=8, rng_seed=s)[1][0] for s in (3, 3, 4)]
    assert same[0] == same[1] != same[2]
    pinned = [query("snip", [CELL_A], batch_size=8, init_seed=0, batch_seed=0, rng_seed=s)[1][0]
              for s in (3, 4)]
    assert pinned[0] == pinned[1]


def test_wider_network_scores_higher_on_synflow_params_flops_l2():
    wide = {**TINY, "channels": 8}
    for name in ("synflow", "params", "flops", "l2_norm"):
        _, narrow_score = query(name, [CELL_A])
        _, wide_score = query(name, [CELL_A], network=wide)
        assert wide_score[0] > narrow_score[0], name


def test_more_convolutions_score_higher_on_synflow():
    convs = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|" \
            "nor_conv_3x3~2|"
    skips = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|" \
            "skip_connect~2|"
    _, scores = query("synflow", [convs, skips])
    assert scores[0] > scores[1]


# --- params / flops --------------------------------------------------------------------------
class TinySpace(SearchSpace):
    """A one-architecture space whose network is small enough to count by hand."""

    name = "tiny-count"

    def from_string(self, text):
        return Arch(self.name, (text,))

    def to_string(self, arch):
        return arch.spec[0]

    def validate(self, arch):
        pass

    def canonical(self, arch):
        return arch.spec

    def sample(self, rng):
        return Arch(self.name, ("only",))

    def neighbours(self, arch):
        return []

    def cell_graphs(self, arch):
        return [CellGraph(np.zeros((2, 2)), ("input", "output"), ())]

    def to_network(self, arch, **kwargs):
        return nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.ReLU(), nn.Flatten(),
                             nn.Linear(2 * 3 * 3, 3))


def test_params_and_flops_match_hand_counts():
    s = TinySpace()
    net = {"input_shape": (1, 5, 5)}
    arch = s.sample(np.random.default_rng(0))
    params = make("params").fit(FitContext(space=s)).query([arch], QueryContext(s, network=net))
    flops = make("flops").fit(FitContext(space=s)).query([arch], QueryContext(s, network=net))
    # conv 2x1x3x3 = 18 weights; linear 18x3 + 3 = 57
    assert params.mean[0] == 18 + 57
    # conv: 2 FLOPs x (2 channels x 3 x 3 outputs) x (1 x 3 x 3 taps); linear: 2 x 18 x 3
    assert flops.mean[0] == 2 * 18 * 9 + 2 * 18 * 3


def test_params_of_an_all_skip_nb201_network_match_hand_count():
    skips = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|" \
            "skip_connect~2|"
    _, counted = query("params", [skips])
    stem = 1 * 4 * 9 + 2 * 4
    reduction1 = 4 * 8 * 9 + 2 * 8 + 8 * 8 * 9 + 2 * 8 + 4 * 8
    reduction2 = 8 * 16 * 9 + 2 * 16 + 16 * 16 * 9 + 2 * 16 + 8 * 16
    head = 2 * 16 + 16 * 10 + 10
    assert counted[0] == stem + reduction1 + reduction2 + head


def test_count_flops_restores_training_mode():
    net = nn.Sequential(nn.Linear(4, 2))
    assert count_flops(net, (4,)) == 2 * 4 * 2 and net.training
    assert count_params(net) == 10


def test_params_fall_back_to_tabulated_property_and_fail_clearly_without_one():
    s = space()
    archs = [s.from_string(CELL_A), s.from_string(CELL_B)]
    pred = make("params").fit(FitContext(space=s))
    out = pred.query(archs, QueryContext(space=s, properties={"params": np.array([3.0, 5.0])}))
    np.testing.assert_array_equal(out.mean, [3.0, 5.0])
    with pytest.raises(DataError, match="tabulated 'flops'"):
        make("flops").fit(FitContext(space=s)).query(archs, QueryContext(space=s))


def test_size_baseline_source_picks_table_or_network():
    s = TinySpace()
    arch = s.sample(np.random.default_rng(0))
    ctx = QueryContext(s, network={"input_shape": (1, 5, 5)},
                       properties={"params": np.array([7.0])})
    assert make("params").fit(FitContext(space=s)).query([arch], ctx).mean[0] == 18 + 57
    table = make("params", source="table").fit(FitContext(space=s))
    assert table.query([arch], ctx).mean[0] == 7.0
    network = make("params", source="network").fit(FitContext(space=s))
    with pytest.raises(DataError, match="source='table'"):
        network.query([arch], QueryContext(s, properties={"params": np.array([7.0])}))
    with pytest.raises(ValueError, match="source must be one of"):
        make("params", source="disk")


# --- failure handling ------------------------------------------------------------------------
def test_undefined_score_becomes_nan_with_reason(caplog):
    with caplog.at_level(logging.WARNING):
        predictor, scores = query("jacov", [DEAD, CELL_A], batch_size=8)
    assert math.isnan(scores[0]) and np.isfinite(scores[1])
    assert "constant" in predictor.failures_[DEAD]
    assert "no score" in caplog.text


def test_epe_nas_without_repeated_class_is_nan():
    predictor, scores = query("epe_nas", [CELL_A], live=random_live(classes=1000), batch_size=4)
    assert math.isnan(scores[0]) and "two samples" in next(iter(predictor.failures_.values()))


class _Probe(ZeroCostProxy):
    measure = "_probe"


def test_non_finite_value_is_nan_and_cuda_oom_retries_smaller(monkeypatch):
    sizes: list[int] = []

    def probe(net, inputs, targets, loss_fn, **opts):
        sizes.append(inputs.shape[0])
        if inputs.shape[0] > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return math.inf if len(sizes) > 3 else float(inputs.shape[0])

    monkeypatch.setitem(measures._MEASURES, "_probe", measures.MeasureSpec("_probe", probe))
    s, live = space(), random_live()
    predictor = _Probe(batch_size=8).fit(FitContext(space=s, live=live))
    ctx = QueryContext(space=s, network=TINY, live=live)
    scores = predictor.query([s.from_string(CELL_A), s.from_string(CELL_B)], ctx).mean
    assert sizes == [8, 4, 2, 8, 4, 2]
    assert scores[0] == 2.0 and math.isnan(scores[1])
    assert "non-finite" in predictor.failures_[CELL_B]


def test_proxy_without_network_configuration_fails_clearly():
    s, live = space(), random_live()
    predictor = make("snip").fit(FitContext(space=s, live=live))
    with pytest.raises(DataError, match="network configuration"):
        predictor.query([s.from_string(CELL_A)], QueryContext(space=s, live=live))


# --- tabulated -------------------------------------------------------------------------------
def test_tabulated_reads_the_named_property_and_names_missing_ones():
    s = space()
    archs = [s.from_string(CELL_A), s.from_string(CELL_B)]
    pred = make("zc_table", measure="nwot")
    assert pred.data_needs().properties == ("zc_nwot",) and not pred.data_needs().labels
    pred.fit(FitContext(space=s))
    props = {"zc_nwot": np.array([700.5, np.nan]), "zc_synflow": np.array([1.0, 2.0])}
    out = pred.query(archs, QueryContext(space=s, properties=props))
    assert out.mean[0] == 700.5 and math.isnan(out.mean[1])
    missing = make("zc_table", measure="jacov").fit(FitContext(space=s))
    with pytest.raises(DataError, match="zc_nwot, zc_synflow"):
        missing.query(archs, QueryContext(space=s, properties=props))


def test_proxy_with_table_source_reads_its_measure_and_refuses_unknown_sources():
    s = space()
    archs = [s.from_string(CELL_A), s.from_string(CELL_B)]
    pred = make("nwot", source="table")
    needs = pred.data_needs()
    assert needs.properties == ("zc_nwot",) and needs.cost_properties == ("zc_nwot_time",)
    assert not needs.live and not needs.network
    pred.fit(FitContext(space=s))
    out = pred.query(archs, QueryContext(space=s, properties={"zc_nwot": np.array([3.0, 1.0])}))
    assert list(out.mean) == [3.0, 1.0]
    assert make("nwot").data_needs().network  # live by default
    with pytest.raises(ValueError, match="unknown source 'disk'"):
        make("nwot", source="disk").data_needs()


def test_proxy_report_reads_score_files_not_yet_merged(tmp_path):
    """--zero-cost-dir tabulates a shard directory's score files onto the benchmark's cells
    (replacing its column of the same measure); AZ-NAS is ranked over all cells at once."""
    import json

    from benchmarks.cli import app
    from benchmarks.synthetic import make_synthetic_benchmark

    bench = make_synthetic_benchmark(n=40, zero_cost=("jacov",))
    bench.metadata["order"] = {"indices": list(range(40))}
    bench_dir = bench.save(tmp_path / "bench")
    files = tmp_path / "shards" / "zero-cost"
    files.mkdir(parents=True)
    truth, settings = bench.final("val_acc"), {"batch_size": 64, "device": "cpu"}
    for i, arch in enumerate(bench.archs[1:], start=1):  # cell 0 unscored
        value = float(truth[i])
        scores = {"jacov": {"score": -value, "time": 0.5, "settings": settings},
                  "az_nas": {"components": dict.fromkeys(AZ_COMPONENTS, value), "time": 0.25,
                             "settings": settings}}
        (files / f"z{i:04d}.json").write_text(json.dumps({"index": i, "arch": str(arch),
                                                          "scores": scores}))
    out = tmp_path / "report.md"
    app(args=["analyze", "proxy-report", "--table", str(bench_dir), "--zero-cost-dir",
              str(files.parent), "--measures", "jacov,az_nas", "--out", str(out), "--boot", "0"],
        prog_name="predbench", standalone_mode=False)
    rows = {r["predictor"]: r for r in json.loads(out.with_suffix(".json").read_text())}
    assert set(rows) == {"jacov", "az_nas"}
    assert rows["jacov"]["spearman"] == pytest.approx(-1.0)  # the files' scores, not the table's
    assert rows["az_nas"]["spearman"] == pytest.approx(1.0) and rows["az_nas"]["missing"] == 1
    assert rows["az_nas"]["cpu_s_per_arch"] == pytest.approx(0.25)


# --- throughput script -----------------------------------------------------------------------
def test_throughput_script_prints_every_requested_measure(capsys):
    from benchmarks.cli import app

    app(args=["bench", "zero-cost-throughput", "--archs", "1", "--device", "cpu", "--data",
              "random", "--channels", "4", "--cells", "1", "--batch-size", "8", "--measures",
              "snip,l2_norm,params"], prog_name="predbench", standalone_mode=False)
    out = capsys.readouterr().out
    assert "1x28x28" in out and "min for 1,000 architectures" in out
    for name in ("snip", "l2_norm", "params"):
        assert any(line.split()[0] == name for line in out.splitlines() if line.strip())


def test_proxy_report_reads_a_benchmarks_zero_cost_table(tmp_path):
    import json

    from conftest import write_synthetic_benchmark

    from benchmarks.cli import app

    bench_dir = write_synthetic_benchmark(tmp_path / "zc", n=60, zero_cost=("jacov", "nwot"))
    out = tmp_path / "report.md"
    app(args=["analyze", "proxy-report", "--table", str(bench_dir), "--out", str(out), "--boot",
              "20", "--plot", str(tmp_path / "bars.png")], prog_name="predbench",
        standalone_mode=False)
    rows = {r["predictor"]: r for r in json.loads(out.with_suffix(".json").read_text())}
    assert set(rows) == {"jacov", "nwot", "params", "flops"}
    assert rows["jacov"]["archs"] == 60 and rows["jacov"]["spearman"] > 0.5  # quality + noise
    assert rows["jacov"]["cpu_s_per_arch"] > 0 and math.isnan(rows["params"]["cpu_s_per_arch"])
    assert (tmp_path / "bars.png").stat().st_size > 0
    # which operations each score rewards: the synthetic quality grows with nor_conv_3x3
    lines = out.read_text().splitlines()
    header = next(line for line in lines if line.startswith("| score |"))
    ops = [c.strip() for c in header.strip("|").split("|")][1:]
    truth = next(line for line in lines if line.startswith("| ground truth"))
    rho = dict(zip(ops, (float(c) for c in truth.strip("|").split("|")[1:]), strict=True))
    assert set(ops) == {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"}
    assert rho["nor_conv_3x3"] > 0.2 and rho["none"] < -0.2
    assert any(line.startswith("| jacov |") for line in lines)
    plain = write_synthetic_benchmark(tmp_path / "plain", n=20)
    with pytest.raises(SystemExit, match="build zero-cost"):
        app(args=["analyze", "proxy-report", "--table", str(plain), "--out", str(out)])
