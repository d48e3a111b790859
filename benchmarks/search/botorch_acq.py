"""BoTorch acquisition functions for Bayesian optimization with a GP surrogate.

Where the surrogate is a gpytorch GP (``gp``, ``sparse_gp``, ``var_sparse_gp``, ``gpwl``), BO can
rank its candidate pool with BoTorch's own acquisition functions on the GP's joint posterior
instead of the per-candidate mean/std rules of :mod:`benchmarks.search.acquisition`:

- analytic, one candidate at a time, the best ``k`` taken: ``botorch:logei``, ``botorch:pi``,
  ``botorch:ucb`` (BoTorch's ``beta`` weighs the variance: mean + sqrt(beta)*std);
- Monte-Carlo batch acquisitions, the ``k`` queries chosen jointly and greedily over the pool
  (``optimize_acqf_discrete``): ``botorch:qlogei``, ``botorch:qlognei`` (noisy EI against the
  queried cells as baseline), ``botorch:qucb``.

The log-EI forms (Ament et al. 2023) replace plain EI, whose gradients and values vanish
numerically far from the incumbent; BoTorch itself recommends them.

Everything happens on the GP's standardized label scale; quasi-Monte-Carlo samplers are seeded
from the run's generator, so a run repeats exactly under its seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from predictors.spaces.base import Arch, SearchSpace

if TYPE_CHECKING:
    import torch

    from predictors.model_based.gp import GPyTorchPosterior

PREFIX = "botorch:"
ANALYTIC = ("logei", "pi", "ucb")
BATCH = ("qlogei", "qlognei", "qucb")
#: Quasi-Monte-Carlo samples of the batch acquisitions.
MC_SAMPLES = 256


def is_botorch(acquisition: str) -> bool:
    return acquisition.startswith(PREFIX)


def check_botorch(acquisition: str, predictor: Any, name: str) -> None:
    """Raise a clear error for an unknown BoTorch acquisition or a predictor that is not a GP."""
    kind = acquisition.removeprefix(PREFIX)
    if kind not in ANALYTIC + BATCH:
        known = ", ".join(PREFIX + k for k in ANALYTIC + BATCH)
        raise ValueError(f"unknown BoTorch acquisition {acquisition!r}; use one of {known}")
    from predictors.model_based.gp import GPyTorchPosterior

    if not isinstance(predictor, GPyTorchPosterior):
        raise ValueError(
            f"acquisition {acquisition!r} needs a gpytorch GP surrogate, and {name!r} is not one: "
            "use --predictor gp, sparse_gp, var_sparse_gp or gpwl, or a non-BoTorch acquisition "
            "(its, ucb, ei, mean)"
        )


def _posterior_model(gp: Any, likelihood: Any) -> Any:
    """A BoTorch ``Model`` around a fitted gpytorch GP (latent function posterior)."""
    from botorch.models.model import Model
    from botorch.posteriors.gpytorch import GPyTorchPosterior as BoTorchPosterior

    class FittedGP(Model):
        def __init__(self) -> None:
            super().__init__()
            self.gp = gp
            self.likelihood = likelihood

        @property
        def num_outputs(self) -> int:
            return 1

        def posterior(self, X, output_indices=None, observation_noise=False,
                      posterior_transform=None, **_: Any):
            self.gp.eval()
            dist = self.gp(X)
            if observation_noise:
                dist = self.likelihood(dist)
            post = BoTorchPosterior(dist)
            return posterior_transform(post) if posterior_transform is not None else post

    return FittedGP()


def botorch_select(
    acquisition: str,
    predictor: GPyTorchPosterior,
    candidates: Sequence[Arch],
    observed: Sequence[Arch],
    best_label: float,
    space: SearchSpace,
    k: int,
    rng: np.random.Generator,
    beta: float = 0.5,
    xi: float = 0.0,
) -> list[int]:
    """Positions (into ``candidates``) of the ``k`` cells the acquisition picks, best first."""
    import torch
    from botorch import acquisition as acq
    from botorch.optim import optimize_acqf_discrete
    from botorch.sampling import SobolQMCNormalSampler

    kind = acquisition.removeprefix(PREFIX)
    y_mean, y_std = predictor.label_scale()
    best_f = (best_label - y_mean) / y_std + xi
    model = _posterior_model(*predictor.gp_model())
    x = predictor.gp_inputs(candidates, space)
    k = min(k, len(candidates))
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([MC_SAMPLES]),
                                    seed=int(rng.integers(2**31 - 1)))
    with torch.no_grad():
        if kind in ANALYTIC:
            function = {
                "logei": lambda: acq.LogExpectedImprovement(model, best_f=best_f),
                "pi": lambda: acq.ProbabilityOfImprovement(model, best_f=best_f),
                "ucb": lambda: acq.UpperConfidenceBound(model, beta=beta),
            }[kind]()
            values = function(x.unsqueeze(1)).detach().cpu().numpy()
            return np.argsort(-np.nan_to_num(values, nan=-np.inf), kind="stable")[:k].tolist()
        if kind == "qlogei":
            function = acq.qLogExpectedImprovement(model, best_f=best_f, sampler=sampler)
        elif kind == "qucb":
            function = acq.qUpperConfidenceBound(model, beta=beta, sampler=sampler)
        else:
            baseline = predictor.gp_inputs(observed, space)
            function = acq.qLogNoisyExpectedImprovement(model, X_baseline=baseline,
                                                        sampler=sampler, prune_baseline=False)
        chosen, _ = optimize_acqf_discrete(function, q=k, choices=x, unique=True)
    return _positions(chosen, x)


def _positions(chosen: torch.Tensor, choices: torch.Tensor) -> list[int]:
    """Map chosen rows back to (distinct) positions in ``choices``."""
    import torch

    taken: list[int] = []
    for row in chosen:
        matches = torch.nonzero(torch.all(choices == row, dim=-1)).reshape(-1).tolist()
        free = [m for m in matches if m not in taken]
        if free:
            taken.append(free[0])
    return taken
