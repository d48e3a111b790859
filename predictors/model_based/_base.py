"""Shared machinery of the model-based predictors: encoding, label scaling, seeding, tuning.

A model-based predictor encodes the labeled architectures, standardizes their labels, trains a
model on them (optionally after a cross-validated hyperparameter search) and answers queries on
the label scale. Subclasses implement ``_train`` and ``_predict`` on encoded data.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from predictors.base import FitContext, Prediction, Predictor, QueryContext
from predictors.encodings import encode
from predictors.params import COUNT, FRACTION, NON_NEGATIVE, POSITIVE, PROBABILITY, Interval
from predictors.spaces.base import Arch, SearchSpace

#: Largest seed handed to libraries (fits in a signed 32-bit integer).
MAX_SEED = 2**31 - 1


def derive_seed(rng: np.random.Generator) -> int:
    """An integer seed for a library, drawn from the context's generator."""
    return int(rng.integers(MAX_SEED))


@contextlib.contextmanager
def torch_seeded(seed: int, device: str = "cpu") -> Iterator[Any]:
    """Run a block with torch's global generators seeded, restoring their state afterwards.

    Yields a local ``torch.Generator`` seeded the same way, for data shuffling.
    """
    import torch

    devices = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        gen = torch.Generator()
        gen.manual_seed(seed)
        yield gen


def take(data: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of an encoded dataset (an array, a sequence, or a dict of arrays)."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {k: take(v, idx) for k, v in data.items()}
    if isinstance(data, np.ndarray):
        return data[idx]
    if dataclasses.is_dataclass(data):  # e.g. a GraphBatch: index its per-architecture arrays
        n = num_rows(data)
        return dataclasses.replace(data, **{
            f.name: getattr(data, f.name)[idx]
            for f in dataclasses.fields(data)
            if isinstance(getattr(data, f.name), np.ndarray) and len(getattr(data, f.name)) == n
        })
    return [data[int(i)] for i in idx]


def num_rows(data: Any) -> int:
    if isinstance(data, dict):
        return num_rows(next(iter(data.values())))
    return len(data)


class EncodedPredictor(Predictor):
    """Base of predictors that train a model on encoded architectures and standardized labels.

    Subclasses set ``encoding``, list their tunable hyperparameters in ``tunable`` (attribute
    names; their current values are the defaults), and implement ``_train``/``_predict``; those
    with a cross-validated search implement ``_sample_hyperparams``.
    """

    encoding: ClassVar[str] = "adjacency_one_hot"
    tunable: ClassVar[tuple[str, ...]] = ()
    #: Folds of the cross-validated hyperparameter search.
    hpo_folds: ClassVar[int] = 3
    #: Intervals of the hyperparameter names the model-based predictors share.
    param_bounds: ClassVar[dict[str, Interval]] = {
        **dict.fromkeys(("num_ensemble", "num_layers", "layer_width", "batch_size", "epochs",
                         "num_epochs", "hpo_evals", "num_steps", "keep_every", "units", "hidden",
                         "emb", "mlp_hidden", "mlp_layers", "train_iters", "num_inducing",
                         "n_estimators", "num_boost_round", "min_samples_leaf"), COUNT),
        **dict.fromkeys(("num_burn_in_steps", "warm_start_steps", "weight_decay",
                         "regularization", "min_child_weight", "self_train_epochs", "h",
                         "min_data_in_leaf", "bagging_freq", "epsilon"), NON_NEGATIVE),
        **dict.fromkeys(("lr", "learning_rate", "C"), POSITIVE),
        **dict.fromkeys(("feature_fraction", "bagging_fraction", "colsample_bytree",
                         "colsample_bylevel", "minibatch_frac", "max_features"), FRACTION),
        **dict.fromkeys(("mdecay", "trade_off"), PROBABILITY),
        "dropout": Interval(0, 1, open_high=True),
        "num_leaves": Interval(2),
        "min_samples_split": Interval(2),
    }

    # --- hooks for subclasses ----------------------------------------------------------------
    def _train(
        self, x: Any, y: np.ndarray, hp: dict[str, Any], rng: np.random.Generator, device: str,
        unlabeled: Any = None,
    ) -> Any:
        """Train and return a model on encoded ``x`` and standardized ``y``."""
        raise NotImplementedError

    def _predict(self, model: Any, x: Any, device: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Standardized mean (and std, where the model has one) for encoded ``x``."""
        raise NotImplementedError

    def _sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        """A random configuration of the ``tunable`` hyperparameters (the study's ranges)."""
        raise NotImplementedError(f"{type(self).__name__} has no hyperparameter search space")

    # --- shared implementation ----------------------------------------------------------------
    def _encode(self, archs: Sequence[Arch], space: SearchSpace) -> Any:
        return encode(archs, self.encoding, space)

    def defaults(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.tunable}

    def _fit(self, ctx: FitContext) -> None:
        labels = np.asarray(ctx.labels, dtype=float)
        if not np.all(np.isfinite(labels)):
            raise ValueError(f"{self.name}: labels contain NaN or inf; drop those architectures")
        self._y_mean = float(labels.mean())
        std = float(labels.std())
        self._y_std = std if std > 1e-12 else 1.0
        y = (labels - self._y_mean) / self._y_std
        x = self._encode(ctx.archs, ctx.space)
        unlabeled = None
        if self.data_needs().unlabeled_factor > 0 and len(ctx.unlabeled):
            unlabeled = self._encode(ctx.unlabeled, ctx.space)
        hp = self.defaults()
        if getattr(self, "hpo", False):
            from predictors.model_based.hpo import random_search_cv

            hp = random_search_cv(self, x, y, ctx.rng, ctx.device, unlabeled)
        self.best_hyperparams_ = hp
        self._model = self._train(x, y, hp, ctx.rng, ctx.device, unlabeled)

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        x = self._encode(archs, ctx.space)
        mean, std = self._predict(self._model, x, ctx.device)
        mean = np.asarray(mean, dtype=float).reshape(-1) * self._y_std + self._y_mean
        if std is not None:
            std = np.asarray(std, dtype=float).reshape(-1) * self._y_std
        return Prediction(mean, std)
