"""The extrapolation diagnostic of LCE / LCE-m on a benchmark whose curves saturate smoothly."""

from __future__ import annotations

import pytest
from conftest import make_synthetic_benchmark

from benchmarks.analyses import lc_extrapolation
from benchmarks.cli import app


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory):
    return make_synthetic_benchmark(n=40, seeds=1).save(tmp_path_factory.mktemp("lcx") / "lcx")


def test_extrapolation_beats_the_last_value_on_saturating_curves(bench_dir, tmp_path):
    app(args=["analyze", "lc-extrapolation", "--benchmark", str(bench_dir), "--predictors",
              "lce_m", "--fidelities", "4", "--archs", "30", "--out", str(tmp_path)],
        prog_name="predbench", standalone_mode=False)
    table = lc_extrapolation.extrapolation_errors(str(bench_dir), ["lce_m"], [4], 30)
    row = table.iloc[0]
    assert row["archs"] == 30
    # 12-epoch curves final * (1 - exp(-e / 3)): a quarter of the value is still to come at 4
    assert row["mean_rise_left"] > 10
    assert row["mae_extrapolated"] < 0.5 * row["mae_last_value"]
    text = (tmp_path / "extrapolation.md").read_text()
    assert "| lce_m | 4 |" in text
    assert (tmp_path / "extrapolation.csv").exists()


def test_fidelity_at_or_past_the_final_epoch_is_refused(bench_dir):
    with pytest.raises(ValueError, match="must lie in 1..11"):
        lc_extrapolation.extrapolation_errors(str(bench_dir), ["lce"], [12], 10)
