"""Sequence predictors: NAO (Luo et al. 2018) and SemiNAS (Luo et al. 2020).

An LSTM encoder reads the SemiNAS token sequence of a cell; its mean-pooled, normalized outputs
feed an MLP performance regressor, and an LSTM decoder reconstructs the sequence from the
encoder's final state. Training minimizes ``trade_off * MSE + (1 - trade_off) * cross-entropy``
(``loss`` replaces the MSE term, e.g. by the pairwise ranking loss; ``model_based.neural``).
SemiNAS first trains on the labeled cells, then labels the unlabeled ones with its own
predictions and trains further on both (self-training). Sizes (hidden 32, 50 epochs for NAO,
30 + 10 for SemiNAS) keep a fit on 1,000 labels under a minute on 2 CPU cores.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from predictors.base import DataNeeds
from predictors.model_based._torch import minibatches, objective
from predictors.model_based.base import TunablePredictor, derive_seed, torch_seeded
from predictors.model_based.neural import NeuralPredictor
from predictors.registry import register
from predictors.tuning import loguniform

log = logging.getLogger(__name__)


class NAOModel(nn.Module):
    """Encoder, regressor and decoder sharing one token embedding."""

    def __init__(self, vocab: int, emb: int, hidden: int, mlp_hidden: int, mlp_layers: int,
                 dropout: float) -> None:
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(vocab + 1, emb)  # the extra index is the decoder's start token
        self.encoder = nn.LSTM(emb, hidden, batch_first=True)
        self.decoder = nn.LSTM(emb, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        layers: list[nn.Module] = []
        width = hidden
        for _ in range(mlp_layers):
            layers += [nn.Linear(width, mlp_hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = mlp_hidden
        self.regressor = nn.Sequential(*layers, nn.Linear(width, 1))
        self.out = nn.Linear(hidden, vocab)

    def encode(self, seq: torch.Tensor):
        out, state = self.encoder(self.dropout(self.embed(seq)))
        arch = F.normalize(out.mean(dim=1), dim=-1)
        return arch, state

    def forward(self, seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        arch, state = self.encode(seq)
        pred = self.regressor(arch).reshape(-1)
        start = torch.full_like(seq[:, :1], self.vocab)
        dec_in = torch.cat([start, seq[:, :-1]], dim=1)
        dec_out, _ = self.decoder(self.dropout(self.embed(dec_in)), state)
        return pred, self.out(dec_out)


def _train_epochs(model: NAOModel, seq: torch.Tensor, y: torch.Tensor, *, epochs: int,
                  batch_size: int, lr: float, weight_decay: float, trade_off: float,
                  gen: torch.Generator, loss: str = "mse") -> None:
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    for _ in range(epochs):
        for idx in minibatches(len(y), batch_size, gen):
            idx = idx.to(seq.device)
            pred, logits = model(seq[idx])
            value = trade_off * objective(pred, y[idx], loss) + (1 - trade_off) * F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), seq[idx].reshape(-1)
            )
            opt.zero_grad()
            value.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
    model.eval()


@torch.no_grad()
def _regress(model: NAOModel, seq: torch.Tensor) -> torch.Tensor:
    model.eval()
    return torch.cat([model.regressor(model.encode(seq[s : s + 1024])[0]).reshape(-1)
                      for s in range(0, len(seq), 1024)])


@register("nao", family="model_based")
class NAOPredictor(TunablePredictor, NeuralPredictor):
    """NAO's encoder-regressor-decoder on the SemiNAS sequence encoding."""

    encoding = "seminas"
    zc_input = None  # an encoder-decoder on token sequences: no place for zero-cost scores
    needs = DataNeeds(labels=True)
    tunable = ("hidden", "batch_size", "lr", "trade_off")
    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 3, "hidden": 16, "emb": 8}
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 20}

    emb: int = 32
    hidden: int = 32
    mlp_hidden: int = 64
    mlp_layers: int = 2
    dropout: float = 0.1
    batch_size: int = 100
    lr: float = 1e-3
    weight_decay: float = 1e-4
    trade_off: float = 0.8
    epochs: int = 50
    hpo_evals: int = 5

    def sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        return {
            "hidden": int(rng.choice([16, 32, 64, 128])),
            "batch_size": int(rng.choice([32, 64, 100])),
            "lr": loguniform(rng, 1e-4, 1e-2),
            "trade_off": float(rng.uniform(0.5, 0.95)),
        }

    def _fit(self, ctx) -> None:
        from predictors.encodings.seminas import vocab_size

        self._vocab = vocab_size(ctx.space, ctx.archs[0] if len(ctx.archs) else None)
        super()._fit(ctx)

    def _new_model(self, hp: dict[str, Any], seq: np.ndarray, device: str) -> NAOModel:
        vocab = max(self._vocab, int(seq.max()) + 1 if seq.size else 1)
        return NAOModel(vocab, self.emb, int(hp["hidden"]), self.mlp_hidden, self.mlp_layers,
                        self.dropout).to(device)

    def _fit_stage(self, model, seq, y, hp, epochs, gen):
        _train_epochs(model, seq, y, epochs=epochs, batch_size=int(hp["batch_size"]),
                      lr=float(hp["lr"]), weight_decay=self.weight_decay,
                      trade_off=float(hp["trade_off"]), gen=gen, loss=self.loss)

    def train(self, x, y, hp, rng, device, unlabeled=None):
        seq = torch.as_tensor(np.asarray(x), dtype=torch.long, device=device)
        yt = torch.as_tensor(y, dtype=torch.float32, device=device)
        with torch_seeded(derive_seed(rng), device) as gen:
            model = self._new_model(hp, np.asarray(x), device)
            self._fit_stage(model, seq, yt, hp, self.epochs, gen)
        return model

    def predict(self, model, x, device):
        seq = torch.as_tensor(np.asarray(x), dtype=torch.long, device=device)
        seq = seq.clamp_max(model.vocab - 1)  # a token unseen in training reads as the last one
        return _regress(model, seq).cpu().numpy().astype(float), None


@register("seminas", family="model_based")
class SemiNASPredictor(NAOPredictor):
    """SemiNAS: NAO plus self-training on pseudo-labeled unlabeled architectures."""

    needs = DataNeeds(labels=True, unlabeled_factor=1)
    conformance_params: ClassVar[dict[str, Any]] = {"epochs": 2, "self_train_epochs": 1,
                                                    "hidden": 16, "emb": 8}
    reproduce_params: ClassVar[dict[str, Any]] = {"epochs": 15, "self_train_epochs": 5}

    epochs: int = 30
    self_train_epochs: int = 10

    def train(self, x, y, hp, rng, device, unlabeled=None):
        seq = torch.as_tensor(np.asarray(x), dtype=torch.long, device=device)
        yt = torch.as_tensor(y, dtype=torch.float32, device=device)
        with torch_seeded(derive_seed(rng), device) as gen:
            both = np.asarray(x) if unlabeled is None else np.concatenate([x, unlabeled])
            model = self._new_model(hp, both, device)
            self._fit_stage(model, seq, yt, hp, self.epochs, gen)
            if unlabeled is None or len(unlabeled) == 0:
                log.info("seminas: no unlabeled architectures given; trained as NAO")
                return model
            useq = torch.as_tensor(np.asarray(unlabeled), dtype=torch.long, device=device)
            pseudo = _regress(model, useq)
            self._fit_stage(model, torch.cat([seq, useq]), torch.cat([yt, pseudo]), hp,
                            self.self_train_epochs, gen)
        return model
