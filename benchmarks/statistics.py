"""Paired statistics over trials: which settings the data can tell apart.

Within a trial every setting of one protocol is judged on the same test set against the same
labels (``benchmarks.protocol``), so two settings are compared by their per-trial differences.
:func:`paired_interval` gives the mean difference and a 95% paired-bootstrap interval over the
trials both settings ran; a setting whose interval against the best contains zero is a *tie*:
the data cannot separate it from the best. With three trials an interval excludes zero only
when all three differences share a sign, so a tie is the honest answer more often than not; more
trials (``--trials``) narrow it.

:func:`label_ceiling` is the noise ceiling: the tau a perfect predictor reaches against labels
as noisy as a benchmark's runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def _pair_tau(v_i: float, v_j: float) -> float:
    """Kendall tau between true scores and labels of one pair whose label noise variances are
    ``v_i, v_j`` (in units of the true scores' variance), both Gaussian."""
    return float(2 / np.pi * np.arcsin(np.sqrt(2 / (2 + v_i + v_j))))


def _one_run_noise(seed_tau: float) -> float | None:
    """Noise variance of one run's label implied by two runs' Kendall tau (None: no signal,
    which a tiny test set can show down to two runs in exactly opposite order)."""
    r = float(np.sin(np.pi * seed_tau / 2))  # Pearson correlation between two runs
    return None if r <= 0 else (1 - r) / r


def label_ceiling(seed_tau: float, label_runs: int = 1) -> float:
    """The Kendall tau a perfect predictor of the expected score reaches, in expectation, against
    labels that are the mean of ``label_runs`` runs, when two runs agree with ``seed_tau``.

    Model: label = true score + independent Gaussian run noise. With labels from runs other than
    anything a predictor reads, no predictor can do better in expectation; a single evaluation
    can (sampling noise of one test set).
    """
    if not -1.0 <= seed_tau <= 1.0 or label_runs < 1:
        raise ValueError(f"need -1 <= seed_tau <= 1 and label_runs >= 1, got {seed_tau}, "
                         f"{label_runs}")
    one = _one_run_noise(seed_tau)
    return 0.0 if one is None else _pair_tau(one / label_runs, one / label_runs)


def ranking_ceiling(seed_tau: float, two_seed_fraction: float = 0.0) -> dict[str, float]:
    """:func:`label_ceiling` for one-run labels, two-run means, and a benchmark's mix
    (``two_seed_fraction`` of its labels are two-run means), averaged over pairs."""
    if not -1.0 <= seed_tau <= 1.0 or not 0.0 <= two_seed_fraction <= 1.0:
        raise ValueError(f"need -1 <= seed_tau <= 1 and 0 <= two_seed_fraction <= 1, got "
                         f"{seed_tau}, {two_seed_fraction}")
    one = _one_run_noise(seed_tau)
    if one is None:
        return {"one_seed": 0.0, "two_seed_mean": 0.0, "benchmark_labels": 0.0}
    p2 = two_seed_fraction
    p1 = 1 - p2
    two = one / 2
    mixed = (p1 * p1 * _pair_tau(one, one) + 2 * p1 * p2 * _pair_tau(one, two)
             + p2 * p2 * _pair_tau(two, two))
    return {"one_seed": _pair_tau(one, one), "two_seed_mean": _pair_tau(two, two),
            "benchmark_labels": mixed}


#: One benchmark under one protocol: what a plot, a map or a table compares within.
PROTOCOL = ["benchmark_name", "labels", "test_distribution"]
#: One setting: a predictor at one budget under one protocol.
SETTING = [*PROTOCOL, "predictor", "train_size", "fidelity"]

#: Bootstrap resamples and confidence level of every interval.
RESAMPLES = 4000
LEVEL = 0.95


@dataclass(frozen=True)
class Difference:
    """``a - b`` over the trials both ran: mean, 95% interval, number of trials."""

    mean: float
    low: float
    high: float
    trials: int

    @property
    def separated(self) -> bool:
        """The interval excludes zero (with at least two trials)."""
        return self.trials >= 2 and (self.low > 0 or self.high < 0)


def paired_interval(a: pd.Series, b: pd.Series, seed: int = 0) -> Difference:
    """Mean of ``a - b`` over shared index entries (trials) and its paired-bootstrap interval."""
    diff = (a - b).dropna().to_numpy(dtype=float)
    n = len(diff)
    if n == 0:
        return Difference(np.nan, np.nan, np.nan, 0)
    if n == 1:
        return Difference(float(diff[0]), -np.inf, np.inf, 1)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, n, size=(RESAMPLES, n))].mean(axis=1)
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Difference(float(diff.mean()), float(low), float(high), n)


