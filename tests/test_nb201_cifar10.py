"""nb201-cifar10: converter, committed data, key order, cost model and `predbench score`."""

from __future__ import annotations

import json
import pickle
import sys
import types
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import torch

from benchmarks.score import (
    ScoreError,
    agreement,
    join_scores,
    read_arch_file,
    score_architectures,
    write_scores,
)
from benchmarks.substitute_batches import resized_source
from benchmarks.tabular import load_benchmark, read_benchmark
from benchmarks.tabular.analog_nasbench import (
    compare_with_suite_zero,
    convert,
    load_records,
    suite_zero_accuracies,
)
from benchmarks.tabular.cost_model import AdditiveCostTable, fit_cost_model
from benchmarks.tabular.format import BenchmarkFormatError, TabularBenchmark
from benchmarks.tabular.safe_pickle import UnsafePickleError
from predictors.base import DataNeeds, LiveSource, Prediction, Predictor
from predictors.ranking import kendall_tau
from predictors.registry import _REGISTRY, register
from predictors.spaces.base import Arch
from predictors.spaces.nb201 import EDGES, INDEX_EDGES, NB201Space

FIXTURE = Path(__file__).parent / "fixtures" / "zc_nb201_cifar10_sample.json"
SPACE = NB201Space()
TINY = {"channels": 4, "cells_per_stage": 1, "in_channels": 3, "num_classes": 10,
        "input_shape": [3, 8, 8]}


@pytest.fixture(scope="module")
def bench() -> TabularBenchmark:
    return load_benchmark("nb201-cifar10")


def assert_same(a: TabularBenchmark, b: TabularBenchmark) -> None:
    assert a.archs == b.archs
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.static, b.static)
    strip = {"format_version"}
    assert {k: v for k, v in a.metadata.items() if k not in strip} == {
        k: v for k, v in b.metadata.items() if k not in strip}


# --- committed data ---------------------------------------------------------------------------
def test_committed_benchmark_shape_and_metadata(bench):
    assert len(bench) == 15_625 and len(set(bench.archs)) == 15_625
    assert bench.values.shape == (15_625, 1, 1, len(bench.metric_names))
    assert bench.objective == "accuracy" and bench.epochs == 200
    assert bench.metadata["cost"]["estimated"] is True and bench.cost_estimated
    assert bench.metadata["network"] == {**TINY, "channels": 16, "cells_per_stage": 5,
                                         "input_shape": [3, 32, 32]}
    assert bench.metadata["unique_canonical"] == len(set(bench.canonical_keys))
    assert 1_000 < bench.metadata["unique_canonical"] < 15_625
    for metric in bench.metadata["objectives"]:  # every selectable metric is a real column
        assert np.isfinite(bench.final(metric)).all()
    assert 93 < bench.final("accuracy").max() <= 100
    assert (bench.train_cost(range(len(bench))) > 0).all()


def test_committed_benchmark_round_trips(bench, tmp_path):
    assert_same(bench, read_benchmark(bench.save(tmp_path / "copy")))


def test_key_order_matches_suite_zero_fixture(bench):
    reference = suite_zero_accuracies(FIXTURE)
    ours = np.array([bench.final()[bench.index_of(SPACE.from_op_indices(k))] for k in reference])
    theirs = np.array(list(reference.values()))
    # AnalogNAS trains on all 50k images, NAS-Bench-201's val accuracy on 25k: a steady offset
    assert np.all((ours - theirs > 2.0) & (ours - theirs < 6.0)), ours - theirs
    assert kendall_tau(ours, theirs) > 0.8
    assert compare_with_suite_zero(bench, FIXTURE)["kendall_tau"] > 0.8

    # the check can fail: reading the keys in NAS-Bench-201's string edge order breaks it
    def wrong_order(key: str) -> int:
        ops = dict(zip(EDGES, SPACE.from_op_indices(key).spec, strict=True))
        spec = tuple(ops[e] for e in INDEX_EDGES)
        return bench.index_of(Arch("nb201", spec))

    wrong = np.array([bench.final()[wrong_order(k)] for k in reference])
    assert not np.all((wrong - theirs > 2.0) & (wrong - theirs < 6.0))


