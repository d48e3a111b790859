"""Progress of long work (sweeps, searches, benchmark generation), on a terminal and off it.

On a terminal a live bar (rich); elsewhere (a script, CI, a log file), where a bar would show
nothing until the end, plain lines on standard error: the first item, then at most one line per
``every_s`` seconds, and the last, each with done / total, failures, elapsed and estimated
remaining time, and the last item's name and outcome.
"""

from __future__ import annotations

import math
import sys
import time
from types import TracebackType
from typing import Any, TextIO

#: Seconds between two plain progress lines.
PROGRESS_EVERY_S = 30.0


def clock(seconds: float) -> str:
    """``H:MM:SS``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class Progress:
    """Reports ``total`` items as they finish: ``with Progress(n, "runs") as p: p.done(name)``.

    ``enabled=False`` reports nothing; ``terminal`` (default: whether ``stream`` is one) picks
    the bar or the plain lines."""

    def __init__(self, total: int, label: str, *, enabled: bool = True,
                 every_s: float = PROGRESS_EVERY_S, stream: TextIO | None = None,
                 terminal: bool | None = None):
        self.total, self.label, self.every_s = total, label, every_s
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.count = self.failed = 0
        self.start, self.last_line = time.monotonic(), -math.inf
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.enabled and self.terminal:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[failed]}"), TimeElapsedColumn(),
                       TimeRemainingColumn())
            self._bar = Bar(*columns, console=Console(file=self.stream), transient=False)
            self._bar.__enter__()
            self._job = self._bar.add_task(self.label, total=self.total, failed="")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, exc, tb)

    def done(self, name: str, status: str = "ok", items: int = 1) -> None:
        """``items`` more items finished (the last named ``name``), as ``status`` (anything
        but ``ok`` counts as failed)."""
        self.count += items
        self.failed += items if status != "ok" else 0
        if not self.enabled:
            return
        if self._bar is not None:
            failed = f"{self.failed} failed" if self.failed else ""
            self._bar.update(self._job, advance=items, description=f"{self.label} {name:>20}",
                             failed=failed)
            return
        now = time.monotonic()
        first = self.last_line == -math.inf
        if not first and self.count < self.total and now - self.last_line < self.every_s:
            return
        self.last_line = now
        elapsed = now - self.start
        left = elapsed / self.count * max(self.total - self.count, 0)
        self.stream.write(f"{self.label} {self.count}/{self.total} "
                          f"({100 * self.count / self.total:.0f}%), {self.failed} failed, "
                          f"{clock(elapsed)} elapsed, about {clock(left)} left; "
                          f"last: {name} {status}\n")
        self.stream.flush()
