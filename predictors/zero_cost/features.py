"""Zero-cost scores as input features of other predictors (OMNI, encoded model-based predictors).

- ``zero_cost_members``: one training-free predictor per measure name, run live (the registered
  proxy or baseline, whose cost lands in the measured time) or read from the benchmark's
  ``zc_<measure>`` table (``zc_table``, whose tabulated compute time the harness charges);
- ``zero_cost_block``: their scores for some architectures, one column per measure;
- ``ZeroCostScaler``: log-transforms heavy-tailed columns, imputes missing scores with the
  median and standardizes, every statistic taken from the labeled (training) architectures;
- ``ZeroCostFeatures``: the three together, the block an encoded predictor appends to its input
  (NAS-Bench-Suite-Zero's "zero-cost-augmented encodings").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

from predictors.base import DataNeeds, FitContext, Predictor, QueryContext
from predictors.registry import get, make
from predictors.spaces.base import Arch
from predictors.subcontexts import child_rng, query_rows, with_rng

#: Families whose predictors may serve as zero-cost features (training-free scores).
ZC_FAMILIES = ("zero_cost", "baseline")
#: Where zero-cost features come from: computed live, or read from the benchmark's table.
ZC_SOURCES = ("live", "table")
#: A column is log-transformed when its finite training values share one sign and their
#: largest magnitude exceeds the smallest this many times (synflow spans ~1e21 on
#: fmnist-nb201, jacov ~1e3; nwot 1.6 stays linear).
LOG_SPAN = 100.0
#: A queried value of a log column on the wrong side of zero is floored at this fraction of the
#: smallest training magnitude (the bottom of the column's range, a little beyond it).
LOG_FLOOR = 1e-3


def zero_cost_members(measures: Sequence[str], batch_size: int, who: str,
                      source: str = "live", param: str = "measures") -> list[Predictor]:
    """One training-free predictor per measure name; clear errors for unusable names.

    ``source="live"`` runs the registered proxy (or baseline) of each name on real networks;
    ``source="table"`` reads the benchmark's tabulated ``zc_<name>`` scores (``zc_table``),
    charged the tabulated time they took to compute. ``param`` is the hyperparameter that
    lists the measures, for the error messages.
    """
    if not measures:
        raise ValueError(f"{who}: use_zero_cost=True needs at least one measure in `{param}`")
    if source not in ZC_SOURCES:
        raise ValueError(f"{who}: unknown zc_source {source!r}; use one of {ZC_SOURCES}")
    if source == "table":
        return [make("zc_table", measure=str(name)) for name in measures]
    members = []
    for name in measures:
        cls = get(name)
        if cls.family not in ZC_FAMILIES or cls.needs.labels or cls.needs.curve_metrics:
            raise ValueError(
                f"{who}: measure {name!r} is a {cls.family} predictor; `{param}` takes "
                f"training-free scores (families {ZC_FAMILIES}), e.g. ('jacov', 'synflow')"
            )
        params = {"batch_size": batch_size} if "batch_size" in cls.param_names() else {}
        members.append(make(name, **params))
    return members


def zero_cost_block(members: Sequence[Predictor], archs: Sequence[Arch],
                    ctx: QueryContext) -> np.ndarray:
    """``[n, len(members)]`` scores; NaN where a measure is undefined for a network."""
    if not members:
        return np.zeros((len(archs), 0))
    cols = [m.query(archs, with_rng(ctx, child_rng(ctx.rng))).mean for m in members]
    return np.stack(cols, axis=1)


def fit_members(members: Sequence[Predictor], ctx: FitContext) -> None:
    """Fit the training-free members (they learn nothing; this checks their inputs)."""
    for m in members:
        m.fit(FitContext(space=ctx.space, fidelity=ctx.fidelity, total_epochs=ctx.total_epochs,
                         rng=child_rng(ctx.rng), device=ctx.device, live=ctx.live,
                         properties=ctx.properties, network=ctx.network))


@dataclass(frozen=True)
class ZeroCostScaler:
    """Per column: an optional signed log, median imputation, standardization.

    ``log_sign`` is +1 (or -1) for a column whose training values are all positive (negative)
    and heavy-tailed (span over ``LOG_SPAN``), read as ``sign * log|x|`` (order kept); 0 keeps
    a column linear. NaN and infinite scores are missing and get the training median.
    """

    log_sign: np.ndarray
    log_floor: np.ndarray
    imputer: SimpleImputer = field(repr=False)
    scaler: StandardScaler = field(repr=False)

    @classmethod
    def fit(cls, raw: np.ndarray) -> ZeroCostScaler:
        """Statistics of the training block ``raw`` (``[n, measures]``)."""
        raw = _finite(raw)
        signs, floors = np.zeros(raw.shape[1]), np.ones(raw.shape[1])
        for j in range(raw.shape[1]):
            col = raw[~np.isnan(raw[:, j]), j]
            sign = 1.0 if col.size and np.all(col > 0) else -1.0 if col.size and np.all(col < 0) \
                else 0.0
            if sign and col.size >= 2 and np.abs(col).max() > LOG_SPAN * np.abs(col).min():
                signs[j], floors[j] = sign, LOG_FLOOR * np.abs(col).min()
        logged = _signed_log(raw, signs, floors)
        imputer = SimpleImputer(strategy="median", keep_empty_features=True).fit(logged)
        scaler = StandardScaler().fit(imputer.transform(logged))
        return cls(signs, floors, imputer, scaler)

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """``raw`` scores as standardized features, with the training statistics."""
        logged = _signed_log(_finite(raw), self.log_sign, self.log_floor)
        return self.scaler.transform(self.imputer.transform(logged))


def _finite(raw: np.ndarray) -> np.ndarray:
    raw = np.asarray(raw, dtype=float)
    return np.where(np.isfinite(raw), raw, np.nan)


def _signed_log(raw: np.ndarray, signs: np.ndarray, floors: np.ndarray) -> np.ndarray:
    out = raw.copy()
    for j in np.flatnonzero(signs):
        out[:, j] = signs[j] * np.log(np.maximum(signs[j] * raw[:, j], floors[j]))
    return out


@dataclass
class ZeroCostFeatures:
    """The scores of ``measures`` as standardized features of a predictor's input.

    ``fit`` scores the labeled architectures and fixes the scaling on them; ``transform``
    scores queried ones with that scaling. The members draw their generators from a spawn of
    the context's generator, so the owner's own random draws are the same with or without them.
    """

    measures: tuple[str, ...]
    source: str = "table"
    batch_size: int = 64
    who: str = "predictor"
    param: str = "zc_features"
    _members: list[Predictor] = field(default_factory=list, init=False, repr=False)
    _scaler: ZeroCostScaler | None = field(default=None, init=False, repr=False)

    def members(self) -> list[Predictor]:
        return zero_cost_members(self.measures, self.batch_size, self.who, self.source,
                                 self.param)

    def needs(self) -> DataNeeds:
        """The union of the members' needs (tabulated scores and their costs, or live data)."""
        needs = DataNeeds(labels=False)
        for member in self.members():
            needs = needs.union(member.data_needs())
        return needs

    def fit(self, ctx: FitContext) -> np.ndarray:
        """``[n, measures]`` standardized features of the labeled architectures."""
        self._members = self.members()
        rng = ctx.rng.spawn(1)[0]
        fit_members(self._members, dataclasses.replace(ctx, rng=rng))
        rows = query_rows(ctx, np.arange(len(ctx.archs)), child_rng(rng))
        raw = zero_cost_block(self._members, ctx.archs, rows)
        self._scaler = ZeroCostScaler.fit(raw)
        return self._scaler.transform(raw)

    def transform(self, archs: Sequence[Arch], ctx: QueryContext) -> np.ndarray:
        """``[n, measures]`` features of ``archs``, scaled as the labeled ones were."""
        if self._scaler is None:
            raise RuntimeError(f"{self.who}: zero-cost features used before fit")
        raw = zero_cost_block(self._members, archs, with_rng(ctx, ctx.rng.spawn(1)[0]))
        return self._scaler.transform(raw)
