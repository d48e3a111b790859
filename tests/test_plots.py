"""Pareto plots: one colour per family, one marker per predictor within it, the legend grouped
by family, the front numbered with a key."""

from __future__ import annotations

import pandas as pd
from matplotlib.colors import to_rgba

from benchmarks import plots


def test_styles_colour_by_family_and_tell_predictors_apart_within_it():
    families = {f"zc{i}": "zero_cost" for i in range(len(plots.MARKERS) + 3)}
    families.update({"xgb": "model_based", "gp": "model_based", "mine": "plugin_family"})
    styles = plots.predictor_styles(families)
    assert {styles[n]["color"] for n in families if families[n] == "zero_cost"} == {"tab:green"}
    assert styles["xgb"]["color"] == styles["gp"]["color"] == "tab:blue"
    assert styles["mine"]["color"] == plots.OTHER_FAMILY_COLOUR
    zero_cost = [(styles[n]["marker"], styles[n]["markerfacecolor"]) for n in families
                 if families[n] == "zero_cost"]
    assert len(set(zero_cost)) == len(zero_cost)  # hollow markers once the filled ones run out


def _summary(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """A summary frame of (predictor, family, time, tau) rows at one budget."""
    return pd.DataFrame([{"predictor": p, "family": f, "train_size": 10,
                          "fidelity": float("nan"), "init_time_s_mean": t,
                          "query_time_s_mean": t, "kendall_mean": k, "cost_estimated": False,
                          "label_source": "other-seed"} for p, f, t, k in rows])


def test_pareto_legend_groups_families_and_numbers_the_front(tmp_path, monkeypatch):
    summary = _summary([("xgb", "model_based", 1.0, 0.5), ("gp", "model_based", 2.0, 0.7),
                        ("synflow", "zero_cost", 0.1, 0.3), ("snip", "zero_cost", 0.2, 0.1)])
    figures = []
    monkeypatch.setattr(plots.plt, "close", figures.append)
    path = plots.plot_pareto(summary, "init", tmp_path / "p.png", "title")
    assert path.stat().st_size > 1000
    ax = figures[0].axes[0]
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["model based", "gp", "xgb", "zero cost", "snip", "synflow",
                     "Pareto front (numbered; key below)"]
    bold = [t.get_text() for t in legend.get_texts() if t.get_fontweight() == "bold"]
    assert bold == ["model based", "zero cost"]
    colours = {t.get_text(): h.get_color() for t, h in zip(legend.get_texts(),
                                                           legend.legend_handles, strict=True)}
    assert to_rgba(colours["gp"]) == to_rgba(colours["xgb"]) != to_rgba(colours["snip"])
    key = [t.get_text() for t in ax.texts if t.get_text().startswith("Pareto front")]
    assert key and "1 synflow n=10" in key[0] and "2 xgb n=10" in key[0] and "3 gp n=10" in key[0]
    numbers = sorted(a.get_text() for a in ax.texts if a.get_text().isdigit())
    assert numbers == ["1", "2", "3"]


def test_family_panels_show_each_family_in_colour_over_the_rest_in_grey(tmp_path, monkeypatch):
    summary = _summary([("xgb", "model_based", 1.0, 0.5), ("gp", "model_based", 2.0, 0.7),
                        ("synflow", "zero_cost", 0.1, 0.3), ("valacc", "learning_curve", 5.0, 0.6)])
    figures = []
    monkeypatch.setattr(plots.plt, "close", figures.append)
    path = plots.plot_pareto_families(summary, "query", tmp_path / "f.png", "title")
    assert path.stat().st_size > 1000
    visible = [ax for ax in figures[0].axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["model based", "learning curve", "zero cost"]
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in visible]
    assert legends == [["gp", "xgb"], ["valacc"], ["synflow"]]
    for ax in visible:  # every panel shows all four settings in grey behind its own
        assert len(ax.collections[0].get_offsets()) == 4
