"""Cross-benchmark table from sweep summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.analyses.summary_table import table


def summary_rows() -> pd.DataFrame:
    rows = []
    for bench, shift in (("b1", 0.0), ("b2", 0.1)):
        for size, tau in ((24, 0.2), (121, 0.3)):
            rows.append({"benchmark_name": bench, "predictor": "svr", "family": "model_based",
                         "train_size": size, "fidelity": np.nan, "trials": 5,
                         "kendall_mean": tau + shift, "kendall_std": 0.01,
                         "init_fit_s_mean": 2.0})
        rows.append({"benchmark_name": bench, "predictor": "params", "family": "baseline",
                     "train_size": 0, "fidelity": np.nan, "trials": 5,
                     "kendall_mean": 0.05, "kendall_std": np.nan, "init_fit_s_mean": 0.0})
    rows.append({"benchmark_name": "b1", "predictor": "sotl", "family": "learning_curve",
                 "train_size": 0, "fidelity": 3, "trials": 5, "kendall_mean": 0.9,
                 "kendall_std": 0.0, "init_fit_s_mean": 0.0})
    return pd.DataFrame(rows)


def test_table_lists_each_predictor_per_benchmark_and_size():
    text = table(summary_rows(), family="model_based")
    assert "| predictor | b1 (24 / 121) | b2 (24 / 121) |" in text
    assert "| svr | 0.20 ± 0.01 / 0.30 ± 0.01 (2 s) | 0.30 ± 0.01 / 0.40 ± 0.01 (2 s) |" in text
    assert "| params | 0.05 ± 0.00 | 0.05 ± 0.00 |" in text
    assert "sotl" not in text


def test_a_missing_summary_is_one_clear_error(tmp_path, capsys):
    from benchmarks.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["analyze", "summary-table", str(tmp_path / "summary_x.csv"), "--out",
              str(tmp_path / "t.md")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(lines) == 1 and "no summary file" in lines[0]