def _key(value: object) -> object:
    """A setting key part without NaN (a missing fidelity or protocol field is ``-1``/``""``)."""
    import pandas as pd

    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return -1
    if isinstance(value, (int, np.integer, float, np.floating)):
        return int(value) if float(value).is_integer() else float(value)
    return str(value)


def setting_of(row: pd.Series, keys: list[str]) -> tuple:
    """The setting (index tuple of a :func:`trial_table`) of a record or summary row."""
    return tuple(_key(row[k]) for k in keys)


def trial_table(frame: pd.DataFrame, keys: list[str], metric: str = "kendall") -> pd.DataFrame:
    """Rows = settings (``keys``), columns = test sets (one per trial), values = ``metric``."""
    import pandas as pd

    ok = frame[frame["status"] == "ok"]
    pair = "test_set_id" if "test_set_id" in ok and ok["test_set_id"].notna().all() else "trial"
    values: dict[tuple, dict] = {}
    for _, r in ok.iterrows():
        value = pd.to_numeric(r.get(metric), errors="coerce")
        values.setdefault(setting_of(r, keys), {})[r[pair]] = value
    table = pd.DataFrame.from_dict(values, orient="index")
    return table.astype(float)


class Comparisons:
    """Paired differences between the settings of one :func:`trial_table`, computed on demand."""

    def __init__(self, table: pd.DataFrame):
        self.table = table
        self._cache: dict[tuple, Difference] = {}

    def row(self, setting: tuple) -> pd.Series:
        return self.table.loc[setting]

    def difference(self, a: tuple, b: tuple) -> Difference:
        """``a - b``."""
        if (a, b) not in self._cache:
            self._cache[(a, b)] = paired_interval(self.row(a), self.row(b))
        return self._cache[(a, b)]

    def tied(self, best: tuple, other: tuple) -> bool:
        return best == other or not self.difference(best, other).separated


def add_best_comparison(summary: pd.DataFrame, frame: pd.DataFrame,
                        keys: list[str] = SETTING, by: list[str] = PROTOCOL) -> pd.DataFrame:
    """Columns ``diff_to_best``, ``diff_low``, ``diff_high`` (Kendall tau of the setting minus
    the best setting's, paired over trials, 95% interval) and ``tie_with_best`` within each
    group of ``by`` (a benchmark under one protocol)."""
    summary = summary.copy()
    for col in ("diff_to_best", "diff_low", "diff_high"):
        summary[col] = np.nan
    summary["tie_with_best"] = False
    comparisons = Comparisons(trial_table(frame, keys))
    for _, part in summary.groupby(by, dropna=False):
        valid = part.dropna(subset=["kendall_mean"])
        if valid.empty:
            continue
        best = setting_of(valid.loc[valid["kendall_mean"].idxmax()], keys)
        for idx, row in valid.iterrows():
            setting = setting_of(row, keys)
            d = comparisons.difference(setting, best)
            summary.loc[idx, ["diff_to_best", "diff_low", "diff_high"]] = [d.mean, d.low, d.high]
            summary.loc[idx, "tie_with_best"] = comparisons.tied(best, setting)
    return summary
