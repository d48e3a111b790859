"""`predbench report`: one self-contained interactive HTML report of a store, checked as HTML
and rendered in a real headless Chromium (console errors, plots drawn, table rows, screenshot)."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.colors import to_hex
from typer.testing import CliRunner

from benchmarks import html_report, plots
from benchmarks.cli import app
from benchmarks.snapshot import dump
from benchmarks.store import ResultStore
from predictors.registry import preset_params

ROOT = Path(__file__).resolve().parents[1]
#: Screenshots of the browser test land here (git-ignored) for a person or CI to look at.
ARTEFACTS = ROOT / "test-artifacts"
runner = CliRunner()

STANDARD = preset_params("bananas", "standard")
#: predictor, family, params, train size, fidelity, tau per trial, init s, query s per arch
SETTINGS = [
    ("bananas", "model_based", STANDARD, 24, None, (0.30, 0.35, 0.32), 300.0, 1e-3),
    ("bananas", "model_based", STANDARD, 121, None, (0.50, 0.55, 0.52), 1500.0, 1e-3),
    ("xgb", "model_based", {"n_estimators": 7}, 121, None, (0.45, 0.50, 0.52), 1400.0, 1e-4),
    ("sotle", "learning_curve", {}, 0, 3, (0.60, 0.62, 0.61), 1e-4, 20.0),
    ("sotle", "learning_curve", {}, 0, 6, (0.70, 0.71, 0.69), 1e-4, 40.0),
    ("synflow", "zero_cost", {}, 0, None, (0.20, 0.25, 0.22), 1e-4, 0.05),
]


def records(labels: str = "independent") -> list[dict]:
    """Successful records of :data:`SETTINGS` over three trials (one test set each) under one
    protocol, with every cost component, and one failed record."""
    out = []
    for name, family, params, size, fid, taus, init, query in SETTINGS:
        for trial, tau in enumerate(taus):
            out.append({
                "key": f"{labels}-{name}-{size}-{fid}-{trial}", "status": "ok",
                "benchmark": "synthetic-nb201", "benchmark_name": "synthetic-nb201",
                "labels": labels, "test_distribution": "cells",
                "label_source": "other-seed" if labels == "independent" else "same-run",
                "predictor": name, "family": family, "params": params, "train_size": size,
                "fidelity": fid, "trial": trial, "test_set_id": f"t{trial}", "test_size": 100,
                "epochs": 12, "kendall": tau, "spearman": tau, "pearson": tau,
                "noise_ceiling_kendall": 0.8, "seed_to_seed_kendall": 0.7,
                "init_time_s": init, "init_fit_s": init / 100, "init_sim_train_s": init * 0.99,
                "init_sim_tabulated_s": 0.0, "query_time_s": query,
                "query_measured_s": query / 10, "query_sim_partial_s": query * 0.9,
                "query_sim_tabulated_s": 0.0, "cost_estimated": True,
                "device_name": "cpu (test)"})
    out.append({**out[0], "key": f"{labels}-failed", "status": "failed", "kendall": None,
                "error": "boom"})
    return out


@pytest.fixture()
def store(tmp_path) -> Path:
    """A store with the synthetic records under two protocols (two report sections)."""
    path = tmp_path / "predbench.db"
    with ResultStore(path) as db:
        for record in records("independent") + records("same-run"):
            db.put(record)
    return path


def frame(path: Path) -> pd.DataFrame:
    with ResultStore(path) as db:
        return db.to_frame()


class Counts(HTMLParser):
    """Plot divs, summary-table body rows and inline scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.plots = 0
        self.summary_rows = 0
        self.external_scripts: list[str] = []
        self._table: str | None = None
        self._body = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attr = dict(attrs)
        if tag == "div" and "plotly-graph-div" in (attr.get("class") or ""):
            self.plots += 1
        elif tag == "script" and attr.get("src"):
            self.external_scripts.append(attr["src"])
        elif tag == "table":
            self._table = attr.get("class")
        elif tag == "tbody":
            self._body = True
        elif tag == "tr" and self._body and self._table == "summary":
            self.summary_rows += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._body = False


def expected_rows(path: Path) -> int:
    return len(plots.summarize(frame(path)))


