"""The calibration and surrogate-vs-search analyses: correlations, tables, a resumable end-to-end
run on the synthetic benchmark, bad input, and calibration columns in the summary table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from benchmarks.analyses.surrogate_evidence import (
    calibration_error,
    offline_table,
    rank_correlation,
    run_noise_interval,
)
from benchmarks.calibration import COVERAGE_NAMES, LEVELS
from benchmarks.cli import app
from benchmarks.plots import markdown_table, summarize
from benchmarks.search.store import SearchStore
from benchmarks.store import ResultStore

runner = CliRunner()


def test_rank_correlation_and_its_interval():
    x = np.arange(8.0)
    up = rank_correlation(x, 2 * x + 1, boot=200)
    assert up["spearman"] == pytest.approx(1.0) and up["kendall"] == pytest.approx(1.0)
    assert up["spearman_low"] <= 1.0 and up["n"] == 8
    down = rank_correlation(x, -x**3, boot=200)
    assert down["spearman"] == pytest.approx(-1.0) and down["kendall_high"] <= 0
    noisy = rank_correlation(x, [3, 1, 4, 1, 5, 9, 2, 6], boot=500)
    assert noisy["spearman_low"] < noisy["spearman"] < noisy["spearman_high"]
    # NaN pairs are dropped; fewer than 3 pairs or a constant side leave it undefined
    assert rank_correlation([1, 2, np.nan, 4], [1, 2, 3, 4], boot=50)["n"] == 3
    assert np.isnan(rank_correlation([1, 2], [1, 2])["spearman"])
    assert np.isnan(rank_correlation([1, 1, 1, 1], [1, 2, 3, 4])["kendall"])


def test_run_noise_widens_the_interval():
    x = np.arange(6.0)
    exact = [[v] * 4 for v in x]  # no run-to-run noise: every resample keeps the order
    assert run_noise_interval(x, exact, boot=200)[0] > 0.5
    noisy = [[v - 20, v + 20, v, v] for v in x]
    low, high = run_noise_interval(x, noisy, boot=400)
    assert low < 0 < high


def test_calibration_error_and_offline_table():
    exact = dict(zip(COVERAGE_NAMES, LEVELS, strict=True))
    wide = dict.fromkeys(COVERAGE_NAMES, 1.0)
    frame = pd.DataFrame([
        {"surrogate": "a", "kendall": 0.5, **exact},
        {"surrogate": "a", "kendall": 0.7, **wide},
        {"surrogate": "b", "kendall": 0.1, **dict.fromkeys(COVERAGE_NAMES)},
        {"surrogate": "b", "kendall": 0.3, "test_distribution": "mutations:d=1:top=0.1"},
    ]).fillna({"test_distribution": "cells"})
    err = calibration_error(frame)
    assert err[0] == pytest.approx(0.0)
    assert err[1] == pytest.approx(np.mean([1 - lvl for lvl in LEVELS]))
    assert np.isnan(err[2])
    table = offline_table(frame)
    assert table.loc["a", "kendall"] == pytest.approx(0.6)
    assert table.loc["a", "calibration_error"] == pytest.approx(err[1] / 2)
    assert np.isnan(table.loc["b", "calibration_error"]) and table.loc["b", "records"] == 1
    assert table.loc["b", "kendall"] == pytest.approx(0.1)  # uniform test sets only
    assert table.loc["b", "mutation_kendall"] == pytest.approx(0.3)
    assert np.isnan(table.loc["a", "mutation_kendall"])


def test_summary_table_shows_calibration_only_where_present():
    base = {"status": "ok", "benchmark_name": "b", "family": "model_based", "train_size": 10,
            "fidelity": None, "kendall": 0.5, "init_time_s": 1.0, "query_time_s": 0.1,
            "labels": "independent", "test_distribution": "cells",
            "label_source": "other-seed", "cost_estimated": False}
    plain = pd.DataFrame([{**base, "predictor": "p", "trial": t, "test_set_id": f"t{t}"}
                          for t in range(2)])
    assert "NLL" not in markdown_table(summarize(plain))
    calibrated = pd.DataFrame([{**base, "predictor": "p", "trial": t, "test_set_id": f"t{t}",
                                "kendall": 0.4 + t / 10}
                               for t in range(2)] + [
        {**base, "predictor": "q", "trial": t, "test_set_id": f"t{t}", "nll": 1.5 + t, "crps": 0.25,
         "coverage@0.68": 0.5, "coverage@0.95": 0.9} for t in range(2)])
    text = markdown_table(summarize(calibrated))
    assert "| NLL | CRPS | coverage 68% | coverage 95% |" in text
    q_row = next(line for line in text.splitlines() if line.startswith("| q "))
    assert "2.00 ± 0.71 | 0.250 ± 0.000 | 0.500 ± 0.000 | 0.900 ± 0.000 |" in q_row
    p_row = next(line for line in text.splitlines() if line.startswith("| p "))
    assert p_row.endswith("n/a | n/a | n/a | n/a |")


def _args(command: str, bench_dir, tmp_path, *extra: str) -> list[str]:
    return ["analyze", command, "--benchmark", str(bench_dir),
            "--surrogates", "bayes_lin_reg,example-ridge", "--predictor-params", "{}",
            "--train-sizes", "10,20", "--trials", "2", "--test-size", "60", "--runs", "2",
            "--queries", "25", "--mutation-test-size", "10",
            "--store", str(tmp_path / "h.db"), "--search-store", str(tmp_path / "s.db"),
            "--reference-searches", "none", "--task-timeout", "0", "--boot", "50", *extra]


def test_both_analyses_run_resume_and_write_their_files(synthetic_bench_dir, tmp_path):
    out = tmp_path / "calibration"
    result = runner.invoke(app, _args("calibration", synthetic_bench_dir, tmp_path,
                                      "--out", str(out)))
    assert result.exit_code == 0, result.output
    for name in ("calibration.csv", "calibration.md", "reliability.png",
                 "calibration_vs_bo.csv", "calibration_vs_bo.md", "calibration_vs_bo.png"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "calibration.csv")
    assert set(table["surrogate"]) == {"bayes_lin_reg"}  # the ridge has no std
    assert set(table["train_size"]) == {10, 20} and set(table["trials"]) == {2}
    with ResultStore(tmp_path / "h.db") as store:
        assert len(store) == 16  # 2 surrogates x 2 sizes x 2 trials x uniform and mutations
    with SearchStore(tmp_path / "s.db") as db:
        keys = db.config_keys("synthetic-nb201")
        assert len(keys) == 2 and all(db.finished_runs(k) == {0, 1} for k in keys)
        first = db.summary_rows(keys[0])

    out2 = tmp_path / "svs"
    result = runner.invoke(app, _args("surrogate-vs-search", synthetic_bench_dir, tmp_path,
                                      "--methods", "bo,evolution", "--out", str(out2)))
    assert result.exit_code == 0, result.output
    with ResultStore(tmp_path / "h.db") as store:
        assert len(store) == 16  # nothing evaluated twice
    with SearchStore(tmp_path / "s.db") as db:
        assert len(db.config_keys("synthetic-nb201")) == 4  # the BO runs were reused
        assert db.summary_rows(keys[0]) == first
    outcomes = pd.read_csv(out2 / "outcomes.csv")
    assert set(outcomes["method"]) == {"bo", "evolution"} and set(outcomes["runs"]) == {2}
    assert (outcomes["mean_queries_top1%"] <= 25).all()
    offline = pd.read_csv(out2 / "offline.csv", index_col=0)
    assert offline["mutation_kendall"].notna().all() and set(offline["records"]) == {4}
    corr = pd.read_csv(out2 / "correlations.csv")
    assert set(corr["method"]) == {"bo", "evolution"}
    assert {"spearman_runs_low", "spearman_runs_high"} <= set(corr.columns)
    assert (out2 / "correlations.png").is_file() and (out2 / "surrogate_vs_search.png").is_file()


@pytest.mark.parametrize(("extra", "fragment"), [
    (("--surrogates", "nope"), "unknown predictor 'nope'"),
    (("--surrogates", "params"), "needs no labels"),
    (("--predictor-params", "{bad"), "is not JSON"),
    (("--predictor-params", '{"xgb": {}}'), "not among the surrogates"),
    (("--train-sizes", "1"), "at least 2"),
    (("--runs", "0"), "--runs must be at least 1"),
    (("--acquisition", "best"), "--acquisition 'best'"),
    (("--reference-searches", "{tmp}/missing.jsonl.gz"), "is not a file"),
    (("--methods", "random"), "predictor-guided"),
    (("--mutation-test", "cells"), "give a mutation test distribution"),
    (("--mutation-test-size", "500"), "test size 500 exceeds"),
    (("--test-size", "210"), "train size 20 + test size 210"),
])
def test_bad_input_is_one_line_and_exit_2(synthetic_bench_dir, tmp_path, extra, fragment):
    option, value = extra[0], extra[1].replace("{tmp}", str(tmp_path))
    args = _args("surrogate-vs-search", synthetic_bench_dir, tmp_path)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert not (tmp_path / "h.db").exists(), "work started before the check"
