"""Compare the evaluation records of two results stores, timings aside.

A refactor must not change a single number: run the same sweep before and after it (for example
``predbench reproduce --trials 1 --benchmark B --out DIR`` on each tree) and compare the stores::

    python scripts/compare_records.py BEFORE.db AFTER.db

Records are matched by what they evaluate (benchmark, predictor, parameters, budget, trial, test
size, metric), not by their key, so a change of the key's hashing does not hide a record. Fields
that measure wall time or name the machine are ignored; every other field must be equal (floats
exactly). Fields present on one side only are listed, not counted as differences. Exit status: 0
when every record matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

#: Fields that hold measured wall time, the machine, or store bookkeeping.
IGNORED = {"init_fit_s", "init_time_s", "query_measured_s", "query_time_s",
           "query_total_measured_s", "wall_s", "device_name", "key", "traceback",
           "fit_wall_s", "query_wall_s"}
IDENTITY = ("benchmark", "predictor", "params", "train_size", "fidelity", "trial", "test_size",
            "metric")


def load(path: Path) -> dict[str, dict[str, Any]]:
    """Records of the store at ``path`` by their identity."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT record FROM evaluations").fetchall()
    finally:
        conn.close()
    out = {}
    for (text,) in rows:
        record = json.loads(text)
        ident = json.dumps([record.get(k) for k in IDENTITY], sort_keys=True)
        out[ident] = record
    return out


def differences(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], set[str]]:
    """Fields whose values differ, and fields present on one side only."""
    shared = (a.keys() & b.keys()) - IGNORED
    changed = sorted(k for k in shared if a[k] != b[k] and not _both_nan(a[k], b[k]))
    return changed, (a.keys() ^ b.keys()) - IGNORED


def _both_nan(x: Any, y: Any) -> bool:
    return isinstance(x, float) and isinstance(y, float) and x != x and y != y


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--show", type=int, default=10, help="differing records to print")
    args = parser.parse_args(argv)
    before, after = load(args.before), load(args.after)
    only_before = before.keys() - after.keys()
    only_after = after.keys() - before.keys()
    same, differ, one_sided = 0, [], set()
    for ident in sorted(before.keys() & after.keys()):
        changed, sided = differences(before[ident], after[ident])
        one_sided |= sided
        if changed:
            differ.append((ident, changed))
        else:
            same += 1
    print(f"{len(before)} records before, {len(after)} after: {same} identical, "
          f"{len(differ)} differ, {len(only_before)} only before, {len(only_after)} only after")
    if one_sided:
        print(f"fields on one side only (not compared): {', '.join(sorted(one_sided))}")
    for ident, changed in differ[: args.show]:
        a, b = before[ident], after[ident]
        print(f"  {ident}: " + "; ".join(f"{k} {a[k]!r} -> {b[k]!r}" for k in changed[:4]))
    for ident in sorted(only_before)[: args.show]:
        print(f"  only before: {ident}")
    for ident in sorted(only_after)[: args.show]:
        print(f"  only after: {ident}")
    return 0 if not differ and not only_before and not only_after else 1


if __name__ == "__main__":
    sys.exit(main())