def test_params_match_suite_zero(bench):
    data = json.loads(FIXTURE.read_text())["cifar10"]
    for key, entry in data.items():
        row = bench.index_of(SPACE.from_op_indices(key))
        assert bench.static_value("params", [row])[0] == round(entry["params"]["score"] * 1e6)


def test_no_curves_refuses_learning_curve_experiments(bench):
    assert not bench.has_curves
    with pytest.raises(BenchmarkFormatError, match="no learning curves"):
        bench.curve([0, 1], "accuracy", upto=5)


# --- converter on a small pickle written here ---------------------------------------------------
@pytest.fixture
def fake_package_pickle(tmp_path, monkeypatch):
    """A pickle of classes named like the package's, built from 30 cells."""
    module = types.ModuleType("analognasbench.data")

    class Architecture:
        pass

    class DriftMeasurement:
        pass

    for cls in (Architecture, DriftMeasurement):
        cls.__module__ = module.__name__
        cls.__qualname__ = cls.__name__
        setattr(module, cls.__name__, cls)
    parent = types.ModuleType("analognasbench")
    parent.data = module
    monkeypatch.setitem(sys.modules, parent.__name__, parent)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    rng = np.random.default_rng(0)
    data = {}
    for _ in range(30):
        key = tuple(int(v) for v in rng.integers(0, 5, size=6))
        rec = Architecture()
        rec.architecture = key
        for name in ("baseline", "ptq", "qat", "noisy", "analog"):
            setattr(rec, f"{name}_accuracy", float(rng.uniform(10, 94)))
        for kind in ("baseline", "analog"):
            for t in (60, 3600, 86400, 2592000):
                drift = DriftMeasurement()
                drift.value = float(rng.uniform(10, 90))
                drift.uncertainty = float(rng.uniform(0, 5))
                setattr(rec, f"{kind}_drift_{t}", drift)
        data[key] = rec
    path = tmp_path / "data.anb"
    path.write_bytes(pickle.dumps(data, protocol=4))
    return path, data


def test_converter_round_trips(fake_package_pickle, tmp_path):
    path, data = fake_package_pickle
    out = convert(tmp_path / "nb", n_timed=5, n_verify=1, source=path, network=TINY, rounds=1)
    back = read_benchmark(tmp_path / "nb")
    assert_same(out, back)
    assert (tmp_path / "nb" / "cost_measurements.csv").is_file()
    key = next(iter(data))
    row = back.index_of(SPACE.from_op_indices(key))
    assert back.final("accuracy")[row] == pytest.approx(data[key].baseline_accuracy, abs=1e-4)
    assert back.final("analog_drift_3600_uncertainty")[row] == pytest.approx(
        data[key].analog_drift_3600.uncertainty, abs=1e-4)
    assert back.metadata["cost"]["estimated"] and back.metadata["network"] == TINY


def test_converter_refuses_other_globals(tmp_path):
    path = tmp_path / "data.anb"
    path.write_bytes(pickle.dumps({(0,) * 6: pd.Timestamp(0)}, protocol=4))
    with pytest.raises(UnsafePickleError, match=str(path)):
        load_records(path)


# --- cost model ---------------------------------------------------------------------------------
def test_additive_static_costs_are_exact():
    table = AdditiveCostTable(SPACE, TINY)
    rng = np.random.default_rng(3)
    assert table.verify([SPACE.sample(rng) for _ in range(3)]) == 3


def test_cost_model_fit():
    flops = np.array([1e6, 2e6, 3e6, 4e6, 5e6])
    pools = np.array([0.0, 1.0, 0.0, 2.0, 1.0])
    x = np.column_stack([flops, pools])
    model = fit_cost_model(x, 1e-3 + 2e-9 * flops + 5e-3 * pools, "cpu", ("flops", "pools"))
    assert model.r2 == pytest.approx(1.0) and model.coef[1] == pytest.approx(5e-3)
    assert model.epoch_time(np.array([[5e6, 1.0]]), 10)[0] == pytest.approx(10 * 0.016)
    assert fit_cost_model(flops, 1e-3 + 2e-9 * flops + 5e-3 * pools, "cpu").r2 < 0.9


