"""The benchmark builder: data, architecture order, shards, resume after a crash, merge."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from benchmarks.builder import fashion_mnist as fm
from benchmarks.builder import generate
from benchmarks.builder.cli import app
from benchmarks.builder.merge import merge
from benchmarks.builder.order import arch_order, benchmark_tasks, pilot_tasks
from benchmarks.builder.pilot import choose_recipe, pilot_table, write_table
from benchmarks.builder.recipe import PRESETS, Recipe
from benchmarks.builder.report import plot_epoch_tau
from benchmarks.builder.shards import ShardError, done_pairs, open_shard_dir
from benchmarks.builder.status import progress
from benchmarks.builder.zero_cost import run_scores
from benchmarks.tabular.format import read_benchmark
from predictors.spaces import get_space

TINY = PRESETS["tiny"]
HAVE_DATA = all((fm.DEFAULT_DIR / f).is_file() for f in fm.FILES.values())
needs_data = pytest.mark.skipif(
    not HAVE_DATA, reason="needs the Debian package dataset-fashion-mnist"
)


def _idx_bytes(arr: np.ndarray) -> bytes:
    head = bytes([0, 0, 8, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


def test_read_idx_and_missing_package(tmp_path, monkeypatch):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "x.gz").write_bytes(gzip.compress(_idx_bytes(arr)))
    np.testing.assert_array_equal(fm.read_idx(tmp_path / "x.gz"), arr)
    (tmp_path / "bad.gz").write_bytes(gzip.compress(_idx_bytes(arr)[:-5]))
    with pytest.raises(ValueError, match="truncated"):
        fm.read_idx(tmp_path / "bad.gz")
    monkeypatch.setenv(fm.DATA_DIR_ENV, str(tmp_path / "nowhere"))
    fm.load_raw.cache_clear()
    try:
        with pytest.raises(fm.DatasetMissingError, match="apt-get install dataset-fashion-mnist"):
            fm.load_raw()
    finally:
        monkeypatch.delenv(fm.DATA_DIR_ENV)
        fm.load_raw.cache_clear()


def test_splits_are_disjoint_and_nested():
    small = fm.split_indices(fm.SplitSpec(0, 1000, 500, 100))
    large = fm.split_indices(fm.SplitSpec(0, 2000, 500, 100))
    assert not set(small["train"]) & set(small["val"])
    np.testing.assert_array_equal(small["val"], large["val"])
    np.testing.assert_array_equal(small["train"], large["train"][:1000])
    with pytest.raises(ValueError, match="exceeds"):
        fm.SplitSpec(0, 55_000, 10_000)


def test_arch_order_unique_fixed_and_extending():
    order = arch_order()
    space = get_space("nb201")
    assert len(order) == 4930
    assert len({space.canonical(a) for a in order}) == 4930
    assert order[:5] == arch_order.__wrapped__()[:5]
    tasks = benchmark_tasks(30)
    assert tasks == benchmark_tasks(60)[: len(tasks)]
    assert sum(s == 1 for _, s in tasks) == 10
    assert set(pilot_tasks(3)) == {(i, s) for i in range(3) for s in (0, 1)}


def test_recipe_key_and_shard_dir_guard(tmp_path):
    other = Recipe("other", epochs=2)
    assert Recipe("renamed", **{k: v for k, v in TINY.as_dict().items() if k != "name"}).key \
        == TINY.key
    assert other.key != TINY.key
    open_shard_dir(tmp_path, TINY)
    with pytest.raises(ShardError, match="another --shards directory"):
        open_shard_dir(tmp_path, other)


@needs_data
def test_live_source_is_deterministic():
    live = fm.live_source({"live": {"dataset": "fashion-mnist", **TINY.splits.as_dict()}})
    x1, y1 = live.batch("val", 16, 3)
    x2, y2 = live.batch("val", 16, 3)
    x3, _ = live.batch("val", 16, 4)
    assert x1.shape == (16, 1, 28, 28) and x1.dtype == torch.float32 and y1.dtype == torch.long
    assert torch.equal(x1, x2) and torch.equal(y1, y2) and not torch.equal(x1, x3)
    with pytest.raises(ValueError, match="train"):
        live.batch("test", 4, 0)


@needs_data
def test_generate_resumes_after_crash_and_merges(tmp_path, monkeypatch):
    shards = tmp_path / "shards"
    tasks = [(0, 0), (0, 1), (1, 0)]
    real = generate.train_one
    calls: list[tuple[int, int]] = []

    def crashing(arch, seed, recipe, device="cpu"):
        index = arch_order().index(arch)
        if (index, seed) == (0, 1):
            raise KeyboardInterrupt("simulated kill midway")
        calls.append((index, seed))
        return real(arch, seed, recipe, device)

    monkeypatch.setattr(generate, "train_one", crashing)
    with pytest.raises(KeyboardInterrupt):
        generate.run_tasks(tasks, TINY, shards)
    assert done_pairs(shards) == {(0, 0)}
    (shards / ".a0000-s1.json.abc.tmp").write_text("{half a shard")  # as left by kill -9
    assert progress(shards, 2, every=1).done_pairs == 1

    def counting(arch, seed, recipe, device="cpu"):
        calls.append((arch_order().index(arch), seed))
        return real(arch, seed, recipe, device)

    monkeypatch.setattr(generate, "train_one", counting)
    calls.clear()
    assert generate.run_tasks(tasks, TINY, shards) == [(0, 1), (1, 0)]
    assert calls == [(0, 1), (1, 0)]
    assert generate.run_tasks(tasks, TINY, shards) == []
    shard = json.loads((shards / "a0001-s0.json").read_text())
    assert len(shard["curves"]["val_acc"]) == TINY.epochs
    assert shard["params"] > 0 and shard["flops"] > 0 and shard["latency_cpu"] > 0

    table = pilot_table(shards, 2)
    assert table["cells_with_two_seeds"] == 1 and table["trainings"] == 3
    write_table(table, tmp_path / "pilot")
    assert "| tiny |" in (tmp_path / "pilot" / "README.md").read_text()

    assert run_scores(1, TINY, shards, ("nwot", "synflow")) == [0]  # architecture 1 unscored
    assert run_scores(1, TINY, shards, ("nwot", "synflow")) == []  # resumes: nothing left
    bench = merge(shards, tmp_path / "bench", "tiny-bench", pilot_dir=tmp_path / "pilot",
                  min_reference=2)
    loaded = read_benchmark(tmp_path / "bench")
    assert loaded.values.shape == (2, 2, TINY.epochs, 6)
    assert not np.isnan(loaded.values[0, 1]).all() and np.isnan(loaded.values[1, 1]).all()
    assert loaded.metadata["pilot"]["recipe_key"] == TINY.key
    assert loaded.metadata["network"]["input_shape"] == [1, 28, 28]
    assert (loaded.epoch_cost([0, 1]) > 0).all()
    assert loaded.archs == [arch_order()[0], arch_order()[1]] == bench.archs
    expected = (shard["curves"]["val_acc"][-1])
    assert loaded.final("val_acc")[1] == pytest.approx(expected, abs=1e-4)
    fm.live_source(loaded.metadata).batch("train", 4, 0)
    for name in ("zc_nwot", "zc_synflow"):
        values, seconds = loaded.static_value(name), loaded.static_value(name + "_time")
        assert np.isfinite(values[0]) and seconds[0] > 0
        assert np.isnan(values[1]) and np.isnan(seconds[1])
    assert loaded.metadata["zero_cost"]["scored"] == 1
    assert loaded.metadata["zero_cost"]["settings"]["nwot"]["batch_size"] == 64
    assert plot_epoch_tau(bench, tmp_path / "tau.png").stat().st_size > 0

    result = CliRunner().invoke(app, ["status", "--recipe", "tiny", "--archs", "2",
                                      "--second-seed-every", "1", "--shards", str(shards)])
    assert result.exit_code == 0, result.output
    assert "3/4 target trainings done: 2 architectures with seed 0, 1 with seed 1" in result.output
    assert "Zero-cost scores: 1 of 2 architectures" in result.output


def test_zero_cost_scores_resume_per_measure_keeping_existing_entries(tmp_path, monkeypatch):
    """A score file with measure A (written before per-measure settings) gets B added, A and
    the file's shared settings untouched; each entry records the settings it was scored with."""
    from benchmarks.builder import zero_cost as zc

    shards = tmp_path / "shards"
    (shards / zc.SUBDIR).mkdir(parents=True)
    legacy = {"index": 0, "arch": str(arch_order()[0]), "settings": {"batch_size": 64, **zc.SHARED},
              "scores": {"nwot": {"score": 5.0, "time": 0.2}}}
    (shards / zc.SUBDIR / "z0000.json").write_text(json.dumps(legacy))
    calls = []

    class FakeScorer:
        @classmethod
        def for_recipe(cls, recipe, measures):
            calls.append(("init", tuple(measures)))
            return cls()

        def score(self, index, measures):
            calls.append((index, tuple(measures)))
            batch = {"nwot": 64, "zico": 128}
            return {"index": index, "arch": str(arch_order()[index]),
                    "scores": {m: {"score": 10.0 * index + 1, "time": 0.1,
                                   "settings": {"batch_size": batch[m], **zc.SHARED}}
                               for m in measures}}

    monkeypatch.setattr(zc, "_Scorer", FakeScorer)
    assert zc.run_scores(2, TINY, shards, ("nwot", "zico")) == [0, 1]
    assert calls == [("init", ("nwot", "zico")), (0, ("zico",)), (1, ("nwot", "zico"))]
    first = json.loads((shards / zc.SUBDIR / "z0000.json").read_text())
    assert first["scores"]["nwot"] == legacy["scores"]["nwot"]
    assert first["settings"] == legacy["settings"] and first["scores"]["zico"]["score"] == 1.0
    assert [zc.entry_settings(first, m)["batch_size"] for m in ("nwot", "zico")] == [64, 128]
    calls.clear()
    assert zc.run_scores(2, TINY, shards, ("nwot", "zico")) == [] and calls == []

    names, table, meta = zc.tabulate(zc.read_scores(shards), [0, 1, 2])
    assert names == ["zc_nwot", "zc_zico", "zc_nwot_time", "zc_zico_time"]
    np.testing.assert_array_equal(table[:2], [[5.0, 1.0, 0.2, 0.1], [11.0, 11.0, 0.1, 0.1]])
    assert np.isnan(table[2]).all()
    assert {m: s["batch_size"] for m, s in meta["settings"].items()} == {"nwot": 64, "zico": 128}
    assert zc.tabulated_settings(meta, "zico")["batch_size"] == 128
    assert zc.tabulated_settings({"settings": legacy["settings"]}, "nwot")["batch_size"] == 64
    assert meta["scored_per_measure"] == {"nwot": 2, "zico": 2}
    second = json.loads((shards / zc.SUBDIR / "z0001.json").read_text())
    second["scores"]["zico"]["settings"]["batch_size"] = 64
    (shards / zc.SUBDIR / "z0001.json").write_text(json.dumps(second))
    with pytest.raises(ShardError, match="zico were computed with different settings"):
        zc.tabulate(zc.read_scores(shards), [0, 1])


