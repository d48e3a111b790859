"""Zero-cost measures published after 2021: ZiCo, MeCo, SWAP, TE-NAS's two measures and the
per-architecture components of AZ-NAS.

Each measure follows the paper and the authors' code (read for the definitions, not copied);
every docstring states the definition implemented and where it deviates. All run the network
in train mode (BatchNorm normalizes with the minibatch's statistics, as in the authors' codes;
running statistics and modes are restored afterwards) on the device of ``inputs``, and leave
the caller's network, its gradients and the global random generators untouched.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from predictors.zero_cost.gradient_measures import _weight_grads
from predictors.zero_cost.measures import ScoreUndefined, measure
from predictors.zero_cost.torch_utils import hooks, preserved, require_targets, weights

#: The default minibatch size of each measure: its paper's setting on NAS-Bench-201.
RECOMMENDED_BATCH = {
    "zico": 128,     # two batches of 64 (Li et al. 2023; AZ-NAS's NB201 evaluation of ZiCo)
    "meco": 1,       # "one data" and a single forward pass (Jiang et al. 2023)
    "swap": 16,      # SWAP's correlation script: 16 input samples (Peng et al. 2024)
    "tenas_ntk": 72,  # TE-NAS's NAS-Bench-201 launch setting for the NTK (Chen et al. 2021)
    "tenas_lr": 3000,  # TE-NAS: 3 batches of 1,000 patches of 3x3 pixels
    "az_nas": 64,    # AZ-NAS's NB201 evaluation (Lee & Ham 2024)
}

#: TE-NAS counts linear regions on a thin network: one channel, one cell per stage (per space:
#: DARTS cells need an even channel count; NB101's keep their widths, since its vertices split
#: the channels among them).
TENAS_LR_NETWORK = {"nb201": {"channels": 1, "cells_per_stage": 1}, "darts": {"channels": 2}}
#: Measure options per space: the two reductions of NB101 (max-pool) and DARTS (whose cells
#: concatenate factorized halves) need even crops of at least 4 pixels.
TENAS_LR_OPTIONS = {"nb101": {"patch": 4}, "darts": {"patch": 4}}


# --- ZiCo --------------------------------------------------------------------------------------
@measure("zico")
def zico(net: nn.Module, inputs, targets, loss_fn, splits: int = 2, **opts) -> float:
    """ZiCo (Li et al., ICLR 2023): inverse coefficient of variation of the weight gradients.

    The minibatch is cut into ``splits`` equal batches (the paper's two batches); for each,
    ``g_b = dL_b/dW`` with ``L_b`` the mean loss of batch ``b``. For every convolution/linear
    layer ``l`` the score adds ``log sum_w mean_b |g_bw| / std_b g_bw`` over the layer's weights
    with non-zero standard deviation (population std over batches); a layer where that sum is
    zero adds nothing, as in the authors' code. Statistics in float64."""
    targets = require_targets(targets, "zico")
    if inputs.shape[0] < splits or splits < 2:
        raise ScoreUndefined(f"zico needs at least {max(splits, 2)} batches of one sample; got "
                             f"{inputs.shape[0]} sample(s) in {splits} batch(es)")
    per_batch: list[list[torch.Tensor]] = []
    with preserved(net):
        ws = weights(net)
        for x, y in zip(torch.tensor_split(inputs, splits), torch.tensor_split(targets, splits),
                        strict=True):
            grads = _weight_grads(loss_fn(net(x), y), ws)
            per_batch.append([g.detach().double().reshape(-1) for g in grads])
    total, used = 0.0, 0
    for layer in zip(*per_batch, strict=True):
        g = torch.stack(layer)
        std = g.std(dim=0, unbiased=False)
        keep = std > 0
        ratio = float((g.abs().mean(dim=0)[keep] / std[keep]).sum())
        if ratio > 0.0:
            total += math.log(ratio)
            used += 1
    if used == 0:
        raise ScoreUndefined("no layer's gradient varies between the batches")
    return total


# --- MeCo --------------------------------------------------------------------------------------
@measure("meco")
def meco(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """MeCo (Jiang et al., NeurIPS 2023): minimum eigenvalues of feature-map correlations.

    One forward pass of the minibatch (the paper's single sample by default). For every module
    (containers included, as the authors hook all of them) whose output is a feature map
    (``[N, C, ...]`` with at least one spatial axis), the first sample's map is read as ``C``
    channel vectors; its ``C x C`` Pearson correlation matrix (undefined entries from constant
    channels set to 0, as in the authors' code) contributes its smallest eigenvalue. The score
    is the sum. Eigenvalues come from ``eigvalsh`` in float64; a single channel counts as the
    1x1 correlation matrix [1] and a single position as the zero matrix. Modules with 2-D
    outputs (classifier logits) are skipped: the authors' code gives them 0."""
    values: list[float] = []

    def collect(_m: nn.Module, _args: tuple, out) -> None:
        if not isinstance(out, torch.Tensor) or out.dim() < 3:
            return
        fmap = out[0].detach().double().reshape(out.shape[1], -1)
        if fmap.shape[0] == 1:
            values.append(1.0)
            return
        if fmap.shape[1] == 1:  # one position: every correlation is undefined (set to 0)
            values.append(0.0)
            return
        corr = torch.nan_to_num(torch.corrcoef(fmap), nan=0.0, posinf=0.0, neginf=0.0)
        values.append(float(torch.linalg.eigvalsh(corr)[0]))

    with preserved(net), torch.no_grad():
        handles = [m.register_forward_hook(collect) for m in net.modules()]
        with hooks(handles):
            net(inputs)
    if not values:
        raise ScoreUndefined("the network produces no feature maps")
    return float(sum(values))


# --- activation patterns (SWAP, TE-NAS linear regions) -----------------------------------------
def relu_codes(net: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """``[N, D]`` boolean matrix: whether each unit of every ``nn.ReLU`` applied to a 4-D
    feature map is active (output > 0) for each sample, in train mode without gradients."""
    codes: list[torch.Tensor] = []

    def collect(_m: nn.Module, args: tuple, out: torch.Tensor) -> None:
        if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
            codes.append((out.detach() > 0).reshape(out.shape[0], -1))

    relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
    with preserved(net), torch.no_grad():
        with hooks([m.register_forward_hook(collect) for m in relus]):
            net(inputs)
    if not codes:
        raise ScoreUndefined("the network applies no nn.ReLU module to a feature map")
    return torch.cat(codes, dim=1)


def count_unique_rows(codes: torch.Tensor) -> int:
    """Number of distinct rows of a boolean matrix (rows of up to 62 bits are packed into
    integers first, which is much faster than ``unique(dim=0)``)."""
    if codes.shape[0] == 0:
        return 0
    if codes.shape[1] <= 62:
        bits = torch.pow(2, torch.arange(codes.shape[1], device=codes.device, dtype=torch.int64))
        return int(torch.unique((codes.to(torch.int64) * bits).sum(dim=1)).numel())
    return int(torch.unique(codes, dim=0).shape[0])


@measure("swap")
def swap(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """SWAP-Score (Peng et al., ICLR 2024): distinct sample-wise activation patterns.

    Every unit of every ReLU module applied to a feature map gets a pattern: the vector, over
    the minibatch's samples, of whether it is active. The score is the number of distinct
    patterns. Deviations: one initialization (the protocol's ``init_seed``; the authors'
    script averages 32 Gaussian re-initializations) and no regularisation by parameter count
    (the paper's SWAP-reg multiplies by ``exp(-(params - mu)^2 / sigma)`` with space-specific
    ``mu`` and ``sigma``)."""
    return float(count_unique_rows(relu_codes(net, inputs).T))


@measure("tenas_lr")
def tenas_lr(net: nn.Module, inputs, targets, loss_fn, seed: int = 0, patch: int = 3,
             **opts) -> float:
    """TE-NAS linear-region count (Chen et al., ICLR 2021).

    As in TE-NAS, each sample of the minibatch is cut to a ``patch`` x ``patch`` crop (3x3 by
    default) at a random position drawn from ``seed``; the score is the number of distinct
    activation patterns (rows: samples; columns: every unit of every ReLU module applied to a
    feature map), i.e. the linear regions of the network the samples fall into. As in TE-NAS,
    the proxy predictor scores a thin copy of the architecture's network (``TENAS_LR_NETWORK``:
    on NB201 1 channel, 1 cell per stage; 2 channels on DARTS; NB101 and DARTS crops are 4x4,
    ``TENAS_LR_OPTIONS``): at the benchmark's width every one of 3,000 samples falls into its
    own region and the count is constant. Deviations: the stem is kept and all input channels
    are used (TE-NAS drops the stem and picks one random channel)."""
    n, _, h, w = inputs.shape
    if h < patch or w < patch:
        raise ValueError(f"tenas_lr: inputs of {h}x{w} pixels are smaller than the {patch}x"
                         f"{patch} patch")
    gen = torch.Generator().manual_seed(int(seed))
    top = torch.randint(h - patch + 1, (n,), generator=gen)
    left = torch.randint(w - patch + 1, (n,), generator=gen)
    rows = (top[:, None] + torch.arange(patch)).to(inputs.device)
    cols = (left[:, None] + torch.arange(patch)).to(inputs.device)
    idx = torch.arange(n, device=inputs.device)
    crops = inputs[idx[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # [N, p, p, C]
    return float(count_unique_rows(relu_codes(net, crops.permute(0, 3, 1, 2).contiguous())))


# --- TE-NAS NTK ----------------------------------------------------------------------------------
@measure("tenas_ntk")
def tenas_ntk(net: nn.Module, inputs, targets, loss_fn, **opts) -> float:
    """TE-NAS NTK condition number (Chen et al., ICLR 2021), negated so higher is better.

    ``J`` holds, per sample ``i``, the gradient of the sum of its outputs with respect to every
    parameter named ``weight`` (convolution, linear and BatchNorm scales, as in TE-NAS); the
    empirical NTK is ``J J^T`` (float64) and the score is ``-lambda_max / lambda_min``. One
    minibatch, one initialization (TE-NAS repeats three times when pruning a supernet). A
    singular NTK (``lambda_min <= 0``) is undefined (TE-NAS substitutes 100,000)."""
    params = [p for name, p in net.named_parameters() if name.split(".")[-1] == "weight"]
    if not params:
        raise ScoreUndefined("the network has no weight parameters")
    n = inputs.shape[0]
    with preserved(net):
        out = net(inputs)
        rows = []
        for i in range(n):
            seed_grad = torch.zeros_like(out)
            seed_grad[i] = 1.0
            grads = torch.autograd.grad(out, params, grad_outputs=seed_grad, retain_graph=True,
                                        allow_unused=True)
            rows.append(torch.cat([g.detach().reshape(-1) for g in grads if g is not None]))
    jac = torch.stack(rows).double()
    eig = torch.linalg.eigvalsh(jac @ jac.T)
    if not float(eig[0]) > 0.0:
        raise ScoreUndefined("the NTK is singular, so its condition number is infinite")
    return -float(eig[-1] / eig[0])


# --- AZ-NAS components ---------------------------------------------------------------------------
def block_features(net: nn.Module, inputs: torch.Tensor) -> list[torch.Tensor]:
    """Outputs of ``net.stem`` and of every module of ``net.cells`` (the blocks AZ-NAS reads),
    with their autograd graph; the caller runs this inside ``preserved``."""
    stem, cells = getattr(net, "stem", None), getattr(net, "cells", None)
    if not isinstance(stem, nn.Module) or not isinstance(cells, nn.Module):
        raise ScoreUndefined("AZ-NAS needs a network with `stem` and `cells` modules")
    feats: list[torch.Tensor] = []

    def grab(_m: nn.Module, _args: tuple, out: torch.Tensor) -> None:
        feats.append(out)

    with hooks([m.register_forward_hook(grab) for m in (stem, *cells.children())]):
        net(inputs)
    if len(feats) < 2:
        raise ScoreUndefined("AZ-NAS needs at least two blocks")
    return feats


def _expressivities(feats: list[torch.Tensor]) -> list[float]:
    """Per block: entropy of the normalized eigenvalues of the channel covariance, over all
    samples and positions."""
    out = []
    for f in feats:
        x = f.detach().double().movedim(1, -1).reshape(-1, f.shape[1])
        x = x - x.mean(dim=0, keepdim=True)
        eig = torch.linalg.eigvalsh(x.T @ x / x.shape[0])
        p = eig / eig.sum()
        out.append(float((-p * torch.log(p + 1e-8)).sum()))
    return out


def _unshuffle_to(g: torch.Tensor, size: torch.Size) -> torch.Tensor:
    """Fold a ``[N, C, H, W]`` map into ``size`` by pixel-unshuffle with stride
    ``ceil(H / h)``, zero-padding the bottom and right edges when ``H`` is not a multiple
    (odd resolutions, e.g. 7x7 halved to 4x4)."""
    stride = -(-g.shape[2] // size[0])
    pad_h, pad_w = size[0] * stride - g.shape[2], size[1] * stride - g.shape[3]
    if pad_h or pad_w:
        g = nn.functional.pad(g, (0, pad_w, 0, pad_h))
    return nn.functional.pixel_unshuffle(g, stride)


def _trainability(feats: list[torch.Tensor], seed: int) -> float:
    """Mean over consecutive blocks of ``-(s + 1/s) + 2``, ``s`` the largest singular value of
    the (position-averaged) Jacobian between them, estimated with a Rademacher vector."""
    gen = torch.Generator().manual_seed(int(seed))
    scores = []
    for f_in, f_out in reversed(list(zip(feats[:-1], feats[1:], strict=True))):
        g_out = (torch.randint(2, f_out.shape, generator=gen) * 2 - 1).to(f_out)
        g_in = None
        if f_out.requires_grad and f_in.requires_grad:
            (g_in,) = torch.autograd.grad(f_out, f_in, grad_outputs=g_out, retain_graph=True,
                                          allow_unused=True)
        if g_in is None:  # the block's output does not depend on its input (a dead block)
            g_in = torch.zeros_like(f_in)
        if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
            scores.append(-math.inf)  # an identity block: AZ-NAS ranks it last
            continue
        if g_in.shape[2:] != g_out.shape[2:]:
            g_in = _unshuffle_to(g_in, g_out.shape[2:])
        a = g_in.double().movedim(1, -1).reshape(-1, g_in.shape[1])
        b = g_out.double().movedim(1, -1).reshape(-1, g_out.shape[1])
        s = float(torch.linalg.svdvals(a.T @ b / b.shape[0]).max())
        scores.append(-s - 1.0 / (s + 1e-6) + 2.0)
    return float(sum(scores) / len(scores))


def az_components(net: nn.Module, inputs: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """AZ-NAS's expressivity, progressivity and trainability of one network (see
    ``az_expressivity``); the fourth component, complexity, is the network's FLOPs."""
    with preserved(net):
        feats = block_features(net, inputs)
        per_block = _expressivities(feats)
        trainability = _trainability(feats, seed)
    steps = [b - a for a, b in zip(per_block[:-1], per_block[1:], strict=True)]
    values = {"expressivity": sum(per_block), "progressivity": min(steps),
              "trainability": trainability}
    # AZ-NAS ranks an undefined component (e.g. a dead network's 0/0 entropy) last.
    return {k: -math.inf if math.isnan(v) else v for k, v in values.items()}


@measure("az_expressivity")
def az_expressivity(net: nn.Module, inputs, targets, loss_fn, seed: int = 0, **opts) -> float:
    """AZ-NAS expressivity (Lee & Ham, CVPR 2024): for the output of the stem and of every
    block of ``net.cells``, the feature vectors of all samples and positions (``[N*H*W, C]``,
    centred) give a channel covariance whose eigenvalues, normalized to sum to 1, have entropy
    ``-sum p log(p + 1e-8)``; expressivity sums the entropies over blocks, progressivity
    (``az_progressivity``) is the smallest increase of entropy from one block to the next, and
    trainability (``az_trainability``) averages ``2 - s - 1/s`` over consecutive blocks, with
    ``s`` the largest singular value of ``E[g_in g_out^T]`` for a Rademacher ``g_out`` drawn
    from ``seed`` backpropagated to the previous block (``g_in`` pixel-unshuffled where the
    block halves the resolution, zero-padded first at odd resolutions); a block that passes the
    gradient through unchanged (an identity) makes trainability ``-inf``. Deviation: the
    network keeps its own initialization (AZ-NAS re-initializes with Kaiming-normal fan-in)."""
    return az_components(net, inputs, seed)["expressivity"]


@measure("az_progressivity")
def az_progressivity(net: nn.Module, inputs, targets, loss_fn, seed: int = 0, **opts) -> float:
    """AZ-NAS progressivity: the smallest block-to-block increase of expressivity (see
    ``az_expressivity``)."""
    return az_components(net, inputs, seed)["progressivity"]


@measure("az_trainability")
def az_trainability(net: nn.Module, inputs, targets, loss_fn, seed: int = 0, **opts) -> float:
    """AZ-NAS trainability: the mean of ``2 - s - 1/s`` over consecutive blocks (see
    ``az_expressivity``)."""
    return az_components(net, inputs, seed)["trainability"]