# --- predbench score ----------------------------------------------------------------------------
class ParamsScore(Predictor):
    """Label-free: scores by the tabulated parameter count."""

    needs: ClassVar[DataNeeds] = DataNeeds(labels=False, properties=("params",))

    def _fit(self, ctx):
        pass

    def _query(self, archs, ctx):
        return Prediction(ctx.properties["params"])


class BatchMean(Predictor):
    """Label-free and data-dependent: mean network output on one batch."""

    needs: ClassVar[DataNeeds] = DataNeeds(labels=False, live=True)

    def _fit(self, ctx):
        pass

    def _query(self, archs, ctx):
        x, _ = ctx.live.batch("train", 2, 0)
        tiny = {k: v for k, v in ctx.network.items() if k != "input_shape"}
        tiny.update(channels=2, cells_per_stage=1)
        with torch.no_grad():
            return Prediction([float(ctx.space.to_network(a, **tiny)(x).mean()) for a in archs])


class NeedsLabels(Predictor):
    def _fit(self, ctx):
        pass

    def _query(self, archs, ctx):
        return Prediction(np.zeros(len(archs)))


@pytest.fixture
def predictors(monkeypatch):
    for name, cls in (("t_params", ParamsScore), ("t_batch", BatchMean),
                      ("t_labels", NeedsLabels)):
        monkeypatch.setitem(_REGISTRY, name, cls)
        register(name, "baseline")(cls)


def test_score_label_free_predictor(bench, predictors, tmp_path):
    rows = [0, 7_000, 12_345]
    frame = score_architectures("t_params", bench, [str(bench.archs[i]) for i in rows])
    assert list(frame.columns) == ["arch", "score"]
    expected = bench.static_value("params", rows)
    assert len(set(expected)) == 3
    np.testing.assert_array_equal(frame.score, expected)
    assert frame.attrs["batch_source"] is None
    record = write_scores(frame, tmp_path / "s.csv")
    back = pd.read_csv(tmp_path / "s.csv")
    assert back.arch.tolist() == frame.arch.tolist()
    np.testing.assert_allclose(back.score, frame.score)
    assert json.loads(record.read_text())["predictor"] == "t_params"


def test_scores_are_checked_against_the_objective_leaving_missing_scores_out(bench):
    rows = list(range(0, 15_000, 500))
    truth = bench.final(None)[rows]
    frame = pd.DataFrame({"arch": [str(bench.archs[i]) for i in rows], "score": truth.copy()})
    frame.loc[3, "score"] = np.nan
    result = agreement(frame, bench)
    assert result["against"] == bench.objective
    assert (result["scored"], result["missing_scores"]) == (len(rows) - 1, 1)
    assert result["spearman"] == pytest.approx(1.0) and result["kendall_tau"] == pytest.approx(1.0)
    frame["score"] = -frame["score"]
    assert agreement(frame, bench)["kendall_tau"] == pytest.approx(-1.0)


def test_data_dependent_predictor_needs_a_batch_source(bench, predictors):
    archs = bench.archs[:2]
    with pytest.raises(ScoreError, match="--batch-source"):
        score_architectures("t_batch", bench, archs)
    frame = score_architectures("t_batch", bench, archs, batch_source="gaussian")
    assert frame.attrs["batch_source"].startswith("gaussian") and frame.score.notna().all()
    with pytest.raises(ScoreError, match="unknown batch source"):
        score_architectures("t_batch", bench, archs, batch_source="cifar10")


def test_score_refuses_predictors_that_need_labels(bench, predictors):
    with pytest.raises(ScoreError, match="label"):
        score_architectures("t_labels", bench, bench.archs[:2])


def test_resized_source_shapes_batches():
    base = LiveSource(lambda split, size, seed: (torch.rand(size, 1, 28, 28),
                                                 torch.zeros(size, dtype=torch.long)), "base")
    x, y = resized_source(base, [3, 32, 32], "resized").batch("train", 5, 0)
    assert x.shape == (5, 3, 32, 32) and y.shape == (5,)
    assert torch.equal(x[:, 0], x[:, 2])


