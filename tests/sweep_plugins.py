"""Predictors that end their process, exit or hang in ``fit``, for the sweep robustness tests.

A module of its own (not a test module) so that spawned sweep workers can import it cheaply.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from predictors import DataNeeds, FitContext, Prediction, Predictor, QueryContext, register


class _Misbehaving(Predictor):
    needs = DataNeeds(labels=False)

    def _query(self, archs, ctx: QueryContext) -> Prediction:
        return Prediction(np.zeros(len(archs)))


@register("test-sys-exit", family="baseline")
class SysExit(_Misbehaving):
    """Raises ``SystemExit`` in ``fit`` (as a stray ``sys.exit()`` would)."""

    def _fit(self, ctx: FitContext) -> None:
        raise SystemExit(4)


@register("test-os-exit", family="baseline")
class OsExit(_Misbehaving):
    """Ends its process in ``fit`` without any cleanup, as a crash in native code would."""

    def _fit(self, ctx: FitContext) -> None:
        os._exit(3)


@register("test-sleep", family="baseline")
class Sleep(_Misbehaving):
    """Writes its pid into ``pid_dir`` (when given), then sleeps ``seconds`` in ``fit``."""

    def __init__(self, seconds: float = 600.0, pid_dir: str = ""):
        self.seconds = seconds
        self.pid_dir = pid_dir

    def _fit(self, ctx: FitContext) -> None:
        if self.pid_dir:
            (Path(self.pid_dir) / str(os.getpid())).write_text("")
        time.sleep(self.seconds)


@register("test-interrupt", family="baseline")
class Interrupt(_Misbehaving):
    """Raises ``KeyboardInterrupt`` in ``fit`` itself (no Ctrl-C of the user)."""

    def _fit(self, ctx: FitContext) -> None:
        raise KeyboardInterrupt


@register("test-die-once", family="baseline")
class DieOnce(_Misbehaving):
    """Ends its process the first time it runs (as the OOM killer might), not when ``marker``
    exists; creates ``marker`` before dying."""

    def __init__(self, marker: str = ""):
        self.marker = marker

    def _fit(self, ctx: FitContext) -> None:
        if not Path(self.marker).exists():
            Path(self.marker).write_text("")
            os._exit(9)
