"""NGBoost fit time: ngboost's defaults against the closed-form Normal and the prevalidated tree
that `ngb` uses.

    python -m benchmarks.perf.ngb_normal [--rows 40] [--estimators 300] [--repeats 2]

Fits the same model (same data, tree settings and seeds) three ways, alternating them: ngboost's
``Normal`` with scikit-learn's ``DecisionTreeRegressor``; the closed-form Normal with that tree;
the closed-form Normal with ``PrevalidatedTree``. It prints process-CPU seconds per fit, each
speed-up over the first, and the largest difference between their predictions (zero: neither
change alters a result).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from ngboost import NGBRegressor
from ngboost.distns import Normal
from sklearn.tree import DecisionTreeRegressor

from predictors.model_based.ngb_normal import ClosedFormNormal
from predictors.model_based.ngb_tree import PrevalidatedTree

VARIANTS = {
    "ngboost Normal + sklearn tree": (Normal, DecisionTreeRegressor),
    "closed-form Normal + sklearn tree": (ClosedFormNormal, DecisionTreeRegressor),
    "closed-form Normal + prevalidated tree (ngb)": (ClosedFormNormal, PrevalidatedTree),
}


def fit_seconds(dist, tree, x, y, xt, estimators: int) -> tuple[float, np.ndarray]:
    base = tree(max_depth=6, random_state=1)
    model = NGBRegressor(Dist=dist, Base=base, n_estimators=estimators, learning_rate=0.08,
                         minibatch_frac=0.5, verbose=False, random_state=2)
    start = time.process_time()
    model.fit(x, y)
    elapsed = time.process_time() - start
    pred = model.pred_dist(xt)
    return elapsed, np.stack([pred.loc, pred.scale])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--estimators", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.rows, args.features))
    y = 2 * x[:, 0] + 0.3 * rng.normal(size=args.rows)
    xt = rng.normal(size=(200, args.features))
    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    preds = {}
    for _ in range(args.repeats):
        for name, (dist, tree) in VARIANTS.items():
            s, preds[name] = fit_seconds(dist, tree, x, y, xt, args.estimators)
            seconds[name].append(s)
    means = {name: float(np.mean(v)) for name, v in seconds.items()}
    first = next(iter(VARIANTS))
    print(f"{args.rows} rows, {args.estimators} estimators, {args.repeats} repeat(s), "
          "process-CPU seconds per fit:")
    for name, s in means.items():
        diff = float(np.abs(preds[name] - preds[first]).max())
        print(f"  {name}: {s:.2f} s ({means[first] / s:.2f}x); "
              f"largest prediction difference {diff:.1e}")


if __name__ == "__main__":
    main()
