"""The zero-cost proxy audit: its grid, resuming, the digits source and AZ-NAS's one query."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from typer.testing import CliRunner

from benchmarks import score
from benchmarks.analyses.proxy_audit import (
    DATA_FREE,
    DEFAULT_GRID,
    REAL,
    cell_record,
    expand_grid,
    fix_sample,
    run_cells,
    write_report,
)
from benchmarks.checks import OptionError
from benchmarks.cli import app
from benchmarks.live import dataset_source
from predictors.zero_cost import ScoreUndefined, get_measure

SOURCES = ["gaussian", "digits-resized"]


def _by(cells, proxy):
    return [c for c in cells if c.proxy == proxy]


def test_grid_expands_batch_sizes_seeds_and_sources_as_asked():
    cells = expand_grid(["jacov", "synflow", "zen", "zico"], archs=10, sources=SOURCES,
                        limits={"zico": 4})
    assert len(cells) == len(set(cells))
    jacov = _by(cells, "jacov")
    sweep = {(c.batch_size, c.init_seed) for c in jacov if c.source == REAL
             and c.init_seed == c.batch_seed}
    assert sweep == {(b, s) for b in DEFAULT_GRID for s in range(3)}
    split = {(c.init_seed, c.batch_seed) for c in jacov if c.source == REAL
             and c.batch_size == 64 and c.init_seed != c.batch_seed}
    assert split == {(1, 0), (2, 0), (0, 1), (0, 2)}
    assert Counter(c.source for c in jacov) == {REAL: 19, "gaussian": 3, "digits-resized": 3}
    assert {c.batch_size for c in jacov if c.source != REAL} == {64}
    # synflow reads no data and no batch: only its init seeds vary
    assert {(c.source, c.batch_size, c.init_seed, c.batch_seed)
            for c in _by(cells, "synflow")} == {(DATA_FREE, 64, s, 0) for s in range(3)}
    # zen draws its own weights: init seed fixed, batch size and batch seed vary
    zen = _by(cells, "zen")
    assert {c.init_seed for c in zen} == {0} and len(zen) == 15
    zico = _by(cells, "zico")
    assert {c.archs for c in zico} == {4} and {c.batch_size for c in zico} == {2, 8, 32, 64, 128}
    # the paper's batch size is always audited; without images of its own the benchmark's
    # data-dependent proxies run on the first substitute
    meco = expand_grid(["meco"], archs=5, batch_sizes=[4], seeds=2, split_seeds=1,
                       sources=SOURCES, source_seeds=1, real=False)
    assert {(c.source, c.batch_size) for c in meco} == {
        ("gaussian", 1), ("gaussian", 4), ("digits-resized", 1)}
    with pytest.raises(OptionError, match="--sources"):
        expand_grid(["meco"], archs=5, real=False)


def test_cells_resume_and_a_failing_setting_is_kept_as_a_finding(synthetic_bench_dir, tmp_path):
    from benchmarks.tabular import load_benchmark

    bench = load_benchmark(synthetic_bench_dir)
    archs = [bench.space.to_string(a) for a in bench.archs[:6]]
    cells = expand_grid(["nwot", "synflow", "tenas_lr"], archs=6, batch_sizes=[1, 4], seeds=1,
                        split_seeds=1, sources=["gaussian"], source_seeds=1)
    assert run_cells(cells, bench, archs, tmp_path) == cells
    failed = [c for c in cells if "error" in cell_record(c, tmp_path)]
    assert [(c.proxy, c.batch_size) for c in failed] == [("tenas_lr", 1)]
    assert run_cells(cells, bench, archs, tmp_path) == []
    redo = cells[0]
    redo.path(tmp_path).unlink()  # a record without its scores is not a finished cell
    assert run_cells(cells, bench, archs, tmp_path) == [redo]
    record = json.loads(score.record_path(redo.path(tmp_path)).read_text())
    assert record["cell"]["proxy"] == "nwot" and record["n"] == 6 and "spearman" in record
    text = write_report(tmp_path, bench, archs, "6 cells")
    assert "## Batch size" in text and "tenas_lr" in text
    assert (tmp_path / "spearman_vs_batch.png").exists() and (tmp_path / "sources.png").exists()
    fix_sample(tmp_path, archs, "6 cells")
    with pytest.raises(OptionError, match="another sample"):
        fix_sample(tmp_path, archs[:5], "5 cells")


def test_report_correlates_the_stored_scores_with_the_labels_of_now(synthetic_bench_dir,
                                                                      tmp_path):
    """A cell's correlation follows the benchmark, not the one recorded when it was scored."""
    from benchmarks.analyses.proxy_audit import collect
    from benchmarks.tabular import load_benchmark

    bench = load_benchmark(synthetic_bench_dir)
    archs = [bench.space.to_string(a) for a in bench.archs[:8]]
    cells = expand_grid(["synflow"], archs=8, seeds=1, split_seeds=1, sources=[],
                        source_seeds=0)
    run_cells(cells, bench, archs, tmp_path)
    path = score.record_path(cells[0].path(tmp_path))
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "spearman": 0.123, "kendall_tau": 0.1}))
    assert collect(tmp_path)["spearman"].iloc[0] == 0.123  # as recorded
    fresh = collect(tmp_path, bench)["spearman"].iloc[0]
    assert fresh == pytest.approx(record["spearman"]) and fresh != 0.123


