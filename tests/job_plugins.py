"""Surrogates that end, exit or hang their process in ``fit``, and job functions, for the tests
of the job pool (search runs, benchmark generation).

A module of its own (not a test module) so that worker processes can import it cheaply.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from predictors import DataNeeds, FitContext, Prediction, Predictor, QueryContext, register


class _Labelled(Predictor):
    """Predicts the label mean plus the number of 3x3 convolutions (deterministic)."""

    needs = DataNeeds(labels=True)

    def _fit(self, ctx: FitContext) -> None:
        self.mean_ = float(np.mean(ctx.labels))

    def _query(self, archs, ctx: QueryContext) -> Prediction:
        return Prediction(np.array([self.mean_ + a.spec.count("nor_conv_3x3") for a in archs]))


@register("test-surrogate", family="model_based")
class Plain(_Labelled):
    """A well-behaved surrogate."""


@register("test-surrogate-exit", family="model_based")
class ExitInFit(_Labelled):
    """Ends its process in ``fit`` without any cleanup, as a crash in native code would."""

    def _fit(self, ctx: FitContext) -> None:
        os._exit(3)


@register("test-surrogate-raise", family="model_based")
class RaiseInFit(_Labelled):
    """Raises in ``fit``."""

    def _fit(self, ctx: FitContext) -> None:
        raise RuntimeError("the surrogate broke")


@register("test-surrogate-sleep", family="model_based")
class SleepInFit(_Labelled):
    """Sleeps ``seconds`` in ``fit``."""

    seconds: float = 600.0

    def _fit(self, ctx: FitContext) -> None:
        time.sleep(self.seconds)


@register("test-surrogate-die-once", family="model_based")
class DieOnce(_Labelled):
    """Ends its process in its first ``fit`` while ``marker`` does not exist (creating it), then
    behaves like ``test-surrogate``."""

    marker: str = ""

    def _fit(self, ctx: FitContext) -> None:
        if not Path(self.marker).exists():
            Path(self.marker).write_text("")
            os._exit(9)
        super()._fit(ctx)


def square(x: int) -> int:
    return x * x


def misbehave(job: tuple[str, str]) -> str:
    """``("ok", _)`` returns, ``("raise", _)`` raises, ``("exit", _)`` ends the process,
    ``("once", marker)`` ends it while ``marker`` does not exist, ``("hang", _)`` sleeps."""
    kind, marker = job
    if kind == "raise":
        raise ValueError("bad job")
    if kind == "exit":
        os._exit(5)
    if kind == "once" and not Path(marker).exists():
        Path(marker).write_text("")
        os._exit(6)
    if kind == "hang":
        time.sleep(600)
    return kind


def fail_setup() -> None:
    raise LookupError("no dataset here")
