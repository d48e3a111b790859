"""A predictor that stalls on one Ray node, for the test that removes that node mid-sweep.

A module of its own (not a test module) so that Ray workers can import it cheaply.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from predictors import DataNeeds, FitContext, Prediction, Predictor, QueryContext, register


@register("test-stall-on-node", family="baseline")
class StallOnNode(Predictor):
    """On the Ray node ``node`` (its id), writes a file into ``marker_dir`` and sleeps for
    ``seconds`` in ``fit``; elsewhere fits at once. Predicts the architectures' order."""

    needs = DataNeeds(labels=False)

    def __init__(self, node: str = "", marker_dir: str = "", seconds: float = 600.0,
                 n: int = 0):
        self.node, self.marker_dir, self.seconds, self.n = node, marker_dir, seconds, n

    def _fit(self, ctx: FitContext) -> None:
        import ray

        if ray.get_runtime_context().get_node_id() == self.node:
            (Path(self.marker_dir) / f"task{self.n}-pid{os.getpid()}").write_text("")
            time.sleep(self.seconds)

    def _query(self, archs, ctx: QueryContext) -> Prediction:
        return Prediction(np.arange(len(archs), dtype=float))
