"""NGBoost fit time: ngboost's defaults against the closed-form Normal and the prevalidated tree
that `ngb` uses.

    predbench bench ngb-normal [--rows 40] [--estimators 300] [--repeats 2]

Fits the same model (same data, tree settings and seeds) three ways, alternating them: ngboost's
``Normal`` with scikit-learn's ``DecisionTreeRegressor``; the closed-form Normal with that tree;
the closed-form Normal with ``PrevalidatedTree``. It prints process-CPU seconds per fit, each
speed-up over the first, and the largest difference between their predictions (zero: neither
change alters a result).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import typer

from benchmarks.threads import limit_threads


def variants() -> dict[str, tuple[Any, Any]]:
    """The (distribution, base tree) of each variant timed, the first the reference."""
    from ngboost.distns import Normal
    from sklearn.tree import DecisionTreeRegressor

    from predictors.model_based.ngb_normal import ClosedFormNormal
    from predictors.model_based.ngb_tree import PrevalidatedTree

    return {
        "ngboost Normal + sklearn tree": (Normal, DecisionTreeRegressor),
        "closed-form Normal + sklearn tree": (ClosedFormNormal, DecisionTreeRegressor),
        "closed-form Normal + prevalidated tree (ngb)": (ClosedFormNormal, PrevalidatedTree),
    }


def fit_seconds(dist, tree, x, y, xt, estimators: int) -> tuple[float, np.ndarray]:
    from ngboost import NGBRegressor

    base = tree(max_depth=6, random_state=1)
    model = NGBRegressor(Dist=dist, Base=base, n_estimators=estimators, learning_rate=0.08,
                         minibatch_frac=0.5, verbose=False, random_state=2)
    start = time.process_time()
    model.fit(x, y)
    elapsed = time.process_time() - start
    pred = model.pred_dist(xt)
    return elapsed, np.stack([pred.loc, pred.scale])


def command(
    rows: int = typer.Option(40, help="Training rows."),
    features: int = typer.Option(30, help="Features per row."),
    estimators: int = typer.Option(300, help="Boosting rounds."),
    repeats: int = typer.Option(2, help="Fits of each variant."),
    threads: int | None = typer.Option(
        None, help="Native threads (OpenMP, BLAS; default: as they are)."),
) -> None:
    """NGBoost fit: ngboost's defaults vs ngb's closed-form Normal and prevalidated tree."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, features))
    y = 2 * x[:, 0] + 0.3 * rng.normal(size=rows)
    xt = rng.normal(size=(200, features))
    timed = variants()
    seconds: dict[str, list[float]] = {name: [] for name in timed}
    preds = {}
    with limit_threads(threads):
        for _ in range(repeats):
            for name, (dist, tree) in timed.items():
                s, preds[name] = fit_seconds(dist, tree, x, y, xt, estimators)
                seconds[name].append(s)
    means = {name: float(np.mean(v)) for name, v in seconds.items()}
    first = next(iter(timed))
    typer.echo(f"{rows} rows, {estimators} estimators, {repeats} repeat(s), "
               "process-CPU seconds per fit:")
    for name, s in means.items():
        diff = float(np.abs(preds[name] - preds[first]).max())
        typer.echo(f"  {name}: {s:.2f} s ({means[first] / s:.2f}x); "
                   f"largest prediction difference {diff:.1e}")
