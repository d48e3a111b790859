"""The ranking-loss switch of the torch predictors and the ranking-trained predictors' parts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from predictors.base import FitContext, QueryContext
from predictors.model_based._torch import (
    LOSSES,
    objective,
    pairwise_ranking_loss,
    train_regressor,
)
from predictors.model_based.cell_net import flow_pass, reachability
from predictors.model_based.flowerformer import flow_mask
from predictors.params import ParamError, check_params
from predictors.ranking import kendall_tau
from predictors.registry import get, make
from tests.test_model_based import synthetic_nb201

TORCH_PREDICTORS = ("mlp", "bananas", "gcn", "bonas", "dngo", "nao", "seminas", "gates",
                    "narformer", "flowerformer")


def test_ranking_loss_is_zero_exactly_when_every_pair_is_ordered_by_the_margin():
    y = torch.tensor([0.0, 1.0, 2.0])
    assert pairwise_ranking_loss(torch.tensor([0.0, 0.2, 0.4]), y).item() == 0.0
    assert pairwise_ranking_loss(torch.tensor([0.0, 0.05, 0.4]), y).item() > 0.0
    assert pairwise_ranking_loss(torch.tensor([0.4, 0.2, 0.0]), y).item() > 0.1
    assert pairwise_ranking_loss(torch.tensor([0.0, 5.0]), torch.tensor([1.0, 1.0])).item() == 0


def _fit_linear(y: np.ndarray, loss: str) -> np.ndarray:
    """A linear model trained on a tiny separable set (labels increase with x[:, 0])."""
    x = torch.linspace(-1, 1, 40).unsqueeze(1) * torch.tensor([[1.0, -0.5, 0.25]])
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    train_regressor(model, [x], torch.as_tensor(y, dtype=torch.float32), epochs=50,
                    batch_size=10, lr=0.05, gen=gen, loss=loss)
    with torch.no_grad():
        return model(x).reshape(-1).numpy()


def test_ranking_trained_scores_are_order_consistent_and_scale_free():
    y = np.tanh(np.linspace(-2, 2, 40))  # monotone in the feature, not linear
    ranked = _fit_linear(y, "ranking")
    assert kendall_tau(ranked, y) == pytest.approx(1.0)
    np.testing.assert_array_equal(ranked, _fit_linear(100 * y + 7, "ranking"))
    regressed = _fit_linear(y, "mse")
    assert not np.allclose(regressed, _fit_linear(100 * y + 7, "mse"))  # MSE sees the scale
    assert not np.allclose(ranked, regressed)


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_is_a_differentiable_objective(loss):
    scores = torch.tensor([0.3, -0.2, 0.1], requires_grad=True)
    objective(scores, torch.tensor([1.0, 0.0, 2.0]), loss).backward()
    assert scores.grad is not None and torch.isfinite(scores.grad).all()


def test_a_wrong_loss_fails_with_a_clear_error():
    message = r"loss='rank' is not a training objective; use one of mse, mae, ranking"
    with pytest.raises(ValueError, match=message):
        train_regressor(nn.Linear(1, 1), [torch.zeros(4, 1)], torch.zeros(4), epochs=1,
                        batch_size=2, lr=0.1, gen=torch.Generator(), loss="rank")
    space, archs, labels = synthetic_nb201(20, seed=1)
    with pytest.raises(ValueError, match="gates: " + message):
        make("gates", loss="rank").fit(FitContext(space=space, archs=archs, labels=labels))
    for name in TORCH_PREDICTORS:
        with pytest.raises(ParamError, match=r"loss=\"rank\" must be one of \"mse\", \"mae\""):
            check_params(get(name), {"loss": "rank"})


@pytest.mark.parametrize("name", ["mlp", "gcn", "gates"])
def test_ranking_trained_predictions_land_on_the_label_scale(name):
    space, archs, labels = synthetic_nb201(160, seed=2)
    params = {**get(name).conformance_params, "loss": "ranking"}
    pred = make(name, **params).fit(FitContext(space=space, archs=archs[:120],
                                               labels=labels[:120]))
    fitted = pred.query(archs[:120], QueryContext(space=space)).mean
    assert np.mean(fitted) == pytest.approx(np.mean(labels[:120]), abs=1e-6)
    assert np.std(fitted) == pytest.approx(np.std(labels[:120]), rel=1e-6)
    assert kendall_tau(pred.query(archs[120:], QueryContext(space=space)).mean,
                       labels[120:]) > 0.2


def test_reachability_and_the_flow_mask_follow_the_dag():
    adj = torch.zeros(1, 4, 4)
    adj[0, 0, 1] = adj[0, 1, 2] = 1.0  # 0 -> 1 -> 2; node 3 is padding
    reach = reachability(adj)[0]
    assert reach[0, 2] and reach[0, 1] and not reach[2, 0] and not reach[0, 0]
    blocked = flow_mask(adj, torch.tensor([[True, True, True, False]]))[0]
    assert not blocked[2, 0] and not blocked[0, 2] and not blocked[3, 3]
    assert blocked[0, 3] and blocked[3, 0]


def test_a_flow_pass_carries_the_input_to_the_output_in_one_pass():
    adj = torch.zeros(1, 3, 3)
    adj[0, 0, 1] = adj[0, 1, 2] = 1.0
    x = torch.tensor([[[1.0], [0.0], [0.0]]])
    forward = flow_pass(x, adj, lambda j, xj, m: m)
    assert forward.reshape(-1).tolist() == [1.0, 1.0, 1.0]
    backward = flow_pass(torch.tensor([[[0.0], [0.0], [1.0]]]), adj, lambda j, xj, m: m,
                         reverse=True)
    assert backward.reshape(-1).tolist() == [1.0, 1.0, 1.0]
