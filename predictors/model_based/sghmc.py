"""Bayesian neural network sampled by scale-adapted SGHMC (Springenberg et al. 2016).

The network outputs a mean and a homoscedastic log-variance; the posterior over its weights
(Gaussian prior) is sampled with stochastic-gradient Hamiltonian Monte Carlo whose mass matrix
is adapted to running gradient magnitudes during burn-in. Predictions average the kept samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from predictors.model_based._base import torch_seeded


class GaussianNet(nn.Module):
    """3x50 tanh MLP predicting a mean, plus one learned log noise variance."""

    def __init__(self, in_dim: int, units: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(in_dim, units), nn.Tanh(),
            nn.Linear(units, units), nn.Tanh(),
            nn.Linear(units, units), nn.Tanh(),
            nn.Linear(units, 1),
        )
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
    prior_std: float = 1.0,
) -> BNNSamples:
    """Run adaptive SGHMC on ``(x, y)`` and keep every ``keep_every``-th post-burn-in sample."""
    n = len(y)
    with torch_seeded(seed, device) as gen:
        net = GaussianNet(x.shape[1], units).to(device)
        xt = torch.as_tensor(x, dtype=torch.float32, device=device)
        yt = torch.as_tensor(y, dtype=torch.float32, device=device)
        params = list(net.parameters())
        sampler = AdaptiveSGHMC(params, lr=lr, mdecay=mdecay, scale=float(n))
        samples: list[dict[str, torch.Tensor]] = []
        bs = min(batch_size, n)
        for step in range(num_steps):
            idx = torch.randint(n, (bs,), generator=gen).to(device)
            mu, log_var = net(xt[idx])
            nll = 0.5 * (log_var + (yt[idx] - mu) ** 2 / log_var.exp()).mean()
            log_prior = sum((p**2).sum() for p in params) / (2 * prior_std**2)
            loss = nll + log_prior / n
            net.zero_grad()
            loss.backward()
            sampler.step(burn_in=step < num_burn_in_steps)
            if step >= num_burn_in_steps and (step - num_burn_in_steps) % keep_every == 0:
                samples.append({k: v.detach().clone() for k, v in net.state_dict().items()})
    return BNNSamples(net, samples)