def test_report_holds_a_section_per_protocol_offline(store, tmp_path):
    page_path = html_report.write_html_report(frame(store), tmp_path / "out", store)
    page = page_path.read_text()
    counts = Counts()
    counts.feed(page)
    assert counts.plots == 6  # two Pareto plots and the budget map per protocol
    assert counts.summary_rows == expected_rows(store) == 2 * len(SETTINGS)
    assert counts.external_scripts == []  # plotly.js is inline: the file opens offline
    assert page.count("Plotly.newPlot") == 6 and len(page) > 3_000_000
    assert "1 failed or timed-out" not in page and "2 failed or timed-out" in page
    assert "cpu (test)" in page and "plotly" in page and "scikit-learn" in page
    # every figure names the commands that produce it; same-run records get their flag
    assert page.count("commands that produce this figure") == 6
    assert "--labels same-run" in page and f"predbench report --store {store}" in page


def test_hover_names_parameters_interval_and_cost_components(store):
    ok = plots.ok_records(frame(store))
    summary = plots.summarize(frame(store))
    details = html_report.setting_details(ok)
    row = summary[(summary["predictor"] == "xgb") & (summary["labels"] == "independent")].iloc[0]
    text = html_report.hover_text(row, details[plots.setting_of(row, plots.SETTING)])
    assert "<b>xgb</b> (model_based)" in text and "n_estimators=7" in text
    assert "train size 121, fidelity -" in text and "Kendall tau 0.490 ± 0.036" in text
    assert re.search(r"Δ best \[95%\]: -0\.\d{3} \[-0\.\d{3}, [-+]0\.\d{3}\]", text)
    assert "fit (measured) 14 s + simulated training 1.39e+03 s + tabulated 0 s" in text
    assert "query (measured) 1e-05 s + simulated partial training 9e-05 s" in text


def test_pareto_traces_match_the_static_styles_and_filter_by_family(store):
    summary = plots.summarize(frame(store))
    part = summary[summary["labels"] == "independent"]
    ok = plots.ok_records(frame(store))
    comparisons = plots.Comparisons(plots.trial_table(ok, plots.SETTING))
    fig = html_report.pareto_figure(part, "query", "t", html_report.setting_details(ok),
                                    comparisons)
    predictors = [t for t in fig.data if t.legendgroup != "overlay"]
    assert [t.name for t in predictors] == ["bananas", "xgb", "sotle", "synflow"]
    static = plots.predictor_styles({"bananas": "model_based", "xgb": "model_based",
                                     "sotle": "learning_curve", "synflow": "zero_cost"})
    for trace in predictors:
        assert trace.marker.color == to_hex(static[trace.name]["color"])
        assert trace.legendgroup == part.loc[part["predictor"] == trace.name, "family"].iloc[0]
    assert predictors[0].marker.symbol != predictors[1].marker.symbol  # one marker each
    menu = fig.layout.updatemenus[0].buttons
    zero_cost = next(b for b in menu if b.label == "zero cost").args[0]["visible"]
    assert zero_cost == [False, False, False, True, True, True]  # + front and ties
    assert fig.layout.xaxis.type == "log"


def test_commands_reproduce_swept_predictors_and_run_the_others(store):
    ok = plots.ok_records(frame(store))
    ok = ok[ok["labels"] == "independent"]
    into = html_report.sweep_destination(Path("results/x/predbench.jsonl.gz"), True, Path("o"))
    assert into == ["--out", "results/x"]  # where the sweep wrote that snapshot's store
    commands = html_report.sweep_commands(ok, "independent", "cells", into)
    assert commands[0] == ("predbench reproduce --benchmark synthetic-nb201 --trials 3 "
                           "--test-size 100 --preset standard --predictors bananas,sotle,synflow "
                           "--out results/x")
    assert commands[1:] == ["predbench run --benchmark synthetic-nb201 --predictor xgb --param "
                            "n_estimators=7 --train-size 121 --trials 3 --test-size 100"]
    into = html_report.sweep_destination(Path("runs/a.db"), False, Path("o"))
    assert into == ["--store", "runs/a.db", "--out", "o"]
    assert html_report.sweep_commands(ok, "independent", "cells", into)[1].endswith(
        "--test-size 100 --store runs/a.db")
    quick = ok.assign(**{"params.source": ok["predictor"].map({"synflow": "table"})})
    assert html_report.sweep_commands(quick, "independent", "cells", ["--out", "o"])[:2] == [
        "predbench reproduce --benchmark synthetic-nb201 --trials 3 --test-size 100 "
        "--preset quick --predictors synflow --out o",  # its quick setting: tabulated scores
        "predbench reproduce --benchmark synthetic-nb201 --trials 3 --test-size 100 "
        "--preset standard --predictors bananas,sotle --out o"]
    full = ok.assign(fidelity=ok["fidelity"].replace(3, 2))  # a fidelity only --full has
    assert html_report.sweep_commands(full, "independent", "cells", ["--out", "o"])[:2] == [
        "predbench reproduce --benchmark synthetic-nb201 --trials 3 --test-size 100 "
        "--preset standard --predictors bananas,synflow --out o",
        "predbench reproduce --benchmark synthetic-nb201 --trials 3 --test-size 100 "
        "--preset full --predictors sotle --out o"]