def test_zero_cost_settings_are_each_proxys_own():
    from benchmarks.builder.zero_cost import SHARED, measure_settings
    from predictors import make

    assert measure_settings(make("snip")) == {"batch_size": 64, **SHARED}
    assert measure_settings(make("zico"))["batch_size"] == 128
    assert measure_settings(make("az_nas"))["batch_size"] == 64
    lr = measure_settings(make("tenas_lr"))
    assert lr["batch_size"] == 3000 and lr["network"] == {"channels": 1, "cells_per_stage": 1}


def test_status_reports_the_seed_agreement_over_architectures_with_both_seeds():
    from benchmarks.builder.status import _seed_agreement

    def rec(index, seed, final):
        return {"index": index, "seed": seed, "curves": {"val_acc": [50.0, final]}}

    seed0 = [rec(i, 0, 80.0 + i) for i in range(5)]
    seed1 = [rec(0, 1, 80.5), rec(1, 1, 81.5), rec(2, 1, 81.0), rec(7, 1, 90.0)]
    out = _seed_agreement(seed0 + seed1)
    assert out["seed_pairs"] == 3  # architecture 7 has no seed 0
    assert out["seed_tau"] == pytest.approx(1 / 3)  # one discordant pair of three
    assert "seed_tau" not in _seed_agreement(seed0 + seed1[:2])


