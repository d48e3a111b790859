"""The six newer measures' score files of fmnist-nb201 against the 200-cell live scores here,
and the tabulated az_nas against a live query.

    OMP_NUM_THREADS=1 python results/zero-cost-recent/check_files.py [--live 30]

For each per-architecture measure: the largest relative difference between the score files
(``data/fmnist-shards/n3c8-e8-b128/zero-cost/``) and ``<measure>.csv`` on the 200 cells, and
both Spearman correlations with the benchmark's objective on those cells. For az_nas: the 200
cells ranked from the files' components beside ``az_nas.csv``. With ``--live N``: a live
az_nas query of N cells of the order (from index 500) against the table source reading the
components as ``predbench build merge`` stores them (ranks, float32).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from benchmarks.builder.order import arch_order
from benchmarks.builder.recipe import get_recipe
from benchmarks.builder.zero_cost import _Scorer, read_scores, tabulate
from benchmarks.score import oriented_truth
from benchmarks.tabular import load_benchmark
from predictors import FitContext, QueryContext, make
from predictors.spaces import get_space

HERE = Path(__file__).parent
SHARDS = HERE.parents[1] / "data" / "fmnist-shards" / "n3c8-e8-b128"
PER_ARCH = ("zico", "meco", "swap", "tenas_ntk", "tenas_lr")


def az_from_table(names: list[str], table: np.ndarray, rows: list[int], archs: list) -> np.ndarray:
    """az_nas of ``archs`` (rows ``rows`` of ``table``) from its tabulated columns, in float32."""
    space = get_space("nb201")
    props = {n: table[rows, k].astype(np.float32).astype(float) for k, n in enumerate(names)
             if n.startswith("zc_az_nas_")}
    return make("az_nas", source="table").fit(FitContext(space=space)).query(
        archs, QueryContext(space=space, properties=props)).mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", type=int, default=0, help="cells of the live az_nas check")
    args = parser.parse_args()
    records = read_scores(SHARDS)
    row_of = {r["arch"]: i for i, r in records.items()}
    names, table, _ = tabulate(records, range(len(records)))
    bench = load_benchmark("fmnist-nb201")
    print("| measure | max relative difference | Spearman, CSV | Spearman, files |")
    print("|---|---|---|---|")
    for m in PER_ARCH:
        frame = pd.read_csv(HERE / f"{m}.csv")
        truth = oriented_truth(frame["arch"], bench, bench.objective)
        files = np.array([records[row_of[a]]["scores"][m]["score"] for a in frame["arch"]])
        rel = np.max(np.abs(files - frame["score"]) / np.abs(frame["score"]))
        print(f"| {m} | {rel:.2g} | {stats.spearmanr(truth, frame['score']).statistic:.3f} | "
              f"{stats.spearmanr(truth, files).statistic:.3f} |")
    frame = pd.read_csv(HERE / "az_nas.csv")
    truth = oriented_truth(frame["arch"], bench, bench.objective)
    space = get_space("nb201")
    files = az_from_table(names, table, [row_of[a] for a in frame["arch"]],
                          [space.from_string(a) for a in frame["arch"]])
    print(f"| az_nas (ranked over the 200) | Spearman with the CSV "
          f"{stats.spearmanr(files, frame['score']).statistic:.3f} | "
          f"{stats.spearmanr(truth, frame['score']).statistic:.3f} | "
          f"{stats.spearmanr(truth, files).statistic:.3f} |")
    if args.live:
        indices = list(range(500, 500 + args.live))
        archs = [arch_order()[i] for i in indices]
        scorer = _Scorer.for_recipe(get_recipe("n3c8-e8-b128"), ["az_nas"])
        live = scorer.predictors["az_nas"].query(archs, scorer.ctx).mean
        tabled = az_from_table(names, table, indices, archs)
        print(f"az_nas of {len(archs)} cells, live query vs table: identical "
              f"{np.array_equal(live, tabled)}, largest difference {np.abs(live - tabled).max()}")


if __name__ == "__main__":
    main()
