"""Multi-objective search methods (run on a :class:`~benchmarks.search.pareto.ParetoOracle`).

- ``nsga``: regularized (aging) evolution whose tournament ranks by non-dominated sorting and
  then crowding distance (NSGA-II's order) instead of one objective;
- ``mobo``: Bayesian optimization with a BoTorch GP over both objectives (``SingleTaskGP`` on
  the adjacency one-hot encoding, outcomes standardized) and its hypervolume acquisitions,
  ``hvi=qlognehvi`` (qLogNEHVI, Ament et al. 2023) or ``hvi=qnehvi`` (qNEHVI, Daulton et al.
  2021): each iteration, ``k`` cells of a pool (mutants of the found front plus random
  cells) chosen jointly and greedily. The acquisition's reference point comes from the
  observed values only (their minimum less a tenth of their range), so the search never reads
  the table's bounds.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.search.aging import aging_evolution
from benchmarks.search.botorch_acq import _positions
from benchmarks.search.context import RunContext
from benchmarks.search.pareto import ParetoOracle, crowding_distance, nondominated_ranks
from predictors.encodings import encode

#: Hypervolume acquisitions of ``mobo``.
MOBO_ACQUISITIONS = ("qlognehvi", "qnehvi")
ENCODING = "adjacency_one_hot"
#: L-BFGS iterations of each GP fit (BoTorch's default runs to convergence, ~10x slower for
#: a ranking of discrete candidates that barely changes).
GP_FIT_ITERATIONS = 50


def pareto_oracle(ctx: RunContext) -> ParetoOracle:
    if not isinstance(ctx.oracle, ParetoOracle):
        raise TypeError("a multi-objective method needs a ParetoOracle (pass --objectives)")
    return ctx.oracle


def nsga_order(points: np.ndarray) -> np.ndarray:
    """Positions of ``points`` best first: lower front, then larger crowding distance."""
    ranks = nondominated_ranks(points)
    crowd = np.zeros(len(points))
    for level in np.unique(ranks):
        members = np.flatnonzero(ranks == level)
        crowd[members] = crowding_distance(points[members])
    return np.lexsort((-crowd, ranks))


def nsga_evolution(ctx: RunContext, population: int = 20, sample_size: int = 5) -> None:
    """Aging evolution with an NSGA-II tournament: the winner of ``sample_size`` random members
    of the living population is the first by front, then crowding distance (within the
    sample); its mutant joins and the oldest member dies."""
    oracle = pareto_oracle(ctx)
    aging_evolution(ctx, population, sample_size,
                    lambda rows: rows[int(nsga_order(oracle.points(rows))[0])])


def _acquisition(kind: str, model, ref_point, baseline, sampler):
    from botorch.acquisition.multi_objective import (
        qLogNoisyExpectedHypervolumeImprovement,
        qNoisyExpectedHypervolumeImprovement,
    )

    cls = {"qlognehvi": qLogNoisyExpectedHypervolumeImprovement,
           "qnehvi": qNoisyExpectedHypervolumeImprovement}[kind]
    return cls(model, ref_point=ref_point, X_baseline=baseline, sampler=sampler,
               prune_baseline=True)


def mobo(ctx: RunContext, init: int = 10, parents: int = 10, mutations: int = 40,
         random: int = 10, k: int = 10, hvi: str = "qlognehvi",
         mc_samples: int = 32) -> None:
    """Multi-objective BO: a GP over both objectives, ``k`` cells per iteration by qLogNEHVI
    or qNEHVI over mutants of the found front and random cells."""
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.optim import optimize_acqf_discrete
    from botorch.sampling import SobolQMCNormalSampler
    from gpytorch.mlls import ExactMarginalLogLikelihood

    if hvi not in MOBO_ACQUISITIONS:
        raise ValueError(f"unknown mobo acquisition hvi={hvi!r}; use one of "
                         f"{', '.join(MOBO_ACQUISITIONS)}")
    oracle, land = pareto_oracle(ctx), ctx.land

    def features(rows: list[int]) -> torch.Tensor:
        archs = [land.arch(r) for r in rows]
        return torch.as_tensor(encode(archs, ENCODING, land.space), dtype=torch.float64)

    ctx.query_all(ctx.initial(init))
    while True:
        front = list(oracle.front)
        ctx.rng.shuffle(front)
        candidates = ctx.mutants(front[:parents], mutations)
        candidates += ctx.random_unseen(random, exclude=set(candidates))
        start = time.perf_counter()
        seen = list(oracle.seen)
        x = features(seen)
        y = torch.as_tensor(oracle.points(seen), dtype=torch.float64)
        model = SingleTaskGP(x, y, outcome_transform=Standardize(m=y.shape[-1]))
        # BoTorch restarts a fit that stops early from torch's global generator: seed a fork
        with torch.random.fork_rng():
            torch.manual_seed(int(ctx.rng.integers(2**31 - 1)))
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model),
                             optimizer_kwargs={"options": {"maxiter": GP_FIT_ITERATIONS}})
        low, high = y.min(dim=0).values, y.max(dim=0).values
        ref_point = low - 0.1 * (high - low)
        sampler = SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]),
                                        seed=int(ctx.rng.integers(2**31 - 1)))
        choices = features(candidates)
        acq = _acquisition(hvi, model, ref_point, x, sampler)
        with torch.no_grad():
            chosen, _ = optimize_acqf_discrete(acq, q=min(k, len(candidates)), choices=choices,
                                               unique=True)
        picked = _positions(chosen, choices)
        ctx.method_s += time.perf_counter() - start
        ctx.query_all([candidates[i] for i in picked])