def test_cli_report_from_store_and_snapshot_and_its_bad_input(store, tmp_path):
    out = tmp_path / "from-store"
    result = runner.invoke(app, ["report", "--store", str(store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {out / 'report.html'}"
    snapshot, _ = dump(store, tmp_path / "snap.jsonl.gz")
    again = tmp_path / "from-snapshot"
    result = runner.invoke(app, ["report", "--snapshot", str(snapshot), "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert f"predbench report --snapshot {snapshot}" in (again / "report.html").read_text()
    for args, fragment in ((["--store", str(tmp_path / "none.db")], "no results store"),
                           (["--store", str(store), "--snapshot", str(snapshot)],
                            "pass one of them"),
                           (["--snapshot", str(store)], "not a readable gzip snapshot")):
        bad = runner.invoke(app, ["report", *args, "--out", str(tmp_path / "bad")])
        assert bad.exit_code == 2 and "Traceback" not in bad.output, bad.output
        assert fragment in bad.output and len(bad.output.strip().splitlines()) == 1


def _browser() -> tuple[str, str]:
    """Chromium and its driver (Debian: chromium, chromium-driver; scripts/setup.sh)."""
    chromium = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("no chromium and chromedriver on PATH (bash scripts/setup.sh installs "
                    "Debian's chromium and chromium-driver)")
    return chromium, driver


def test_report_renders_in_headless_chromium(store, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    chromium, driver_path = _browser()
    page = html_report.write_html_report(frame(store), tmp_path / "out", store)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,2200", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        browser.set_page_load_timeout(60)
        browser.get(page.as_uri())
        drawn = browser.execute_script(
            "return [...document.querySelectorAll('div.plotly-graph-div')]"
            ".filter(d => d.querySelector('svg.main-svg') && d._fullData).length")
        points = browser.execute_script(
            "return document.querySelectorAll('div.plotly-graph-div path.point').length")
        heatmaps = browser.execute_script(
            "return document.querySelectorAll('div.plotly-graph-div g.hm image').length")
        rows = browser.execute_script(
            "return document.querySelectorAll('table.summary tbody tr').length")
        # clicking a family's name in the first plot's legend hides that family there
        plot = browser.find_element(By.CSS_SELECTOR, "div.plotly-graph-div")
        title = next(entry for entry in plot.find_elements(By.CSS_SELECTOR, "g.legend g.traces")
                     if entry.text == "zero cost")
        title.find_element(By.CSS_SELECTOR, "rect.legendtoggle").click()
        # plotly acts on a click after its double-click delay: wait (a timeout fails the test)
        hidden = WebDriverWait(browser, 10).until(lambda b: b.execute_script(
            "return arguments[0]._fullData.filter(t => t.visible === 'legendonly')"
            ".map(t => t.name)", plot))
        ARTEFACTS.mkdir(exist_ok=True)
        shot = ARTEFACTS / "html_report.png"
        assert browser.save_screenshot(str(shot))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        browser.quit()
    assert errors == []
    assert drawn == 6 and heatmaps == 2  # two Pareto plots and a budget map per protocol
    assert points >= 2 * expected_rows(store)  # each setting is a marker on both Pareto plots
    assert hidden == ["synflow"]
    assert rows == expected_rows(store)
    assert shot.stat().st_size > 10_000
