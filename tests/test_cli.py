"""The `predbench` command line on the synthetic benchmark, including bad input (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_synthetic_benchmark
from typer.testing import CliRunner

import benchmarks.tabular as tabular
from benchmarks.cli import app
from benchmarks.store import ResultStore

runner = CliRunner()


@pytest.fixture()
def data_dir(synthetic_bench_dir, monkeypatch) -> Path:
    """Only the synthetic benchmark is visible by name."""
    root = synthetic_bench_dir.parent
    monkeypatch.setattr(tabular, "data_dirs", lambda: [root])
    monkeypatch.setenv(tabular.DATA_PATH_ENV, str(root))  # for spawned sweep workers
    return root


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_list_prints_name_tab_family():
    result = invoke("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "example-ridge\tmodel_based" in lines
    assert all(len(line.split("\t")) == 2 for line in lines)


def test_benchmarks_lists_sizes(data_dir):
    result = invoke("benchmarks")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("synthetic-nb201 space=nb201 archs=300 unique=")
    assert "epochs=12" in result.stdout and "val_acc" in result.stdout


def test_run_writes_store_and_resumes(data_dir, tmp_path):
    db = tmp_path / "r.db"
    args = ("run", "--benchmark", "synthetic-nb201", "--predictor", "example-ridge",
            "--param", "alpha=0.5", "--train-size", "20", "--test-size", "60", "--trials", "2",
            "--store", str(db))
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "2 done, 0 failed, 0 timed out" in result.stdout and "example-ridge" in result.stdout
    with ResultStore(db) as store:
        records = list(store.records())
    assert len(records) == 2 and {r["params"]["alpha"] for r in records} == {0.5}
    again = invoke(*args)
    assert "0 done, 0 failed, 0 timed out, 2 already" in again.stdout


def test_reproduce_and_plot_write_files(data_dir, tmp_path):
    out = tmp_path / "results"
    result = invoke("reproduce", "--benchmark", "synthetic-nb201", "--trials", "2",
                    "--test-size", "100", "--out", str(out),
                    "--predictors", "example-ridge,example-last-epoch")
    assert result.exit_code == 0, result.output
    progress = [ln for ln in result.stderr.splitlines() if ln.startswith("evaluations ")]
    assert progress[0].startswith("evaluations 1/8 (12%), 0 failed, ")  # not a terminal
    assert progress[-1].startswith("evaluations 8/8 (100%), 0 failed, ")
    names = {p.name for p in out.iterdir()}
    expected = {"pareto_init_synthetic-nb201.png", "pareto_query_synthetic-nb201.png",
                "summary_synthetic-nb201.csv", "summary_synthetic-nb201.md", "predbench.db",
                "budget_map_synthetic-nb201.png", "best_by_budget_synthetic-nb201.csv"}
    assert expected <= names
    assert result.stdout.splitlines()[-1] == f"wrote {out / 'report.html'}"  # printed last
    table = (out / "summary_synthetic-nb201.md").read_text()
    assert "| example-last-epoch | learning_curve |" in table and "± " in table
    again = tmp_path / "again"
    result = invoke("plot", "--store", str(out / "predbench.db"), "--out", str(again))
    assert result.exit_code == 0, result.output
    assert (again / "pareto_query_synthetic-nb201.png").stat().st_size > 1000
    assert result.stdout.splitlines()[-1] == f"wrote {again / 'report.html'}"
    cost = invoke("bench", "sweep-cost", str(out / "predbench.db"), "--top", "2")
    assert cost.exit_code == 0, cost.output
    families = [line.split()[0] for line in cost.output.splitlines()[2:4]]
    assert cost.output.startswith("8 evaluations, ")  # (1 + 3 grid points) x 2 trials
    assert sorted(families) == ["learning_curve", "model_based"]
    assert "most expensive predictors" in cost.output and "example-ridge" in cost.output


def test_reproduce_refuses_an_unknown_preset(data_dir):
    _bad(invoke("reproduce", "--benchmark", "synthetic-nb201", "--preset", "fast"),
         "unknown --preset 'fast'", "quick, standard, full")


def _bad(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output


def test_unknown_predictor(data_dir):
    _bad(invoke("run", "-b", "synthetic-nb201", "-p", "no-such-predictor"),
         "unknown predictor 'no-such-predictor'", "predbench list")


def test_train_size_above_benchmark(data_dir):
    _bad(invoke("run", "-b", "synthetic-nb201", "-p", "example-ridge", "--train-size", "5000"),
         "exceeds the", "unique architectures", "--train-size")


def test_bad_param_and_unknown_param(data_dir):
    _bad(invoke("run", "-b", "synthetic-nb201", "-p", "example-ridge", "--param", "alpha"),
         "key=value")
    _bad(invoke("run", "-b", "synthetic-nb201", "-p", "example-ridge", "--param", "beta=1"),
         "has no parameter(s) ['beta']")


def test_unknown_benchmark_and_missing_store(data_dir, tmp_path):
    _bad(invoke("run", "-b", "nope", "-p", "example-ridge"), "no benchmark named 'nope'")
    _bad(invoke("plot", "--store", str(tmp_path / "none.db")), "no results store")


@pytest.fixture()
def broken(tmp_path) -> Path:
    return write_synthetic_benchmark(tmp_path / "broken", n=40)


def _run_on(path: Path):
    return invoke("run", "-b", str(path), "-p", "example-ridge", "--train-size", "5",
                  "--test-size", "10", "--trials", "1", "--store", str(path.parent / "x.db"))


def test_malformed_nb201_string(broken):
    lines = (broken / "archs.txt").read_text().splitlines()
    lines[3] = "|nor_conv_3x3~0|+|none~0|"
    (broken / "archs.txt").write_text("\n".join(lines) + "\n")
    _bad(_run_on(broken), "malformed NB201 string")


def test_truncated_npy(broken):
    data = (broken / "values.npy").read_bytes()
    (broken / "values.npy").write_bytes(data[: len(data) // 2])
    _bad(_run_on(broken), "values.npy is corrupt or truncated")


def test_metadata_missing_field(broken):
    meta = (broken / "metadata.json").read_text().replace('"epochs"', '"epochs_missing"')
    (broken / "metadata.json").write_text(meta)
    _bad(_run_on(broken), "lacks required field(s) ['epochs']")


def test_metric_option_picks_another_objective(data_dir, tmp_path):
    store = tmp_path / "m.db"
    result = invoke("run", "-b", "synthetic-nb201", "-p", "example-ridge", "--train-size", "24",
                    "--trials", "1", "--test-size", "50", "--metric", "test_acc",
                    "--store", str(store))
    assert result.exit_code == 0, result.output
    with ResultStore(store) as db:
        frame = db.to_frame()
    assert set(frame["objective"]) == {"test_acc"}
    assert set(frame["benchmark_name"]) == {"synthetic-nb201:test_acc"}
    _bad(invoke("run", "-b", "synthetic-nb201", "-p", "example-ridge", "--metric", "nope",
                "--store", str(store)), "no metric 'nope'")
