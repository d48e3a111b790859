"""Weight-sharing predictors: supernet training, subnet scoring, checkpoints, samplers, DARTS."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import NETWORK
from torch import nn

from predictors.base import DataError, FitContext, LiveSource, QueryContext
from predictors.registry import available, make
from predictors.spaces import get_space
from predictors.spaces.base import Arch
from predictors.testing import parametrize_with_checks
from predictors.weight_sharing.evaluation import recalibrate_bn
from predictors.weight_sharing.samplers import GreedySampler
from predictors.weight_sharing.supernet import (
    NB201Supernet,
    arch_to_path,
    build_supernet,
    extract_subnet,
)

SPACE = get_space("nb201")
CFG = {k: v for k, v in NETWORK.items() if k != "input_shape"}
ALL_NONE = Arch("nb201", ("none",) * 6)
ALL_CONV = Arch("nb201", ("nor_conv_3x3",) * 6)
#: x + conv(conv(x)): a residual conv cell, quick to train.
RES_CONV = Arch("nb201", ("nor_conv_3x3", "none", "none", "skip_connect", "nor_conv_3x3", "none"))
TINY = {"batch_size": 8, "bn_batches": 1, "eval_batches": 1, "eval_batch_size": 32}


def separable_source() -> LiveSource:
    """Two classes told apart by image brightness: easy to learn, impossible for a network
    whose output does not depend on its input."""

    def batch(split: str, size: int, seed: int):
        gen = torch.Generator().manual_seed(seed * 2 + (split == "val"))
        y = torch.randint(2, (size,), generator=gen)
        shift = (2.0 * y - 1.0).view(-1, 1, 1, 1)
        return shift + torch.randn(size, 1, 28, 28, generator=gen), y

    return LiveSource(batch=batch, name="separable templates")


def contexts(seed: int = 0, space=SPACE):
    live = separable_source()
    return (FitContext(space=space, labels=None, rng=np.random.default_rng(seed), live=live,
                       network=NETWORK),
            QueryContext(space=space, rng=np.random.default_rng(seed + 1), live=live,
                         network=NETWORK))


def test_all_registered_in_family():
    assert {"oneshot", "rsws", "greedynas", "fairnas", "darts_alpha"} <= set(
        available("weight_sharing"))


def test_subnet_is_the_benchmark_network_with_inherited_weights():
    supernet = build_supernet(SPACE, CFG, init_seed=1, who="test").eval()
    arch = Arch("nb201", ("nor_conv_3x3", "skip_connect", "none", "avg_pool_3x3",
                          "nor_conv_1x1", "nor_conv_3x3"))
    subnet = extract_subnet(supernet, SPACE, arch, CFG).eval()
    assert type(subnet) is type(SPACE.to_network(arch, **CFG))
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(subnet(x), supernet(x, path=arch_to_path(arch)))


def test_supernet_ranks_broken_subnet_below_conv_subnet():
    fctx, qctx = contexts()
    pred = make("oneshot", epochs=1, steps_per_epoch=30, **TINY).fit(fctx)
    scores = pred.query([ALL_NONE, RES_CONV], qctx).mean
    assert scores[1] > scores[0]
    assert pred.last_query_["acc"][1] >= 0.9 and pred.last_query_["acc"][0] <= 0.7


def test_bn_recalibration_sets_running_stats_to_batch_statistics():
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3))
    x = torch.randn(16, 1, 8, 8) * 3 + 1
    before = net[1].running_mean.clone()
    recalibrate_bn(net, [(x, torch.zeros(16, dtype=torch.long))])
    with torch.no_grad():
        expected = net[0](x).mean(dim=(0, 2, 3))
    assert not torch.allclose(before, net[1].running_mean)
    torch.testing.assert_close(net[1].running_mean, expected)
    assert net[1].momentum == 0.1 and not net.training


def test_finetuning_leaves_shared_weights_untouched():
    fctx, qctx = contexts()
    pred = make("fairnas", epochs=1, steps_per_epoch=3, finetune_steps=3, finetune_lr=0.1,
                **TINY).fit(fctx)
    before = {k: v.clone() for k, v in pred.supernet_.state_dict().items()}
    tuned = pred.query([ALL_CONV], qctx)
    for key, value in pred.supernet_.state_dict().items():
        torch.testing.assert_close(value, before[key], msg=key)
    pred.finetune_steps = 0
    plain = pred.query([ALL_CONV], qctx)
    assert tuned.mean[0] != plain.mean[0]


def test_checkpoint_resume_matches_uninterrupted_fit(tmp_path):
    common = dict(steps_per_epoch=3, checkpoint_every=2, **TINY)
    first = make("greedynas", epochs=1, checkpoint_dir=str(tmp_path), num_candidates=4,
                 top_k=2, greedy_eval_size=8, **common).fit(contexts()[0])
    assert first.fit_info_["resumed_from"] == 0 and list(tmp_path.glob("greedynas-*.pt"))
    resumed = make("greedynas", epochs=2, checkpoint_dir=str(tmp_path), num_candidates=4,
                   top_k=2, greedy_eval_size=8, **common).fit(contexts()[0])
    assert resumed.fit_info_["resumed_from"] == 3
    straight = make("greedynas", epochs=2, num_candidates=4, top_k=2, greedy_eval_size=8,
                    **common).fit(contexts()[0])
    for key, value in straight.supernet_.state_dict().items():
        torch.testing.assert_close(resumed.supernet_.state_dict()[key], value, msg=key)
    assert resumed.sampler_.pool == straight.sampler_.pool


def test_fairnas_trains_every_op_equally_often():
    pred = make("fairnas", epochs=1, steps_per_epoch=4, **TINY).fit(contexts()[0])
    assert np.all(pred.op_counts_ == 4)
    uniform = make("oneshot", epochs=1, steps_per_epoch=4, **TINY).fit(contexts()[0])
    assert uniform.op_counts_.sum() == 6 * 4 and not np.all(uniform.op_counts_ == 1)


def test_greedy_sampler_trains_the_best_candidates_and_keeps_a_pool():
    sampler = GreedySampler(num_candidates=6, top_k=2, pool_size=3, epsilon=0.0,
                            epsilon_ramp_steps=1, draw=NB201Supernet.sample_path)
    rng = np.random.default_rng(0)
    seen: list = []

    def evaluate(paths):
        seen.extend(paths)
        return np.array([sum(p) for p in paths], dtype=float)

    first, second = sampler.propose(rng, 0, evaluate), sampler.propose(rng, 1, evaluate)
    best = sorted(seen, key=sum)[:2]
    assert sorted([first[0], second[0]], key=sum) == best
    assert len(sampler.pool) == 3 and max(sampler.pool.values()) <= sorted(map(sum, seen))[2]
    with pytest.raises(ValueError, match="top_k"):
        GreedySampler(2, 3, 1, 0.5, 1, NB201Supernet.sample_path)


def test_darts_scores_are_summed_log_softmax_and_sgas_diagnostics():
    fctx, qctx = contexts()
    pred = make("darts_alpha", epochs=2, steps_per_epoch=2, batch_size=8, arch_lr=0.05).fit(fctx)
    probs = pred.probabilities()
    assert probs.shape == (6, 5) and np.allclose(probs.sum(axis=1), 1.0)
    score = pred.query([ALL_CONV], qctx).mean[0]
    assert score == pytest.approx(np.log(probs[:, 3]).sum(), rel=1e-6)
    diag = pred.sgas_diagnostics()
    for key in ("importance", "certainty", "stability", "criterion1", "criterion2"):
        assert diag[key].shape == (6,) and np.all(diag[key] >= -1e-9)
    assert np.all(diag["importance"] <= 1) and np.all(diag["certainty"] <= 1 + 1e-9)
    assert sorted(diag["decision_order"]) == sorted(diag["edges"])


def test_user_errors_are_clear():
    fctx, _ = contexts()
    with pytest.raises(ValueError, match="score"):
        make("oneshot", score="f1", **TINY).fit(fctx)
    other, _ = contexts(space=get_space("nbgraph"))
    with pytest.raises(DataError, match="no weight-sharing supernet covers the 'nbgraph'"):
        make("oneshot", epochs=1, steps_per_epoch=1, **TINY).fit(other)


def test_random_best_of_is_the_exact_expectation():
    from itertools import combinations

    from benchmarks.analyses.supernet import random_best_of

    truth = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.6])
    for k in (1, 2, 4):
        brute = np.mean([max(c) for c in combinations(truth, k)])
        assert random_best_of(truth, k) == pytest.approx(brute)


def test_supernet_analysis_runs_on_a_tiny_synthetic_benchmark(tmp_path, monkeypatch):
    import pandas as pd
    from conftest import write_synthetic_benchmark

    from benchmarks.cli import app

    bench_dir = write_synthetic_benchmark(tmp_path / "tiny-nb201", n=40, name="tiny-nb201")
    args = ["analyze", "--benchmark", str(bench_dir), "--samplers", "oneshot,darts_alpha",
            "--epochs", "1,2", "--steps-per-epoch", "2", "--archs", "30",
            "--rank-archs", "20", "--finetune-steps", "0,1", "--finetune-archs", "5",
            "--batch-size", "8", "--eval-batch-size", "8", "--bn-batches", "1",
            "--eval-batches", "1", "--device", "cpu", "--out", str(tmp_path / "out"),
            "--checkpoint-dir", str(tmp_path / "ckpt")]
    out = app(args=["analyze", "supernet", *args], prog_name="predbench",
              standalone_mode=False)
    table = pd.read_csv(tmp_path / "out" / "tiny-nb201" / "table.csv")
    assert list(table["steps"]) == [2, 4, 2, 4]
    assert table["kendall"].between(-1, 1).all() and table["spearman"].between(-1, 1).all()
    assert (table["top10_best_truth"] >= table["top1_best_truth"]).all()
    assert len(out["finetune"]) == 2 and out["summary"]["rank_archs"] == 20
    for name in ("op_ranks.csv", "summary.json", "supernet_over_epochs.png", "op_mean_rank.png"):
        assert (tmp_path / "out" / "tiny-nb201" / name).is_file()
    for _, rows in table.groupby("sampler"):
        assert rows["fit_cpu_seconds_cumulative"].is_monotonic_increasing

    # A rerun reads every snapshot back: no training, no scoring, the same table.
    from benchmarks.analyses import supernet as supernet_analysis

    def no_fit(*a, **k):
        raise AssertionError("a cached snapshot was trained again")

    monkeypatch.setattr(supernet_analysis.SamplerRun, "_fit", no_fit)
    again = app(args=["analyze", "supernet", *args], prog_name="predbench",
                standalone_mode=False)
    assert [r["kendall"] for r in again["records"]] == [r["kendall"] for r in out["records"]]


def test_finetune_subset_depends_on_the_set_of_architectures_not_their_order():
    from benchmarks.analyses.supernet import finetune_subset

    keys = [f"arch-{i}" for i in range(50)]
    chosen = {keys[i] for i in finetune_subset(keys, 10)}
    shuffled = list(np.random.default_rng(0).permutation(keys))
    assert {shuffled[i] for i in finetune_subset(shuffled, 10)} == chosen
    assert len(chosen) == 10 and finetune_subset(keys, 80) == list(range(50))


def test_supernet_score_fills_the_cache_for_the_build_order(tmp_path):
    import json

    from benchmarks.builder import fashion_mnist as fm
    from benchmarks.builder.order import arch_order
    from benchmarks.cli import app

    if not all((fm.DEFAULT_DIR / f).is_file() for f in fm.FILES.values()):
        pytest.skip("needs the Debian package dataset-fashion-mnist")
    args = ["score", "--recipe", "tiny", "--order", "6", "--samplers", "oneshot",
            "--epochs", "1", "--steps-per-epoch", "2", "--finetune-steps", "0,1",
            "--finetune-archs", "3", "--batch-size", "8", "--eval-batch-size", "8",
            "--bn-batches", "1", "--eval-batches", "1", "--device", "cpu",
            "--out", str(tmp_path)]
    def main(argv):
        return app(args=["analyze", "supernet", *argv], prog_name="predbench",
                   standalone_mode=False)

    assert main(args) == {"oneshot": 6 + 3}
    files = sorted((tmp_path / "cache").glob("oneshot-e1*.json"))
    assert len(files) == 2 and sum("-ft1-" in f.name for f in files) == 1
    plain = json.loads(next(f for f in files if "-ft" not in f.name).read_text())
    space = get_space("nb201")
    assert set(plain["scores"]) == {space.to_string(a) for a in arch_order()[:6]}
    assert plain["steps"] == 2 and plain["train_cpu_s"] > 0
    assert main(args) == {"oneshot": 9}  # a rerun finds everything cached
    from benchmarks.analyses.supernet import finetune_subset

    tuned = json.loads(next(f for f in files if "-ft1-" in f.name).read_text())
    keys = [space.to_string(a) for a in arch_order()[:6]]
    assert set(tuned["scores"]) == {keys[i] for i in finetune_subset(keys, 3)}


def test_supernet_analysis_epoch_is_one_pass_over_the_benchmark_training_split():
    import math

    from benchmarks.analyses.supernet import BatchSizeOpt, StepsPerEpochOpt
    from benchmarks.builder.recipe import BENCHMARK_RECIPE, get_recipe

    recipe = get_recipe(BENCHMARK_RECIPE)
    assert StepsPerEpochOpt.default == math.ceil(recipe.train_size / BatchSizeOpt.default)


# --- NB101 and DARTS supernets ----------------------------------------------------------------
#: Tiny networks; NB101's odd stem width gives vertices of unequal widths (channel slicing).
SPACE_NETWORKS = {
    "nb101": {"stem_channels": 5, "cells_per_stack": 1, "in_channels": 1, "num_classes": 10,
              "input_shape": (1, 16, 16)},
    "darts": {"channels": 4, "layers": 3, "stem_multiplier": 1, "in_channels": 1,
              "num_classes": 10, "input_shape": (1, 16, 16)},
}


def space_contexts(space: str, seed: int = 0):
    s, network = get_space(space), SPACE_NETWORKS[space]

    def batch(split: str, size: int, batch_seed: int):
        gen = torch.Generator().manual_seed(batch_seed * 2 + (split == "val"))
        return torch.randn(size, 1, 16, 16, generator=gen), torch.randint(10, (size,),
                                                                          generator=gen)

    live = LiveSource(batch=batch, name="noise")
    return (FitContext(space=s, labels=None, rng=np.random.default_rng(seed), live=live,
                       network=network),
            QueryContext(space=s, rng=np.random.default_rng(seed + 1), live=live,
                         network=network))


@pytest.mark.parametrize("space", sorted(SPACE_NETWORKS))
def test_new_space_subnets_are_the_benchmark_networks_with_inherited_weights(space):
    s = get_space(space)
    cfg = {k: v for k, v in SPACE_NETWORKS[space].items() if k != "input_shape"}
    supernet = build_supernet(s, cfg, init_seed=1, who="test")
    archs = [s.sample(np.random.default_rng(i)) for i in range(6)]
    if space == "nb101":
        archs.append(s.make([[0, 1], [0, 0]], ["input", "output"]))
    x = torch.randn(3, 1, 16, 16)
    # one training step moves the weights and BatchNorm statistics of a path away from init
    supernet.train()
    supernet(x, path=supernet.arch_to_path(archs[0])).sum().backward()
    with torch.no_grad():
        for p in supernet.parameters():
            if p.grad is not None:
                p -= 0.1 * p.grad
    supernet.eval()
    for arch in archs:
        subnet = extract_subnet(supernet, s, arch, cfg).eval()
        assert type(subnet) is type(s.to_network(arch, **cfg))
        with torch.no_grad():
            torch.testing.assert_close(subnet(x), supernet(x, path=supernet.arch_to_path(arch)))


@pytest.mark.parametrize("space,name", [("nb101", "oneshot"), ("darts", "greedynas")])
def test_new_space_fit_trains_sampled_paths_and_query_scores(space, name):
    fctx, qctx = space_contexts(space)
    greedy = {"num_candidates": 3, "top_k": 2, "greedy_eval_size": 4}
    pred = make(name, epochs=1, steps_per_epoch=3, **TINY,
                **(greedy if name == "greedynas" else {}))
    init = build_supernet(fctx.space, {k: v for k, v in fctx.network.items()
                                       if k != "input_shape"}, 0, "test").state_dict()
    pred.fit(fctx)
    assert pred.op_counts_.sum(axis=1).tolist() == [3] * len(pred.op_counts_)
    assert any(not torch.equal(v, init[k]) for k, v in pred.supernet_.state_dict().items()
               if v.dtype.is_floating_point)
    archs = [fctx.space.sample(np.random.default_rng(i)) for i in range(3)]
    scores = pred.query(archs, qctx).mean
    assert scores.shape == (3,) and np.isfinite(scores).all()
    with pytest.raises(DataError, match=f"fitted on the {space} space"):
        pred.query([ALL_CONV], contexts()[1])


@pytest.mark.parametrize("space,name,reason", [
    ("nb101", "fairnas", "strict fairness"), ("darts", "fairnas", "strict fairness"),
    ("nb101", "rsws", "distinct networks"), ("darts", "darts_alpha", "does not cover"),
])
def test_samplers_a_space_does_not_define_are_refused(space, name, reason):
    fctx, _ = space_contexts(space)
    with pytest.raises(DataError, match=reason):
        make(name, epochs=1, steps_per_epoch=1, batch_size=8).fit(fctx)


def test_greedy_pool_of_darts_paths_survives_a_checkpoint():
    from predictors.weight_sharing.darts_supernet import DartsSupernet

    sampler = GreedySampler(4, 2, 3, 0.0, 1, DartsSupernet.sample_path)
    sampler.propose(np.random.default_rng(0), 0, lambda ps: np.arange(len(ps), dtype=float))
    again = GreedySampler(4, 2, 3, 0.0, 1, DartsSupernet.sample_path)
    again.load_state_dict(sampler.state_dict())
    assert again.pool == sampler.pool and again.queue == sampler.queue
    assert all(len(p) == len(DartsSupernet.path_choices) for p in again.pool)


@parametrize_with_checks(["oneshot", "greedynas"], space="nb101")
def test_conformance_on_nb101(check):
    check()


@parametrize_with_checks(["oneshot", "rsws", "greedynas"], space="darts")
def test_conformance_on_darts(check):
    check()


def test_bench_supernet_times_darts_and_reports_refusals():
    from benchmarks.analyses.supernet import Options, timing
    from benchmarks.builder import fashion_mnist as fm

    if not all((fm.DEFAULT_DIR / f).is_file() for f in fm.FILES.values()):
        pytest.skip("needs the Debian package dataset-fashion-mnist")
    rows = timing(Options(space="darts", samplers=["oneshot", "fairnas"], steps=1, archs=1,
                          batch_size=4, eval_batch_size=4, bn_batches=1, eval_batches=1))
    timed, refused = rows
    assert timed["sampler"] == "oneshot" and timed["space"] == "darts"
    assert 0 < timed["train_seconds_per_step"] <= timed["fit_seconds_per_step"]
    assert timed["query_seconds_per_arch"] > 0
    assert refused["sampler"] == "fairnas" and "strict fairness" in refused["refused"]


def test_a_supernet_on_a_pruned_space_trains_only_its_architectures():
    kept = [RES_CONV, ALL_CONV]
    pred = make("oneshot", epochs=1, steps_per_epoch=6,
                subspace=[SPACE.to_string(a) for a in kept], **TINY).fit(contexts()[0])
    allowed = {arch_to_path(a) for a in kept}
    trained = {tuple(int(v) for v in row) for row in np.argwhere(pred.op_counts_ > 0)}
    assert {(e, p[e]) for p in allowed for e in range(6)} >= trained
    assert pred.op_counts_.sum() == 6 * 6
    with pytest.raises(DataError, match="pruned space"):
        make("fairnas", subspace=[SPACE.to_string(RES_CONV)], epochs=1, steps_per_epoch=1,
             **TINY).fit(contexts()[0])
    with pytest.raises(ValueError, match="cannot read"):
        make("oneshot", subspace=["|bogus|"], epochs=1, steps_per_epoch=1,
             **TINY).fit(contexts()[0])


def test_restricted_draws_are_uniform_over_the_kept_paths_and_forms():
    from predictors.weight_sharing.samplers import restrict_to

    paths = [(0, 0, 0, 0, 0, 0), (3, 3, 3, 3, 3, 3), (2, 2, 2, 2, 2, 2)]
    net = restrict_to(NB201Supernet, paths, ["a", "b", "b"])
    rng = np.random.default_rng(0)
    draws = [net.sample_path(rng) for _ in range(3000)]
    assert set(draws) == set(paths)
    assert all(abs(draws.count(p) / 3000 - 1 / 3) < 0.04 for p in paths)
    distinct = [net.distinct_path(rng) for _ in range(3000)]
    assert abs(distinct.count(paths[0]) / 3000 - 0.5) < 0.04  # one of two forms
    assert "fair" in net.undefined and NB201Supernet.undefined.get("fair") is None


@pytest.mark.parametrize("n", [7, 10, 1000, 1001])
@pytest.mark.parametrize("factor", [0.0, 0.25, 0.5, 0.75, 0.9])
def test_pruning_keeps_exactly_the_requested_fraction(n, factor):
    from benchmarks.analyses.supernet_pruning import kept_count, prune

    truth = np.random.default_rng(n).normal(size=n)
    expected = max(1, int(np.floor((1 - factor) * n + 0.5)))
    assert kept_count(n, factor) == expected
    best = prune(truth, factor, "optimistic")
    assert len(best) == expected and len(set(best)) == expected
    assert truth[best].min() >= np.delete(truth, best).max(initial=-np.inf)
    drawn = prune(truth, factor, "random", np.random.default_rng(1))
    assert len(drawn) == expected and len(set(drawn)) == expected
    with pytest.raises(ValueError, match="fraction removed"):
        prune(truth, 1.0, "optimistic")


def test_precision_at_the_ends_counts_hits_in_the_true_best_and_worst():
    from benchmarks.analyses.supernet_pruning import precision_at_ends

    truth = np.arange(10.0)  # best: 9; worst: 0
    scores = np.array([0, 1, 2, 3, 4, 5, 6, 7, -1, 8.0])  # worst right, best half right
    top, bottom = precision_at_ends(truth, scores, 0.2)
    assert top == pytest.approx(0.5) and bottom == pytest.approx(0.5)
    assert precision_at_ends(truth, truth, 0.2) == (1.0, 1.0)


def test_supernet_pruning_analysis_runs_and_resumes(tmp_path, monkeypatch):
    import pandas as pd
    from conftest import write_synthetic_benchmark

    from benchmarks.analyses import supernet as supernet_analysis
    from benchmarks.cli import app

    bench_dir = write_synthetic_benchmark(tmp_path / "tiny-nb201", n=40, name="tiny-nb201")
    args = ["analyze", "supernet", "prune", "--benchmark", str(bench_dir), "--archs", "20",
            "--factors", "0,0.5", "--prune-seeds", "0,1", "--supernet-seeds", "0,1",
            "--epochs", "1",
            "--steps-per-epoch", "2", "--batch-size", "8", "--eval-batch-size", "8",
            "--bn-batches", "1", "--eval-batches", "1", "--device", "cpu",
            "--precision-fraction", "0.2", "--out", str(tmp_path / "out"),
            "--checkpoint-dir", str(tmp_path / "ckpt")]
    out = app(args=args, prog_name="predbench", standalone_mode=False)
    table = pd.read_csv(tmp_path / "out" / "tiny-nb201" / "table.csv")
    assert sorted(zip(table["mode"], table["factor"], table["kept"], strict=True)) == sorted(2 * [
        ("none", 0.0, 20), ("optimistic", 0.5, 10), ("random", 0.5, 10), ("random", 0.5, 10)])
    assert sorted(set(table["supernet_seed"])) == [0, 1]
    assert table["precision_top"].between(0, 1).all()
    summary = pd.read_csv(tmp_path / "out" / "tiny-nb201" / "summary.csv")
    assert set(zip(summary["mode"], summary["factor"], strict=True)) == {
        ("optimistic", 0.0), ("optimistic", 0.5), ("random", 0.0), ("random", 0.5)}
    runs = summary.set_index(["mode", "factor"])["runs"]
    assert runs[("random", 0.5)] == 4 and runs[("optimistic", 0.5)] == 2
    assert (tmp_path / "out" / "tiny-nb201" / "pruning.png").is_file()

    def no_fit(*a, **k):
        raise AssertionError("a cached snapshot was trained again")

    monkeypatch.setattr(supernet_analysis.SamplerRun, "_fit", no_fit)
    again = app(args=args, prog_name="predbench", standalone_mode=False)
    assert [r["kendall"] for r in again["records"]] == [r["kendall"] for r in out["records"]]
    bad = app(args=[*args[:3], "--benchmark", str(bench_dir), "--samplers", "fairnas"],
              prog_name="predbench", standalone_mode=False)
    assert bad == 2
