"""Measures of how differently an untrained network treats the inputs of one minibatch.

All run the network in train mode (BatchNorm uses the minibatch's statistics, as in the
authors' codes; running statistics are restored afterwards) and need no targets except EPE-NAS,
which groups the minibatch by class.
"""

from __future__ import annotations

import torch
from torch import nn

from predictors.zero_cost.measures import ScoreUndefined, measure
from predictors.zero_cost.torch_utils import hooks, input_jacobian, preserved, require_targets

#: Mellor et al.'s and Lopes et al.'s small constant that keeps logarithms finite.
_K = 1e-5


def _correlation(jac: torch.Tensor) -> torch.Tensor:
    """Correlation matrix of the rows of ``jac`` (float64); a constant row makes it undefined."""
    jac = jac.double()
    if bool((jac.std(dim=1) == 0).any()):
        raise ScoreUndefined("a sample's input Jacobian is constant, so correlations are "
                             "undefined (the network output does not depend on the input)")
    return torch.corrcoef(jac)


@measure("jacov")
def jacov(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """jacob_cov (Mellor et al. 2020, first version of "NAS without training").

    ``J`` holds per-sample gradients of the summed outputs w.r.t. the input; with ``l`` the
    eigenvalues of the correlation matrix of ``J``'s rows, the score is
    ``-sum(log(l + k) + 1 / (l + k))`` with ``k = 1e-5`` (higher: less correlated Jacobians).
    Eigenvalues come from ``eigvalsh`` in float64 (the matrix is symmetric); a minibatch of
    one sample has no correlations, so its score is undefined."""
    if inputs.shape[0] < 2:
        raise ScoreUndefined("jacov correlates the Jacobians of two or more samples; got one")
    with preserved(net):
        jac = input_jacobian(net, inputs)
    eig = torch.linalg.eigvalsh(_correlation(jac))
    return float(-(torch.log(eig + _K) + 1.0 / (eig + _K)).sum())


@measure("epe_nas")
def epe_nas(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """EPE-NAS (Lopes et al. 2021): Jacobian correlations evaluated per class.

    With ``J`` as in jacov, the minibatch is grouped by target class; class ``c`` scores
    ``E_c = sum_ij log(|corr(J_c)_ij| + k)``, ``k = 1e-5``, and the network scores
    ``sum_c |E_c|`` (the paper's form for up to 100 classes). Classes with fewer than two
    samples in the minibatch have no correlation and are skipped; if none has two, the score is
    undefined."""
    targets = require_targets(targets, "epe_nas")
    with preserved(net):
        jac = input_jacobian(net, inputs)
    labels = targets.detach().reshape(-1)
    total, used = 0.0, 0
    for c in torch.unique(labels):
        rows = jac[labels == c]
        if rows.shape[0] < 2:
            continue
        e_c = torch.log(_correlation(rows).abs() + _K).sum()
        total += abs(float(e_c))
        used += 1
    if used == 0:
        raise ScoreUndefined("no class has two samples in the minibatch; use a larger batch")
    return total


@measure("nwot")
def nwot(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """NASWOT (Mellor et al. 2021): log-determinant of the ReLU activation-pattern kernel.

    Every ``nn.ReLU`` module's input is binarized (``> 0``) into a code ``c`` per sample;
    ``K = sum over ReLUs of c c^T + (1-c)(1-c)^T`` counts, for each pair of samples, the units
    on the same side of zero (``N_A`` minus the Hamming distance). The score is
    ``log|det K|`` (``slogdet`` in float64). Only ReLU modules are seen (functional ReLUs are
    not hooked); a network without any raises an error."""
    n = inputs.shape[0]
    kernel = torch.zeros((n, n), dtype=torch.float64, device=inputs.device)

    def accumulate(_m: nn.Module, args: tuple, _out: torch.Tensor) -> None:
        nonlocal kernel
        code = (args[0].detach().reshape(n, -1) > 0).float()
        # agreements = units both on + units both off = D - |c_i| - |c_j| + 2 c_i.c_j; the
        # float32 product of 0/1 codes is exact (counts stay far below 2**24).
        on = code.sum(1).double()
        both_on = (code @ code.T).double()
        kernel = kernel + (code.shape[1] + 2.0 * both_on - on[:, None] - on[None, :])

    relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError("nwot needs nn.ReLU modules in the network to read activation codes")
    with preserved(net), torch.no_grad():
        handles = [m.register_forward_hook(accumulate) for m in relus]
        with hooks(handles):
            net(inputs)
    sign, logdet = torch.linalg.slogdet(kernel)
    if float(sign) == 0.0:
        raise ScoreUndefined("the activation-pattern kernel is singular (two samples share "
                             "every activation pattern)")
    return float(logdet)