def test_arch_file_errors_name_the_line(bench, tmp_path):
    path = tmp_path / "archs.txt"
    path.write_text(f"# header\n{bench.archs[0]}\n\n|bogus~0|\n")
    with pytest.raises(ScoreError, match="line 4"):
        read_arch_file(path, bench)
    path.write_text(f"{bench.archs[0]}\n{bench.archs[5]}\n")
    assert read_arch_file(path, bench) == [bench.archs[0], bench.archs[5]]


def test_score_command_mounts_in_typer(bench, predictors, tmp_path):
    import typer
    from typer.testing import CliRunner

    from benchmarks.score import score_command

    app = typer.Typer()
    app.command("score")(score_command)
    app.command("noop")(lambda: None)  # two commands, so "score" is addressed by name
    archs = tmp_path / "archs.txt"
    archs.write_text(f"{bench.archs[7]}\n{bench.archs[9]}\n")
    out = tmp_path / "scores.csv"
    args = ["score", "--predictor", "t_params", "--benchmark", "nb201-cifar10",
            "--archs", str(archs), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert frame.arch.tolist() == [str(bench.archs[7]), str(bench.archs[9])]
    refused = CliRunner().invoke(app, [*args[:2], "t_batch", *args[3:]])
    assert refused.exit_code == 2 and "--batch-source" in refused.output


def test_score_join_makes_one_file_and_record_of_shards(bench, predictors, tmp_path):
    rows = [[0, 7_000], [12_345, 3, 9]]
    parts = []
    for seed, part in enumerate(rows):
        frame = score_architectures("t_params", bench, [str(bench.archs[i]) for i in part],
                                    seed=seed)
        write_scores(frame, tmp_path / f"part-{seed}.csv")
        parts.append(tmp_path / f"part-{seed}.csv")
    record = json.loads(write_scores(join_scores(parts), tmp_path / "all.csv").read_text())
    joined = pd.read_csv(tmp_path / "all.csv")
    every = [i for part in rows for i in part]
    assert joined.arch.tolist() == [str(bench.archs[i]) for i in every]
    np.testing.assert_array_equal(joined.score, bench.static_value("params", every))
    assert record["n"] == 5 and [p["seed"] for p in record["parts"]] == [0, 1]
    whole = score_architectures("t_params", bench, [str(bench.archs[i]) for i in every])
    assert record["spearman"] == pytest.approx(whole.attrs["spearman"])
    with pytest.raises(ScoreError, match="more than one part"):
        join_scores([parts[0], parts[0]])
    from typer.testing import CliRunner

    from benchmarks.cli import app as cli_app

    twice = CliRunner().invoke(cli_app, ["score-join", str(parts[0]), str(parts[0]),
                                         "-o", str(tmp_path / "twice.csv")])
    assert twice.exit_code == 2 and "more than one part" in twice.output
    assert "Traceback" not in twice.output and not (tmp_path / "twice.csv").exists()
    (tmp_path / "running.csv").write_text("arch,score\n")  # a shard still being scored
    with pytest.raises(ScoreError, match="no score file with its record"):
        join_scores([parts[0], tmp_path / "running.csv"])
    other = score_architectures("t_params", bench, [str(bench.archs[1])])
    other.attrs["benchmark"] = "fmnist-nb201"
    write_scores(other, tmp_path / "other.csv")
    with pytest.raises(ScoreError, match="benchmark"):
        join_scores([parts[0], tmp_path / "other.csv"])
    cut = tmp_path / "cut.csv"
    write_scores(score_architectures("t_params", bench, [str(bench.archs[2])]), cut)
    cut.write_text("arch,score\n")
    with pytest.raises(ScoreError, match="cut short"):
        join_scores([parts[0], cut])


def test_score_compare_sets_two_scorings_side_by_side(bench, predictors, tmp_path):
    from typer.testing import CliRunner

    from benchmarks.cli import app as cli_app
    from benchmarks.score_compare import compare_scores

    archs = [str(bench.archs[i]) for i in (0, 5, 7_000, 12_345)]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_scores(score_architectures("t_params", bench, archs), a)
    write_scores(score_architectures("t_params", bench, archs[1:], seed=4), b)
    same = compare_scores(a, b)
    assert (same["shared"], same["only_in_a"], same["only_in_b"]) == (3, 1, 0)
    assert same["spearman"] == pytest.approx(1.0) and same["max_rel_diff"] == 0.0
    assert same["differing_settings"] == {"seed": [0, 4]}
    args = ["score-compare", str(a), str(b), "--max-rel-diff", "0"]
    passed = CliRunner().invoke(cli_app, [*args, "-o", str(tmp_path / "c.json")])
    assert passed.exit_code == 0 and "Spearman 1.000000" in passed.output
    assert json.loads((tmp_path / "c.json").read_text())["identical"] == 3
    frame = pd.read_csv(b).astype({"score": float})
    frame.loc[0, "score"] *= 1.01
    frame.loc[1, "score"] = np.nan
    frame.to_csv(b, index=False)
    moved = compare_scores(a, b)
    assert moved["max_rel_diff"] == pytest.approx(0.01 / 1.01)
    assert (moved["undefined_in_b_only"], moved["both_defined"]) == (1, 2)
    failed = CliRunner().invoke(cli_app, args)
    assert failed.exit_code == 1 and "exceeds --max-rel-diff" in failed.output
    assert CliRunner().invoke(cli_app, [*args[:4], "0.02"]).exit_code == 1  # one-sided score
    refused = CliRunner().invoke(cli_app, ["score-compare", str(a), str(tmp_path / "c.csv")])
    assert refused.exit_code == 2 and "no score file with its record" in refused.output


def test_proxy_report_checks_scores_beside_published_figures(bench, predictors, tmp_path):
    from benchmarks.cli import app as cli_app

    rows = list(range(0, 15_000, 300))
    frame = score_architectures("t_params", bench, [str(bench.archs[i]) for i in rows])
    write_scores(frame, tmp_path / "t_params.csv")
    cli_app(args=["analyze", "proxy-report", str(tmp_path / "t_params.csv"), "--out",
                  str(tmp_path / "r.md"), "--boot", "20", "--plot", str(tmp_path / "bars.png")],
            prog_name="predbench", standalone_mode=False)
    assert (tmp_path / "bars.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "r.json").read_text())[0]
    truth = bench.final(None)[rows]
    assert saved["spearman"] == pytest.approx(
        pd.Series(truth).corr(pd.Series(frame.score.to_numpy()), method="spearman"))
    assert saved["spearman_ci"][0] <= saved["spearman"] <= saved["spearman_ci"][1]
    assert "| t_params | nb201-cifar10 | 50 (0) |" in (tmp_path / "r.md").read_text()


def test_proxy_report_also_counts_missing_scores_as_the_worst(bench):
    from scipy import stats

    from benchmarks.analyses.proxy_report import correlation_row, markdown

    truth = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    score = np.array([np.nan, np.nan, 1.0, 3.0, 2.0, 4.0])
    row = correlation_row("tenas_ntk", bench, truth, score, 1.0, 6.0, "cpu", None, 0)
    assert row["missing"] == 2
    assert row["spearman"] == pytest.approx(stats.spearmanr(truth[2:], score[2:]).statistic)
    constant = np.where(np.isnan(score), -1e9, score)  # a worst constant, as TE-NAS uses
    assert row["spearman_missing_worst"] == pytest.approx(
        stats.spearmanr(truth, constant).statistic)
    assert row["kendall_tau_missing_worst"] == pytest.approx(kendall_tau(truth, constant))
    assert row["spearman_missing_worst"] > row["spearman"]
    assert "tenas_ntk (2 of 6): Spearman 0.928" in markdown([row])
    whole = correlation_row("params", bench, truth, truth, 1.0, 6.0, "cpu", None, 0)
    assert "spearman_missing_worst" not in whole and "worst" not in markdown([whole])


def test_proxy_ranking_agreement_with_published_figures():
    from benchmarks.analyses.proxy_report import ranking_agreement

    same = [{"predictor": p, "spearman": v} for p, v in
            (("synflow", 0.8), ("params", 0.7), ("flops", 0.6), ("grasp", 0.1))]
    assert ranking_agreement(same)["kendall_tau"] == pytest.approx(1.0)
    assert ranking_agreement(same)["measures"] == 4
    flipped = [dict(r, spearman=-r["spearman"]) for r in same]
    assert ranking_agreement(flipped)["kendall_tau"] == pytest.approx(-1.0)
    assert ranking_agreement(same[:2]) is None  # too few measures to rank
