"""Progress reporting of long work: plain lines off a terminal, a bar on one, nothing when off."""

from __future__ import annotations

import io

from benchmarks.progress import Progress, clock


def test_plain_lines_count_done_failed_and_total():
    out = io.StringIO()
    with Progress(3, "trainings", every_s=0.0, stream=out, terminal=False) as bar:
        bar.done("a0001-s1")
        bar.done("a0002-s1", "failed")
        bar.done("a0003-s1")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("trainings 1/3 (33%), 0 failed, 0:00:00 elapsed, about ")
    assert lines[1].startswith("trainings 2/3 (67%), 1 failed, ")
    assert lines[2].endswith("last: a0003-s1 ok") and "about 0:00:00 left" in lines[2]


def test_lines_within_the_interval_are_held_back_but_first_and_last_are_written():
    out = io.StringIO()
    with Progress(4, "runs", every_s=3600.0, stream=out, terminal=False) as bar:
        for name in "abcd":
            bar.done(name)
    assert [line.split()[1] for line in out.getvalue().splitlines()] == ["1/4", "4/4"]


def test_disabled_progress_writes_nothing_and_still_counts():
    out = io.StringIO()
    with Progress(2, "runs", enabled=False, stream=out, terminal=False) as bar:
        bar.done("a", "failed")
        bar.done("b")
    assert out.getvalue() == "" and (bar.count, bar.failed) == (2, 1)


def test_terminal_gets_a_bar_with_the_label():
    out = io.StringIO()
    with Progress(2, "evaluations", stream=out, terminal=True) as bar:
        bar.done("xgb")
        bar.done("gp", "timeout")
    assert "evaluations" in out.getvalue() and "1 failed" in out.getvalue()


def test_clock():
    assert clock(0) == "0:00:00" and clock(3725.4) == "1:02:05"
