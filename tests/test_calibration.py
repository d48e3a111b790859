"""Calibration metrics against closed-form values for Gaussian predictions, and in records."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from benchmarks.calibration import (
    CALIBRATION_NAMES,
    COVERAGE_NAMES,
    LEVELS,
    calibration_metrics,
    gaussian_crps,
)
from benchmarks.harness import EvalTask, evaluate


def test_crps_at_the_mean_is_closed_form():
    s = np.array([0.5, 2.0, 7.0])
    got = calibration_metrics(np.zeros(3) + 3.0, np.zeros(3) + 3.0, s).values["crps"]
    expected = float(np.mean(s * (2 * norm.pdf(0.0) - 1 / math.sqrt(math.pi))))
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("y", "mu", "s"), [(1.3, 0.0, 1.0), (-4.0, 2.0, 0.7), (90.1, 88.0, 3.0)])
def test_crps_matches_its_integral_definition(y, mu, s):
    # CRPS(F, y) = integral of (F(x) - 1{x >= y})^2 dx
    left, _ = integrate.quad(lambda x: norm.cdf(x, mu, s) ** 2, -np.inf, y)
    right, _ = integrate.quad(lambda x: (1 - norm.cdf(x, mu, s)) ** 2, y, np.inf)
    assert gaussian_crps(np.array([y]), np.array([mu]), np.array([s])) == pytest.approx(
        left + right, rel=1e-6)


def test_zero_std_is_a_point_mass():
    y, mu = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 1.0])
    res = calibration_metrics(y, mu, np.array([0.0, 1.0, 0.0]))
    assert res.values["nll"] is None and "2 of 3 stds are zero" in res.missing["nll"]
    crps_mid = float(2.0 * norm.pdf(0.0) - 1 / math.sqrt(math.pi))  # the s = 1 row at its mean
    assert res.values["crps"] == pytest.approx((0.5 + crps_mid + 3.0) / 3)
    # a point mass covers only its own value, at every level
    assert res.values["coverage@0.99"] == pytest.approx(1 / 3)


def test_nll_is_the_gaussian_log_density():
    y, mu, s = np.array([0.0, 2.0]), np.array([0.0, 0.0]), np.array([1.0, 2.0])
    expected = -np.mean(norm.logpdf(y, mu, s))
    assert calibration_metrics(y, mu, s).values["nll"] == pytest.approx(expected, rel=1e-12)
    # at the mean: 0.5 log(2 pi) + log s
    assert calibration_metrics([5.0], [5.0], [3.0]).values["nll"] == pytest.approx(
        0.5 * math.log(2 * math.pi) + math.log(3.0))


def test_exact_noise_coverage_tends_to_nominal_and_overconfidence_falls_short():
    rng = np.random.default_rng(0)
    n = 200_000
    mu = rng.uniform(80, 90, n)
    s = rng.uniform(0.2, 2.0, n)
    y = rng.normal(mu, s)
    exact = calibration_metrics(y, mu, s).values
    for level, name in zip(LEVELS, COVERAGE_NAMES, strict=True):
        assert exact[name] == pytest.approx(level, abs=0.005)
    # the closed-form expectations of NLL and CRPS under the true distribution
    assert exact["nll"] == pytest.approx(np.mean(0.5 * math.log(2 * math.pi * math.e)
                                                 + np.log(s)), abs=0.01)
    assert exact["crps"] == pytest.approx(np.mean(s) / math.sqrt(math.pi), rel=0.01)
    half = calibration_metrics(y, mu, s / 2).values
    # a std half the truth covers P(|Z| <= z_L / 2)
    assert half["coverage@0.95"] == pytest.approx(2 * norm.cdf(norm.ppf(0.975) / 2) - 1,
                                                  abs=0.005)
    assert half["nll"] > exact["nll"] and half["crps"] > exact["crps"]


def test_bad_input_is_missing_with_a_reason():
    res = calibration_metrics([1.0, 2.0], [1.0, np.nan], [1.0, 1.0])
    assert all(res.values[n] is None for n in CALIBRATION_NAMES)
    assert "mean values are NaN" in res.missing["crps"]
    res = calibration_metrics([1.0, 2.0], [1.0, 2.0], [1.0, -1.0])
    assert "negative" in res.missing["nll"]
    assert "3 means" in calibration_metrics([1.0], [1.0, 2.0, 3.0], [1.0]).missing["nll"]


def test_records_hold_calibration_only_for_predictors_with_a_std(synthetic_bench_dir):
    def run(predictor: str) -> dict:
        return evaluate(EvalTask(benchmark=str(synthetic_bench_dir), predictor=predictor,
                                 train_size=40, test_size=60), device="cpu")

    with_std = run("bayes_lin_reg")
    assert with_std["has_std"]
    assert all(isinstance(with_std[n], float) for n in CALIBRATION_NAMES)
    cov = [with_std[n] for n in COVERAGE_NAMES]
    assert cov == sorted(cov)  # nested intervals cover more as the level grows
    without = run("example-ridge")
    assert not without["has_std"]
    assert all(without[n] is None for n in CALIBRATION_NAMES)