def test_ranking_ceiling_matches_a_simulation_of_noisy_labels():
    from benchmarks.statistics import ranking_ceiling
    from predictors.ranking import kendall_tau

    seed_tau, paired = 0.69, 0.35
    out = ranking_ceiling(seed_tau, paired)
    rng = np.random.default_rng(0)
    r = np.sin(np.pi * seed_tau / 2)
    noise_sd = np.sqrt((1 - r) / r)
    simulated = {"seeds": [], "mixed": []}
    for _ in range(100):
        truth = rng.normal(size=300)
        seed0, seed1 = (truth + noise_sd * rng.normal(size=300) for _ in range(2))
        simulated["seeds"].append(kendall_tau(seed0, seed1))
        labels = np.where(rng.random(300) < paired, (seed0 + seed1) / 2, seed0)
        simulated["mixed"].append(kendall_tau(truth, labels))
    assert np.mean(simulated["seeds"]) == pytest.approx(seed_tau, abs=0.01)
    assert np.mean(simulated["mixed"]) == pytest.approx(out["benchmark_labels"], abs=0.01)
    assert out["one_seed"] < out["benchmark_labels"] < out["two_seed_mean"] < 1
    assert ranking_ceiling(1.0, 0.5)["benchmark_labels"] == pytest.approx(1.0)
    assert ranking_ceiling(seed_tau, 0.0)["benchmark_labels"] == pytest.approx(out["one_seed"])
    assert ranking_ceiling(-0.2)["one_seed"] == 0.0
    with pytest.raises(ValueError, match="two_seed_fraction"):
        ranking_ceiling(0.5, 1.5)


def test_choose_recipe_rule(tmp_path):
    def table(name, cells, tau, cost):
        (tmp_path / f"{name}.json").write_text(json.dumps({
            "cells_with_two_seeds": cells, "seed_to_seed": {"kendall_tau": tau},
            "core_seconds_per_training": cost}))

    table("cheap-weak", 24, 0.55, 60)
    table("dear-strong", 24, 0.75, 200)
    table("mid-strong", 30, 0.71, 120)
    table("too-few", 10, 0.95, 10)
    names = ["cheap-weak", "dear-strong", "mid-strong", "too-few", "absent"]
    assert choose_recipe(names, out_dir=tmp_path)[0] == "mid-strong"
    name, reason = choose_recipe(["cheap-weak", "too-few"], out_dir=tmp_path)
    assert name == "cheap-weak" and "no pilot reached" in reason
    table("bad", 24, 0.3, 50)
    with pytest.raises(ValueError, match="reaches Kendall tau"):
        choose_recipe(["bad", "too-few"], out_dir=tmp_path)
