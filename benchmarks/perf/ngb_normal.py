"""NGBoost fit time with ngboost's own Normal vs the closed-form Normal that `ngb` uses.

    python -m benchmarks.perf.ngb_normal [--rows 40] [--estimators 300] [--repeats 2]

Fits the same model (same data, trees and seeds) with each distribution, alternating them,
and prints process-CPU seconds per fit, the ratio, and the largest difference between their
predictions (zero: the closed form changes no result).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from ngboost import NGBRegressor
from ngboost.distns import Normal
from sklearn.tree import DecisionTreeRegressor

from predictors.model_based.ngb_normal import ClosedFormNormal


def fit_seconds(dist, x, y, xt, estimators: int) -> tuple[float, np.ndarray]:
    base = DecisionTreeRegressor(max_depth=6, random_state=1)
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
    seconds = {"ngboost Normal": [], "closed-form Normal": []}
    preds = {}
    for _ in range(args.repeats):
        for name, dist in (("ngboost Normal", Normal), ("closed-form Normal", ClosedFormNormal)):
            s, preds[name] = fit_seconds(dist, x, y, xt, args.estimators)
            seconds[name].append(s)
    a, b = (float(np.mean(v)) for v in seconds.values())
    diff = float(np.abs(preds["ngboost Normal"] - preds["closed-form Normal"]).max())
    print(f"{args.rows} rows, {args.estimators} estimators, {args.repeats} repeat(s): "
          f"ngboost Normal {a:.2f} s, closed-form {b:.2f} s per fit ({a / b:.2f}x); "
          f"largest prediction difference {diff:.1e}")


if __name__ == "__main__":
    main()
