"""Headline figures of one benchmark under two protocols, side by side.

    python scripts/before_after.py BEFORE AFTER --benchmark fmnist-nb201 [--out table.md]

BEFORE and AFTER are results stores (``*.db``) or their snapshots (``*.jsonl.gz``). For every
setting (predictor, train size, fidelity) evaluated in both, the table gives the mean Kendall tau
over trials before and after, the change, and the labels the after-records were judged against
(``label_source``); then, for each of a few budgets, the best setting before and after. Settings
evaluated on one side only are counted, not shown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from benchmarks.plots import summarize
from benchmarks.snapshot import read_frame

KEYS = ["predictor", "train_size", "fidelity"]


def frame(path: Path, benchmark: str) -> pd.DataFrame:
    """The successful records of ``benchmark`` in a store or a snapshot."""
    data = read_frame(path)
    return data[data["benchmark_name"] == benchmark]


def table(before: pd.DataFrame, after: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    b, a = summarize(before), summarize(after)
    for side in (b, a):
        side["fidelity"] = side["fidelity"].astype("Int64")
    merged = b[[*KEYS, "kendall_mean", "trials"]].merge(
        a[[*KEYS, "kendall_mean", "trials", "label_source", "noise_ceiling_kendall_mean",
           "tie_with_best"]], on=KEYS, suffixes=("_before", "_after"))
    merged["change"] = merged["kendall_mean_after"] - merged["kendall_mean_before"]
    return (merged.sort_values(KEYS).reset_index(drop=True), len(b) - len(merged),
            len(a) - len(merged))


def markdown(merged: pd.DataFrame, only_before: int, only_after: int) -> str:
    lines = ["| predictor | train size | fidelity | tau before | tau after | change | "
             "after: labels | after: tie with best |", "|---|---|---|---|---|---|---|---|"]
    for r in merged.itertuples():
        fid = "-" if pd.isna(r.fidelity) else int(r.fidelity)
        lines.append(
            f"| {r.predictor} | {int(r.train_size)} | {fid} | {r.kendall_mean_before:.3f} "
            f"({int(r.trials_before)}) | {r.kendall_mean_after:.3f} ({int(r.trials_after)}) | "
            f"{r.change:+.3f} | {r.label_source} | {'tie' if r.tie_with_best else ''} |")
    lines += ["", f"Mean Kendall tau (trials in brackets). Settings only before: {only_before}; "
              f"only after: {only_after}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--benchmark", required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    for path in (args.before, args.after):
        if not path.is_file():
            print(f"error: no store or snapshot {path}", file=sys.stderr)
            return 2
    merged, only_before, only_after = table(frame(args.before, args.benchmark),
                                            frame(args.after, args.benchmark))
    text = markdown(merged, only_before, only_after)
    if args.out:
        args.out.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
