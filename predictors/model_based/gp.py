"""Gaussian-process predictors (gpytorch): exact, sparse (SGPR) and variational sparse GPs.

Each has a constant mean and a scaled RBF kernel on the adjacency one-hot encoding; kernel and
noise hyperparameters are fitted by maximizing the (approximate) marginal likelihood with Adam.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from predictors.base import DataNeeds
from predictors.model_based.base import EncodedPredictor, derive_seed, torch_seeded
from predictors.registry import register
from predictors.spaces.base import Arch, SearchSpace


def _tensor(x: Any, device: str) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float64, device=device)


def _exact_gp(x: torch.Tensor, y: torch.Tensor, covar: Any, likelihood: Any) -> Any:
    import gpytorch

    class ExactGP(gpytorch.models.ExactGP):
        def __init__(self) -> None:
            super().__init__(x, y, likelihood)
            self.mean_module = gpytorch.means.ConstantMean()
            self.covar_module = covar

        def forward(self, z):
            return gpytorch.distributions.MultivariateNormal(
                self.mean_module(z), self.covar_module(z)
            )

    return ExactGP()


def fit_exact_gp(
    x: np.ndarray, y: np.ndarray, make_covar: Any, train_iters: int, lr: float, seed: int,
    device: str,
) -> Any:
    """Fit an exact-inference GP with kernel ``make_covar(x, likelihood)`` by maximum evidence."""
    import gpytorch

    with torch_seeded(seed, device):
        xt, yt = _tensor(x, device), _tensor(y, device)
        likelihood = gpytorch.likelihoods.GaussianLikelihood().to(device, torch.float64)
        model = _exact_gp(xt, yt, make_covar(xt, likelihood), likelihood).to(device, torch.float64)
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(likelihood, model)
        model.train()
        likelihood.train()
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        with gpytorch.settings.max_cholesky_size(4000):
            for _ in range(train_iters):
                opt.zero_grad()
                loss = -mll(model(xt), yt)
                loss.backward()
                opt.step()
    model.eval()
    likelihood.eval()
    return model, likelihood


@torch.no_grad()
def gp_predict(fitted: Any, x: np.ndarray, device: str) -> tuple[np.ndarray, np.ndarray]:
    import gpytorch

    model, likelihood = fitted
    with gpytorch.settings.max_cholesky_size(4000):
        out = likelihood(model(_tensor(x, device)))
    return out.mean.cpu().numpy(), out.variance.clamp_min(0).sqrt().cpu().numpy()


class GPyTorchPosterior(EncodedPredictor):
    """A fitted predictor whose model is a gpytorch GP, opened up for BoTorch acquisitions.

    ``gp_model()`` is the fitted ``(model, likelihood)`` pair, in eval mode, on the
    standardized label scale (``label_scale()``); ``gp_inputs(archs, space)`` are the inputs
    that model takes for ``archs``. Subclasses whose GP sits on derived features override
    ``_gp_parts`` and ``_gp_coords``.
    """

    #: Adam steps and learning rate of the marginal-likelihood fit.
    train_iters: int = 100
    lr: float = 0.1

    def _gp_parts(self, model: Any) -> tuple[Any, Any]:
        return model

    def _gp_coords(self, model: Any, x: Any) -> np.ndarray:
        return np.asarray(x)

    def gp_model(self) -> tuple[Any, Any]:
        return self._gp_parts(self._model)

    def gp_inputs(self, archs: Sequence[Arch], space: SearchSpace) -> torch.Tensor:
        if self.zc_features:
            raise ValueError(f"{self.name}: gp_inputs encodes architectures only, but the GP was "
                             "fitted with zc_features; fit it without them for acquisitions")
        gp, _ = self.gp_model()
        ref = next(gp.parameters())
        coords = self._gp_coords(self._model, self._encode(archs, space))
        return torch.as_tensor(coords, dtype=ref.dtype, device=ref.device)

    def label_scale(self) -> tuple[float, float]:
        """``(mean, std)`` that map the GP's standardized outputs back to labels."""
        return self._scale.mean, self._scale.std


