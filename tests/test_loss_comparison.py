"""The ranking-vs-regression comparison of ``benchmarks.analyses.loss_comparison``."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from benchmarks.analyses.loss_comparison import differences, loss_table


def _frame() -> pd.DataFrame:
    rows = []
    for trial, (mse, ranking, mixed) in enumerate([(0.50, 0.60, 0.55), (0.40, 0.45, 0.30),
                                                   (0.30, 0.41, 0.35)]):
        for loss, tau in (("mse", mse), ("ranking", ranking), ("mse+ranking", mixed)):
            rows.append({"status": "ok", "benchmark_name": "b", "predictor": "gcn",
                         "train_size": 24, "loss": loss, "kendall": tau, "trial": trial,
                         "test_set_id": f"t{trial}", "init_fit_s": 1.0})
    rows.append({**rows[0], "loss": "mae", "predictor": "mlp"})  # nothing to compare with
    return pd.DataFrame(rows)


def test_each_other_loss_is_paired_against_the_regression_loss():
    diffs = differences(_frame()).set_index("loss")
    assert set(diffs.index) == {"ranking", "mse+ranking"} and set(diffs["versus"]) == {"mse"}
    assert diffs.loc["ranking", "diff"] == pytest.approx((0.10 + 0.05 + 0.11) / 3)
    assert diffs.loc["ranking", "separated"] and diffs.loc["ranking", "trials"] == 3
    assert not diffs.loc["mse+ranking", "separated"]  # +0.05, -0.10, +0.05: no clear sign


def test_the_loss_table_has_one_row_per_setting_and_loss():
    table = loss_table(_frame()).set_index(["predictor", "loss"])
    assert table.loc[("gcn", "ranking"), "trials"] == 3
    assert table.loc[("gcn", "mse"), "kendall_mean"] == pytest.approx(0.4)


def test_a_missing_store_is_one_line_and_exit_status_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmarks.analyses.loss_comparison",
                           str(tmp_path / "none.db"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: no results store {tmp_path / 'none.db'}; give the .db files that "
        "`predbench run --store` wrote"]
