"""The best-predictor-per-budget map (the study's Figure 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.budget_map import best_by_budget, candidate_limits, plot_budget_map


def summary() -> pd.DataFrame:
    rows = [  # predictor, train size, fidelity, tau, init s, query s per arch
        ("params", 0, None, 0.30, 1e-6, 0.01),
        ("sotle", 0, 2, 0.70, 1e-6, 20.0),
        ("sotle", 0, 4, 0.80, 1e-6, 40.0),
        ("xgb", 100, None, 0.60, 9000.0, 1e-4),
        ("omni", 100, 2, 0.75, 9050.0, 20.2),
        ("omni", 100, 4, 0.85, 9050.0, 40.2),
    ]
    return pd.DataFrame(rows, columns=["predictor", "train_size", "fidelity", "kendall_mean",
                                       "init_time_s_mean", "query_time_s_mean"])


def test_each_budget_gets_the_best_setting_that_fits_it():
    data = summary()
    table = best_by_budget(data, [1e-5, 1e4], [1e-3, 0.1, 30.0, 50.0])
    best = {(r.init_limit_s, r.query_limit_s): (r.predictor, r.kendall)
            for r in table.itertuples()}
    assert best[(1e-5, 1e-3)][0] is None  # nothing is that cheap on both axes
    assert best[(1e4, 1e-3)] == ("xgb", 0.60)
    assert best[(1e-5, 0.1)] == ("params", 0.30)
    assert best[(1e-5, 30.0)] == ("sotle", 0.70)
    assert best[(1e4, 30.0)] == ("omni", 0.75)
    assert best[(1e4, 50.0)] == ("omni", 0.85)
    # more budget never gives a worse answer
    grid = table["kendall"].fillna(-1).to_numpy().reshape(4, 2)
    assert (np.diff(grid, axis=0) >= 0).all() and (np.diff(grid, axis=1) >= 0).all()


def test_limits_cover_the_times_in_1_2_5_steps():
    limits = candidate_limits(pd.Series([3e-4, 0.04, 70.0, 0.0, np.nan]))
    assert limits[0] == 5e-4 and limits[-1] == 100.0
    assert all(b > a for a, b in zip(limits, limits[1:], strict=False))


def test_map_keeps_only_limits_where_the_answer_changes(tmp_path):
    path, table = plot_budget_map(summary(), tmp_path / "map.png", "synthetic")
    assert path.stat().st_size > 1000
    init = sorted(table["init_limit_s"].unique())
    query = sorted(table["query_limit_s"].unique())
    # init: label-free settings (1e-6 s, floored at 1 ms), then the 100-label ones (xgb at
    # 9,000 s, omni at 9,050 s)
    assert len(init) == 2 and init[0] == 1e-3 and 9050.0 <= init[1] <= 1e4
    # query: xgb's 1e-4 (floored at 1 ms), params' 0.01, sotle at 20 s (omni's 20.2 s needs the
    # next step), 50
    assert query == [1e-3, 0.01, 20.0, 50.0]
    assert set(table["predictor"].dropna()) == {"xgb", "params", "sotle", "omni"}


def test_cells_take_their_familys_colour_with_lighter_shades_for_more_winners():
    import pytest
    from matplotlib.colors import to_rgb

    from benchmarks.budget_map import _family_shades
    from benchmarks.plots import FAMILY_COLOURS

    summary = pd.DataFrame({"predictor": ["gp", "sotle", "xgb"],
                            "family": ["model_based", "learning_curve", "model_based"]})
    cmap = _family_shades(["gp", "sotle", "xgb"], summary)
    gp, sotle, xgb = (cmap(k)[:3] for k in range(3))
    assert gp == pytest.approx(to_rgb(FAMILY_COLOURS["model_based"]))
    assert sotle == pytest.approx(to_rgb(FAMILY_COLOURS["learning_curve"]))
    assert all(x > g for x, g in zip(xgb, gp, strict=True))  # same hue, lighter


def test_query_times_under_the_floor_do_not_pick_a_winner():
    from benchmarks.budget_map import TIME_FLOOR_S, budget_table

    rows = [("gates", 24, None, 0.56, 1e7, 4e-5), ("flowerformer", 24, None, 0.60, 1e7, 8e-5)]
    data = pd.DataFrame(rows, columns=["predictor", "train_size", "fidelity", "kendall_mean",
                                       "init_time_s_mean", "query_time_s_mean"])
    table, _, query = budget_table(data)
    assert query == [TIME_FLOOR_S]  # 40 and 80 microseconds are one budget
    assert list(table["predictor"].dropna()) == ["flowerformer"]


def test_the_query_pareto_front_floors_times_like_the_map():
    from benchmarks.plots import pareto_front

    rows = [("gates", 24, None, 0.56, 1e7, 4e-5), ("flowerformer", 24, None, 0.60, 1e7, 8e-5),
            ("params", 0, None, 0.58, 1e-5, 0.04), ("sotle", 0, 4, 0.75, 1e-5, 40.0)]
    data = pd.DataFrame(rows, columns=["predictor", "train_size", "fidelity", "kendall_mean",
                                       "init_time_s_mean", "query_time_s_mean"])
    front, tied = pareto_front(data, "query")
    assert list(data["predictor"][front]) == ["flowerformer", "sotle"]  # not gates at 40 us
    assert not tied.any()  # no trials given: nothing is ringed
    init_front, _ = pareto_front(data, "init")
    assert list(data["predictor"][init_front]) == ["sotle"]  # as cheap to set up, better