@register("gp", family="model_based")
class GPPredictor(GPyTorchPosterior):
    """Exact GP regression with a scaled RBF kernel."""

    needs = DataNeeds(labels=True)
    conformance_params: ClassVar[dict[str, Any]] = {"train_iters": 10}
    reproduce_params: ClassVar[dict[str, Any]] = {"train_iters": 50}

    def _kernel_factory(self, rng: np.random.Generator) -> Callable[[torch.Tensor, Any], Any]:
        """A function ``(train inputs, likelihood) -> kernel``."""
        import gpytorch

        return lambda x, likelihood: gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel())

    def train(self, x, y, hp, rng, device, unlabeled=None):
        make_covar = self._kernel_factory(rng)
        return fit_exact_gp(np.asarray(x), y, make_covar, self.train_iters, self.lr,
                            derive_seed(rng), device)

    def predict(self, model, x, device):
        return gp_predict(model, np.asarray(x), device)


@register("sparse_gp", family="model_based")
class SparseGPPredictor(GPPredictor):
    """Sparse GP regression (SGPR, Titsias 2009) with learned inducing points."""

    conformance_params: ClassVar[dict[str, Any]] = {"train_iters": 10}
    reproduce_params: ClassVar[dict[str, Any]] = {"train_iters": 50}

    num_inducing: int = 20

    def _kernel_factory(self, rng: np.random.Generator) -> Callable[[torch.Tensor, Any], Any]:
        import gpytorch

        pick_rng = np.random.default_rng(derive_seed(rng))

        def make_covar(x: torch.Tensor, likelihood: Any) -> Any:
            pick = pick_rng.choice(len(x), size=min(self.num_inducing, len(x)), replace=False)
            return gpytorch.kernels.InducingPointKernel(
                gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel()),
                inducing_points=x[np.sort(pick)].clone(),
                likelihood=likelihood,
            )

        return make_covar


@register("var_sparse_gp", family="model_based")
class VarSparseGPPredictor(GPyTorchPosterior):
    """Variational sparse GP (SVGP, Hensman et al. 2015) trained on the full-batch ELBO."""

    needs = DataNeeds(labels=True)
    conformance_params: ClassVar[dict[str, Any]] = {"train_iters": 10}
    reproduce_params: ClassVar[dict[str, Any]] = {"train_iters": 50}

    num_inducing: int = 20
    train_iters: int = 300
    lr: float = 0.05

    def train(self, x, y, hp, rng, device, unlabeled=None):
        import gpytorch

        x = np.asarray(x)
        pick = rng.choice(len(x), size=min(self.num_inducing, len(x)), replace=False)
        inducing = _tensor(x[np.sort(pick)], device).clone()

        class SVGP(gpytorch.models.ApproximateGP):
            def __init__(self) -> None:
                dist = gpytorch.variational.CholeskyVariationalDistribution(inducing.shape[0])
                strategy = gpytorch.variational.VariationalStrategy(
                    self, inducing, dist, learn_inducing_locations=True
                )
                super().__init__(strategy)
                self.mean_module = gpytorch.means.ConstantMean()
                self.covar_module = gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel())

            def forward(self, z):
                return gpytorch.distributions.MultivariateNormal(
                    self.mean_module(z), self.covar_module(z)
                )

        with torch_seeded(derive_seed(rng), device):
            xt, yt = _tensor(x, device), _tensor(y, device)
            model = SVGP().to(device, torch.float64)
            likelihood = gpytorch.likelihoods.GaussianLikelihood().to(device, torch.float64)
            elbo = gpytorch.mlls.VariationalELBO(likelihood, model, num_data=len(y))
            model.train()
            likelihood.train()
            opt = torch.optim.Adam([*model.parameters(), *likelihood.parameters()], lr=self.lr)
            for _ in range(self.train_iters):
                opt.zero_grad()
                loss = -elbo(model(xt), yt)
                loss.backward()
                opt.step()
        model.eval()
        likelihood.eval()
        return model, likelihood

    def predict(self, model, x, device):
        return gp_predict(model, np.asarray(x), device)
