"""Whether a predictor can run on a benchmark, and the contexts it receives there.

:func:`incompatibilities` lists every reason a predictor (by its ``DataNeeds``) cannot run on a
benchmark, and :func:`check_compatible` raises them as one :class:`IncompatibleError`.
:class:`ContextBuilder` builds the fit and query contexts for rows of a benchmark, holding exactly
what the predictor declares, so it cannot read full learning curves or test labels by mistake;
:func:`build_contexts` does so for one evaluation's :class:`Split`. Every caller (the harness,
sweeps, search surrogates and pre-filters, scoring) goes through these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.live import LiveSourceError, live_source_for
from benchmarks.tabular import TabularBenchmark
from predictors.base import DataNeeds, FitContext, LiveSource, QueryContext
from predictors.spaces import Arch


class TaskError(ValueError):
    """An evaluation task asks for something the benchmark or predictor cannot give."""


class IncompatibleError(TaskError):
    """A predictor cannot run on a benchmark; the message lists every reason."""


@dataclass
class Split:
    """Row indices into the benchmark (disjoint by canonical form) and what each side reads.

    ``*_runs`` give, per row, the training run (seed) whose curve is read; ``*_labels`` the
    oriented labels. ``None`` means seed 0 and the mean final value over seeds
    (``benchmarks.protocol.make_split`` fills them; see there for the label sources).
    """

    train: np.ndarray
    test: np.ndarray
    unlabeled: np.ndarray
    train_runs: np.ndarray | None = None
    test_runs: np.ndarray | None = None
    train_labels: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    label_source: str = "same-run"
    curve_seed: int | None = 0
    distribution: str = "cells"
    noise_ceiling: float | None = None
    seed_to_seed: float | None = None
    pool_size: int = 0


def oriented(bench: TabularBenchmark, metric: str, values: np.ndarray) -> np.ndarray:
    """``values`` of ``metric`` oriented so that higher is better."""
    values = np.asarray(values, dtype=float)
    return values if bench.direction(metric) == "max" else -values


def oriented_final(bench: TabularBenchmark, metric: str) -> np.ndarray:
    """Final value per architecture (mean over seeds), oriented so that higher is better."""
    return oriented(bench, metric, bench.final(metric))


def incompatibilities(bench: TabularBenchmark, needs: DataNeeds, *,
                      live: LiveSource | None = None, fully_trained: bool = False) -> list[str]:
    """Why a predictor with ``needs`` cannot run on ``bench`` (empty: it can).

    ``live`` is a data source supplied instead of the benchmark's own; ``fully_trained`` says
    the architectures are only ever seen fully trained (a search), so no partial curves exist.
    """
    reasons = []
    missing = [p for p in needs.properties if p not in bench.static_names]
    if missing:
        reasons.append(f"needs per-architecture {missing}; benchmark {bench.name!r} tabulates "
                       f"{bench.static_names}")
    if needs.curve_metrics:
        absent = [m for m in needs.curve_metrics if m not in bench.metric_names]
        if fully_trained:
            reasons.append("reads partial learning curves; a search queries fully trained cells "
                           "only: pick a model-based or zero-cost predictor")
        elif not bench.has_curves:
            reasons.append(f"reads learning curves; benchmark {bench.name!r} has final values "
                           "only: use a benchmark with curves")
        elif absent:
            reasons.append(f"needs curve metric(s) {absent}; benchmark {bench.name!r} has "
                           f"{bench.metric_names}")
    if needs.network and not bench.metadata.get("network"):
        reasons.append(f"runs real networks; benchmark {bench.name!r} has no network "
                       "configuration")
    if needs.live and live is None:
        try:
            live_source_for(bench.metadata)
        except LiveSourceError as exc:
            reasons.append(str(exc))
    return reasons


def check_compatible(bench: TabularBenchmark, needs: DataNeeds, predictor: str, *,
                     live: LiveSource | None = None, fully_trained: bool = False) -> None:
    """Raise ``IncompatibleError`` naming every reason ``predictor`` cannot run on ``bench``."""
    reasons = incompatibilities(bench, needs, live=live, fully_trained=fully_trained)
    if reasons:
        raise IncompatibleError(f"predictor {predictor!r} cannot run on benchmark "
                                f"{bench.name!r}: {'; '.join(reasons)}")


@dataclass
class ContextBuilder:
    """Fit and query contexts for rows of ``bench``, holding exactly what ``needs`` declares.

    ``live`` defaults to the benchmark's own source when the predictor needs one; curves are cut
    at ``fidelity`` (none without one); labels are the final ``metric`` (default: the objective),
    oriented so that higher is better, unless the caller gives its own.
    """

    bench: TabularBenchmark
    needs: DataNeeds
    fidelity: int | None = None
    device: str = "cpu"
    metric: str | None = None
    live: LiveSource | None = None
    _common: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.needs.live and self.live is None:
            self.live = live_source_for(self.bench.metadata)
        network = self.bench.metadata.get("network")
        self._common = dict(space=self.bench.space, fidelity=self.fidelity,
                            total_epochs=self.bench.epochs, device=self.device,
                            live=self.live if self.needs.live else None,
                            network=dict(network) if network else None)

    def _curves(self, rows: Sequence[int], runs: Sequence[int] | None) -> dict[str, np.ndarray]:
        if self.fidelity is None:
            return {}
        seed = 0 if runs is None else np.asarray(runs, dtype=int)
        return {m: self.bench.curve(rows, m, upto=self.fidelity, seed=seed)
                for m in self.needs.curve_metrics}

    def _properties(self, rows: Sequence[int]) -> dict[str, np.ndarray]:
        return {p: self.bench.static_value(p, rows) for p in self.needs.properties}

    def fit(self, rows: Sequence[int], rng: np.random.Generator, *,
            labels: np.ndarray | None = None, unlabeled: Sequence[int] = (),
            runs: Sequence[int] | None = None) -> FitContext:
        """The context to fit on ``rows`` (dropped for predictors that read no training data),
        with the ``unlabeled`` rows for semi-supervised predictors; curves come from ``runs``
        (one seed per row; default seed 0)."""
        needs = self.needs
        rows = np.asarray(rows, dtype=int)
        if not (needs.labels or needs.curves_for_train):
            rows = rows[:0]
            runs = None if runs is None else np.asarray(runs, dtype=int)[:0]
        if not needs.labels:
            labels = None
        elif labels is None:
            labels = oriented_final(self.bench, self.metric or self.bench.objective)[rows]
        else:
            labels = np.asarray(labels, dtype=float)
        archs = self.bench.archs
        return FitContext(
            archs=[archs[i] for i in rows],
            labels=labels,
            curves=self._curves(rows, runs) if needs.curves_for_train else {},
            unlabeled=[archs[i] for i in unlabeled] if needs.unlabeled_factor else [],
            rng=rng,
            properties=self._properties(rows),
            **self._common,
        )

    def query(self, rows: Sequence[int], rng: np.random.Generator, *,
              runs: Sequence[int] | None = None) -> QueryContext:
        """The context to query the architectures of ``rows`` (curves of ``runs``, default seed
        0)."""
        rows = np.asarray(rows, dtype=int)
        return QueryContext(curves=self._curves(rows, runs), rng=rng,
                            properties=self._properties(rows), **self._common)


def build_contexts(bench: TabularBenchmark, needs: DataNeeds, split: Split, fidelity: int | None,
                   seed: int, device: str = "cpu", metric: str | None = None,
                   ) -> tuple[FitContext, QueryContext, list[Arch]]:
    """One evaluation's contexts (generators derived from ``seed``) and the archs to query."""
    builder = ContextBuilder(bench, needs, fidelity, device, metric)
    fit_ctx = builder.fit(split.train, np.random.default_rng([seed, 0]),
                          labels=split.train_labels, unlabeled=split.unlabeled,
                          runs=split.train_runs)
    query_ctx = builder.query(split.test, np.random.default_rng([seed, 1]), runs=split.test_runs)
    return fit_ctx, query_ctx, [bench.archs[i] for i in split.test]
