"""Thread budgets for native pools: torch, OpenMP and BLAS (via threadpoolctl).

Small fits oversubscribed by spin-waiting OpenMP/BLAS threads slow down by orders of magnitude
when other processes share the cores (XGBoost on 16 rows: 0.04 s with one thread, 4.5 s with
two on a busy 2-core machine), so every evaluation and search step runs inside a limit.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


@contextmanager
def limit_threads(threads: int | None) -> Iterator[None]:
    """Limit native thread pools (OpenMP/BLAS via threadpoolctl, and torch) to ``threads``.

    Apply it around every fit/query: libraries imported lazily by a predictor (xgboost) are only
    seen once loaded. ``None`` leaves every pool as it is.
    """
    if threads is None:
        yield
        return
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if torch is not None and before is not None:
            torch.set_num_threads(before)
