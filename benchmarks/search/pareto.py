"""Two objectives over a tabular benchmark: Pareto fronts, hypervolume, and an oracle that
measures a search by the hypervolume of the front it has found.

The first objective is the search's metric (the landscape's); the second is another metric
(e.g. ``ptq_accuracy``, in its own direction) or a tabulated property (``params``, ``flops``,
``latency_cpu``: lower is better). Both are oriented to be maximized and scaled to [0, 1] over
the benchmark's cells, so the reference point of the hypervolume is the origin (the worst value
of each objective in the table) and a hypervolume is a fraction of the unit square. The whole
table is known, so the true front and its hypervolume are exact; a run's hypervolume regret is
the true hypervolume minus that of the cells it has queried.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from benchmarks.search.oracle import Landscape, Oracle, SearchSetupError

#: Tabulated properties that are not objectives (costs of training or of proxy scores).
NOT_OBJECTIVES = ("epoch_time", "epoch_time_measured")


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Which rows of ``points`` ``[n, 2]`` (both maximized) no other row dominates; of equal
    rows only the first counts."""
    points = np.asarray(points, dtype=float)
    order = np.lexsort((-points[:, 1], -points[:, 0]))  # by first desc, then second desc
    mask = np.zeros(len(points), dtype=bool)
    best_second = -np.inf
    for i in order:
        if points[i, 1] > best_second:
            mask[i] = True
            best_second = points[i, 1]
    return mask


def hypervolume_2d(points: np.ndarray, ref: tuple[float, float] = (0.0, 0.0)) -> float:
    """Area dominated by ``points`` ``[n, 2]`` (both maximized) and bounded below by ``ref``."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    points = points[(points[:, 0] > ref[0]) & (points[:, 1] > ref[1])]
    if len(points) == 0:
        return 0.0
    front = points[pareto_mask(points)]
    front = front[np.argsort(-front[:, 0])]  # first desc, so second ascends
    area, last_second = 0.0, ref[1]
    for first, second in front:
        area += (first - ref[0]) * (second - last_second)
        last_second = second
    return float(area)


def nondominated_ranks(points: np.ndarray) -> np.ndarray:
    """Front number of each row, all objectives maximized: 0 for the rows no other dominates,
    1 for those only front 0 dominates, and so on (NSGA-II's non-dominated sorting)."""
    points = np.asarray(points, dtype=float)
    ge = (points[:, None, :] >= points[None, :, :]).all(axis=-1)
    gt = (points[:, None, :] > points[None, :, :]).any(axis=-1)
    dominates = ge & gt  # [j, i]: row j dominates row i
    ranks = np.full(len(points), -1)
    left = np.ones(len(points), dtype=bool)
    level = 0
    while left.any():
        front = left & ~(dominates[left][:, :].any(axis=0))
        ranks[front] = level
        left &= ~front
        level += 1
    return ranks


def crowding_distance(points: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each row within its set (boundary rows: infinite)."""
    points = np.asarray(points, dtype=float)
    n, m = points.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(points[:, j], kind="stable")
        span = points[order[-1], j] - points[order[0], j]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (points[order[2:], j] - points[order[:-2], j]) / span
    return dist


@dataclass
class Objectives:
    """The two scaled objectives of every cell, the true front and its hypervolume."""

    land: Landscape
    second: str
    values: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        bench, land = self.land.bench, self.land
        if self.second in bench.metric_names:
            if self.second == land.metric:
                raise SearchSetupError(f"--objectives {self.second!r} is the search's own "
                                       "metric; name another metric or a property")
            sign = 1.0 if bench.direction(self.second) == "max" else -1.0
            raw = bench.final(self.second, seed=0 if land.independent is not None else None)
        elif self.second in bench.static_names and self.second not in NOT_OBJECTIVES \
                and not self.second.startswith("zc_"):
            sign, raw = -1.0, bench.static_value(self.second)
        else:
            known = [m for m in bench.metric_names if m != land.metric] + [
                p for p in bench.static_names
                if p not in NOT_OBJECTIVES and not p.startswith("zc_")]
            raise SearchSetupError(f"benchmark {bench.name!r} has no objective "
                                   f"{self.second!r}; use one of {', '.join(known)}")
        first = land.sign * land.values
        rows = land.members
        both = np.stack([first, sign * raw], axis=1)
        if np.isnan(both[rows]).any():
            raise SearchSetupError(f"objective {self.second!r} is missing for some cells of "
                                   f"{bench.name!r}; pick a fully tabulated one")
        low, high = both[rows].min(axis=0), both[rows].max(axis=0)
        self.values = (both - low) / np.where(high > low, high - low, 1.0)
        self.second_sign = sign
        self.raw = np.stack([land.values, raw], axis=1)  # benchmark units, for plots
        self.true_front = rows[pareto_mask(self.values[rows])]
        self.true_hv = hypervolume_2d(self.values[self.true_front])

    @property
    def names(self) -> tuple[str, str]:
        return (self.land.metric, self.second)

    def hypervolume(self, rows: np.ndarray) -> float:
        return hypervolume_2d(self.values[np.asarray(rows, dtype=int)])


_OBJECTIVES: dict[tuple[int, str], Objectives] = {}


def objectives_for(land: Landscape, second: str) -> Objectives:
    """One cached :class:`Objectives` per landscape and second objective."""
    key = (id(land), second)
    if key not in _OBJECTIVES:
        _OBJECTIVES.clear()
        _OBJECTIVES[key] = Objectives(land, second)
    return _OBJECTIVES[key]


@dataclass
class ParetoOracle(Oracle):
    """An oracle whose steps record the hypervolume found (``best``) and its regret."""

    objectives: Objectives | None = None
    front: list[int] = field(default_factory=list)

    def query(self, index: int) -> float:
        assert self.objectives is not None
        fresh = int(index) not in self.seen
        score = super().query(index)
        if fresh:
            values = self.objectives.values
            rows = [*self.front, int(index)]
            self.front = [rows[i] for i in np.flatnonzero(pareto_mask(values[rows]))]
            hv = self.objectives.hypervolume(np.array(self.front))
            self.steps[-1] = replace(self.steps[-1], best=hv,
                                     regret=self.objectives.true_hv - hv)
        return score

    def points(self, rows: list[int]) -> np.ndarray:
        """Scaled objective values of queried ``rows`` (what the search observes)."""
        assert self.objectives is not None
        return self.objectives.values[np.asarray(rows, dtype=int)]
