"""Bayesian neural network sampled by scale-adapted SGHMC (Springenberg et al. 2016).

The network outputs a mean and a homoscedastic log-variance; the posterior over its weights
(Gaussian prior) is sampled with stochastic-gradient Hamiltonian Monte Carlo whose mass matrix
is adapted to running gradient magnitudes during burn-in. Predictions average the kept samples.

Deviation from the paper: the chain starts from a maximum-a-posteriori fit (``warm_start_steps``
full-batch Adam steps on the same posterior). SGHMC's step in weight space shrinks like
``lr**2 / n`` with ``n`` training points, so from a random start a few thousand steps leave the
network far from the data once ``n`` reaches hundreds (training-set Kendall tau 0.13-0.18 at
n=589 on NAS-Bench-Graph cora); the warm start lets burn-in begin where the posterior mass is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from predictors.model_based._torch import tanh_layers
from predictors.model_based.base import torch_seeded


class GaussianNet(nn.Module):
    """3x50 tanh MLP predicting a mean, plus one learned log noise variance."""

    def __init__(self, in_dim: int, units: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*tanh_layers(in_dim, units), nn.Linear(units, 1))
        self.log_var = nn.Parameter(torch.tensor(-3.0))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.body(x).reshape(-1), self.log_var.expand(x.shape[0])


class AdaptiveSGHMC:
    """SGHMC with a diagonal preconditioner estimated from squared gradients during burn-in."""

    def __init__(self, params: list[nn.Parameter], lr: float, mdecay: float, scale: float):
        self.params = params
        self.lr, self.mdecay, self.scale = lr, mdecay, scale
        self.state = [
            {
                "tau": torch.ones_like(p),
                "g": torch.ones_like(p),
                "v_hat": torch.ones_like(p),
                "momentum": torch.zeros_like(p),
            }
            for p in params
        ]

    @torch.no_grad()
    def step(self, burn_in: bool) -> None:
        lr_scaled = self.lr / np.sqrt(self.scale)
        for p, st in zip(self.params, self.state, strict=True):
            if p.grad is None:
                continue
            grad = p.grad * self.scale
            tau, g, v_hat, mom = st["tau"], st["g"], st["v_hat"], st["momentum"]
            if burn_in:
                r = 1.0 / (tau + 1.0)
                tau.add_(-tau * g * g / v_hat + 1.0)
                g.add_(-g * r + r * grad)
                v_hat.add_(-v_hat * r + r * grad * grad)
            minv = 1.0 / (v_hat.sqrt() + 1e-16)
            noise_var = 2.0 * lr_scaled**2 * self.mdecay * minv - lr_scaled**4
            sigma = noise_var.clamp_min(1e-16).sqrt()
            mom.add_(-(lr_scaled**2) * minv * grad - self.mdecay * mom
                     + sigma * torch.randn_like(grad))
            p.add_(mom)


def _negative_log_posterior(net: GaussianNet, x: torch.Tensor, y: torch.Tensor,
                            params: list[nn.Parameter], n: int, prior_std: float) -> torch.Tensor:
    """Mean Gaussian NLL of ``(x, y)`` plus the Gaussian weight prior spread over ``n`` points."""
    mu, log_var = net(x)
    nll = 0.5 * (log_var + (y - mu) ** 2 / log_var.exp()).mean()
    return nll + sum((p**2).sum() for p in params) / (2 * prior_std**2) / n


def _map_fit(net: GaussianNet, x: torch.Tensor, y: torch.Tensor, params: list[nn.Parameter],
             steps: int, lr: float, prior_std: float) -> None:
    """Full-batch Adam on the negative log posterior: the chain's starting point."""
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        _negative_log_posterior(net, x, y, params, len(y), prior_std).backward()
        opt.step()
    net.zero_grad(set_to_none=True)


@dataclass
class BNNSamples:
    """Kept posterior samples (state dicts) of a ``GaussianNet``."""

    net: GaussianNet
    samples: list[dict[str, torch.Tensor]]

    @torch.no_grad()
    def predict(self, x: np.ndarray, device: str) -> tuple[np.ndarray, np.ndarray]:
        xt = torch.as_tensor(x, dtype=torch.float32, device=device)
        means, variances = [], []
        for state in self.samples:
            self.net.load_state_dict(state)
            mu, log_var = self.net(xt)
            means.append(mu)
            variances.append(log_var.exp())
        m, v = torch.stack(means), torch.stack(variances)
        mean = m.mean(0)
        var = (m.var(0, unbiased=False) + v.mean(0)).clamp_min(0)
        return mean.cpu().numpy().astype(float), var.sqrt().cpu().numpy().astype(float)


def sample_bnn(
    x: np.ndarray, y: np.ndarray, *, units: int, num_steps: int, num_burn_in_steps: int,
    keep_every: int, lr: float, batch_size: int, mdecay: float, seed: int, device: str,
    prior_std: float = 1.0, warm_start_steps: int = 0, warm_start_lr: float = 1e-2,
) -> BNNSamples:
    """Run adaptive SGHMC on ``(x, y)`` and keep every ``keep_every``-th post-burn-in sample."""
    n = len(y)
    with torch_seeded(seed, device) as gen:
        net = GaussianNet(x.shape[1], units).to(device)
        xt = torch.as_tensor(x, dtype=torch.float32, device=device)
        yt = torch.as_tensor(y, dtype=torch.float32, device=device)
        params = list(net.parameters())
        if warm_start_steps > 0:
            _map_fit(net, xt, yt, params, warm_start_steps, warm_start_lr, prior_std)
        sampler = AdaptiveSGHMC(params, lr=lr, mdecay=mdecay, scale=float(n))
        samples: list[dict[str, torch.Tensor]] = []
        bs = min(batch_size, n)
        for step in range(num_steps):
            idx = torch.randint(n, (bs,), generator=gen).to(device)
            loss = _negative_log_posterior(net, xt[idx], yt[idx], params, n, prior_std)
            net.zero_grad()
            loss.backward()
            sampler.step(burn_in=step < num_burn_in_steps)
            if step >= num_burn_in_steps and (step - num_burn_in_steps) % keep_every == 0:
                samples.append({k: v.detach().clone() for k, v in net.state_dict().items()})
    return BNNSamples(net, samples)
