"""The learning-curve report: per-fidelity table, reference curve, plots, below-valacc cells."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import make_synthetic_benchmark
from typer.testing import CliRunner

from benchmarks.analyses import lc_report
from benchmarks.builder.stats import epoch_vs_final_tau
from benchmarks.cli import app


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A synthetic benchmark whose metadata carries the build's epoch-vs-final curve, and a
    reproduce sweep of two learning-curve predictors on it."""
    root = tmp_path_factory.mktemp("lc")
    bench = make_synthetic_benchmark(n=200)
    val = bench.values[:, 0, :, bench.metric_names.index("val_acc")]
    bench.metadata["summary"] = {"epoch_vs_final_tau": epoch_vs_final_tau(val)}
    bench_dir = bench.save(root / "synthetic-lc")
    out = root / "results"
    result = CliRunner().invoke(app, ["reproduce", "--benchmark", str(bench_dir), "--trials", "2",
                                      "--test-size", "80", "--out", str(out), "--workers", "1",
                                      "--predictors", "valacc,sotle"])
    assert result.exit_code == 0, result.output
    return bench_dir, out / "predbench.db"


def test_report_has_every_fidelity_and_the_reference(swept, tmp_path):
    bench_dir, store = swept
    summary = lc_report.write_report(store, tmp_path, str(bench_dir))
    table = pd.read_csv(tmp_path / "lc_fidelity.csv")
    assert set(table["series"]) == {"valacc", "sotle"}
    fids = sorted(table["fidelity"].unique())
    assert len(fids) >= 2 and all(table.groupby("series").size() == len(fids))
    assert (table["trials"] == 2).all()
    # valacc ranks by the validation accuracy at the fidelity, so on 80 test architectures it
    # follows the build's curve measured over all of them
    reference = summary["reference_epoch_vs_final_tau"]
    for row in table[table["series"] == "valacc"].itertuples():
        assert abs(row.kendall_mean - reference[row.fidelity - 1]) < 0.2
    text = (tmp_path / "lc_fidelity.md").read_text()
    assert "val acc at epoch e vs last epoch" in text and "| valacc |" in text
    for name in ("lc_tau_vs_fidelity.png", "lc_query_time_vs_tau.png"):
        assert (tmp_path / name).stat().st_size > 1000
    saved = json.loads((tmp_path / "lc_report.json").read_text())
    assert set(saved["sweep_wall_s"]) == {"valacc", "sotle"}


def test_worse_than_valacc_lists_exactly_the_lower_cells():
    table = pd.DataFrame({
        "series": ["valacc", "valacc", "lce", "lce", "sotle"],
        "fidelity": [1, 2, 1, 2, 3],
        "kendall_mean": [0.3, 0.5, 0.35, 0.4, 0.1],
    })
    rows = lc_report.worse_than_baseline(table)
    assert rows == [{"series": "lce", "fidelity": 2, "kendall": 0.4, "valacc": 0.5}]


def test_missing_store_is_one_clear_error(tmp_path, capsys):
    from benchmarks.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["analyze", "lc-report", "--store", str(tmp_path / "none.db")])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no results store")