def test_digits_source_yields_batches_of_the_networks_shape_with_digit_labels():
    source = dataset_source("digits-resized", {"network": {"input_shape": [3, 32, 32],
                                                           "num_classes": 10}})
    x, y = source.batch("train", 16, 0)
    assert tuple(x.shape) == (16, 3, 32, 32) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and 0 <= int(y.min()) and int(y.max()) < 10
    assert torch.equal(x[:, 0], x[:, 2])  # one grey channel, repeated
    again, same = source.batch("train", 16, 0)
    assert torch.equal(x, again) and torch.equal(y, same)
    assert not torch.equal(x, source.batch("train", 16, 1)[0])
    big, labels = source.batch("val", 600, 0)  # beyond the 500 of the split: with replacement
    assert big.shape[0] == 600 and len(labels) == 600
    five = dataset_source("digits-resized", {"network": {"input_shape": [1, 28, 28],
                                                         "num_classes": 5}})
    x, y = five.batch("val", 64, 0)
    assert tuple(x.shape) == (64, 1, 28, 28) and int(y.max()) < 5


def test_az_nas_scores_all_architectures_in_one_query(synthetic_bench, monkeypatch):
    archs = [synthetic_bench.space.to_string(a) for a in synthetic_bench.archs[:5]]
    params = {"batch_size": 8, "init_seed": 0, "batch_seed": 0}
    whole = score.score_architectures("az_nas", synthetic_bench, archs, params=params)
    monkeypatch.setattr(score, "CHUNK", 2)
    chunked = score.score_architectures("az_nas", synthetic_bench, archs, params=params)
    assert whole["score"].tolist() == chunked["score"].tolist()


def test_jacov_of_one_sample_is_undefined():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    with pytest.raises(ScoreUndefined, match="two or more"):
        get_measure("jacov").fn(net, torch.randn(1, 4), None, None)


@pytest.mark.parametrize("args,words", [
    (["--proxies", "xgb"], "not live zero-cost proxies"),
    (["--sources", "cifar10"], "unknown"),
    (["--limit", "jacov=1"], "at least 2"),
])
def test_bad_options_are_one_line_errors(synthetic_bench_dir, tmp_path, args, words):
    result = CliRunner().invoke(app, ["analyze", "proxy-audit", "-b", str(synthetic_bench_dir),
                                      "--out", str(tmp_path), *args])
    assert result.exit_code == 2 and words in result.output
