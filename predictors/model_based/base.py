"""The encoded-regressor interface of the model-based predictors, and their seeding helpers.

A model-based predictor encodes the labeled architectures, standardizes their labels, trains a
model on them (optionally after a cross-validated hyperparameter search) and answers queries on
the label scale. Subclasses implement ``train`` and ``predict`` on encoded data; composites
(OMNI) drive a model-based predictor through the same public methods.

``zc_features`` (e.g. ``("jacov", "synflow")``) augments the encoding with zero-cost scores
(NAS-Bench-Suite-Zero's zero-cost-augmented encodings): read from the benchmark's table
(``zc_source="table"``, charged their tabulated compute time) or computed live, standardized on
the labeled architectures (``predictors.zero_cost.features``), and appended as columns to a
vector encoding or as graph-level features (``GraphBatch.graph_features``) that graph
predictors concatenate before their head. ``zc_input`` declares which a predictor takes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from predictors.base import DataNeeds, FitContext, Prediction, Predictor, QueryContext
from predictors.encodings import encode
from predictors.encodings.graph import GraphBatch
from predictors.labels import LabelScale
from predictors.params import (
    COUNT,
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    Interval,
    ParamError,
)
from predictors.spaces.base import Arch, SearchSpace
from predictors.tuning import cv_search, kfold
from predictors.zero_cost.features import ZeroCostFeatures

log = logging.getLogger(__name__)

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
    names; their current values are the defaults), and implement ``train``/``predict``; those
    with a cross-validated search derive from ``TunablePredictor``. ``zc_features`` names
    zero-cost measures whose scores augment the encoding (none by default).
    """

    encoding: ClassVar[str] = "adjacency_one_hot"
    predicts_objective = True
    experiment = "vary_train_size"
    tunable: ClassVar[tuple[str, ...]] = ()
    #: How zero-cost features join the input: "columns" appended to a vector encoding,
    #: "graph" as ``GraphBatch.graph_features`` (the model reads them), None: not supported.
    zc_input: ClassVar[str | None] = "columns"

    zc_features: tuple[str, ...] = ()
    zc_source: str = "table"
    zc_batch_size: int = 64
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
        "zc_batch_size": COUNT,
    }

    # --- the encoded-regressor interface (subclasses implement the first three) -------------
    def train(
        self, x: Any, y: np.ndarray, hp: dict[str, Any], rng: np.random.Generator, device: str,
        unlabeled: Any = None,
    ) -> Any:
        """Train and return a model on encoded ``x`` and standardized ``y``."""
        raise NotImplementedError

    def predict(self, model: Any, x: Any, device: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Standardized mean (and std, where the model has one) for encoded ``x``."""
        raise NotImplementedError

    def sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        """A random configuration of the ``tunable`` hyperparameters (the study's ranges)."""
        raise NotImplementedError(f"{type(self).__name__} has no hyperparameter search space")

    def defaults(self) -> dict[str, Any]:
        """The current values of the ``tunable`` hyperparameters."""
        return {name: getattr(self, name) for name in self.tunable}

    def hyperparams(self, x: Any, y: np.ndarray, rng: np.random.Generator, device: str,
                    unlabeled: Any = None) -> dict[str, Any]:
        """The hyperparameters ``fit`` trains with: the defaults."""
        return self.defaults()

    # --- zero-cost features -------------------------------------------------------------------
    def data_needs(self) -> DataNeeds:
        """The class's needs, plus the zero-cost members' (tabulated scores and their costs, or
        live data) when ``zc_features`` names any."""
        if not self.zc_features:
            return self.needs
        return self.needs.union(self._zero_cost().needs())

    def _zero_cost(self) -> ZeroCostFeatures:
        """The zero-cost block of ``zc_features``; ``ParamError`` for settings it cannot take."""
        who = self.name or type(self).__name__
        if self.zc_input is None:
            raise ParamError(f"{who} takes no zero-cost features (its input is neither a vector "
                             "nor a graph encoding); drop zc_features, or use e.g. xgb, mlp, gcn "
                             "or gates")
        if self.needs.unlabeled_factor > 0:
            raise ParamError(f"{who}: zero-cost features are not given to its unlabeled "
                             "architectures; drop zc_features")
        block = ZeroCostFeatures(tuple(self.zc_features), self.zc_source,
                                 int(self.zc_batch_size), who)
        try:
            block.members()
        except ValueError as exc:  # an unknown source, or a measure that is no zero-cost score
            raise ParamError(str(exc)) from exc
        return block

    def _with_zero_cost(self, x: Any, z: np.ndarray) -> Any:
        """Encoded ``x`` with the feature block ``z`` joined as ``zc_input`` says."""
        if self.zc_input == "graph" and isinstance(x, GraphBatch):
            return dataclasses.replace(x, graph_features=z.astype(np.float32))
        if self.zc_input == "columns" and isinstance(x, np.ndarray) and x.ndim == 2:
            return np.concatenate([x.astype(float), z], axis=1)
        raise TypeError(f"{self.name}: cannot join zero-cost features ({self.zc_input}) to a "
                        f"{type(x).__name__} encoding")

    def _fit_inputs(self, ctx: FitContext) -> Any:
        """The labeled architectures' model inputs; fixes the zero-cost features' scaling."""
        x = self._encode(ctx.archs, ctx.space)
        self._zc: ZeroCostFeatures | None = None
        if self.zc_features:
            self._zc = self._zero_cost()
            x = self._with_zero_cost(x, self._zc.fit(ctx))
        return x

    def _inputs(self, archs: Sequence[Arch], ctx: QueryContext) -> Any:
        """The model inputs of queried ``archs``."""
        x = self._encode(archs, ctx.space)
        if self._zc is not None:
            x = self._with_zero_cost(x, self._zc.transform(archs, ctx))
        return x

    # --- the Predictor protocol ---------------------------------------------------------------
    def _encode(self, archs: Sequence[Arch], space: SearchSpace) -> Any:
        return encode(archs, self.encoding, space)

    def _fit(self, ctx: FitContext) -> None:
        self._scale = LabelScale.fit(ctx.labels, self.name)
        y = self._scale.scale(ctx.labels)
        x = self._fit_inputs(ctx)
        unlabeled = None
        if self.data_needs().unlabeled_factor > 0 and len(ctx.unlabeled):
            unlabeled = self._encode(ctx.unlabeled, ctx.space)
        hp = self.hyperparams(x, y, ctx.rng, ctx.device, unlabeled)
        self.best_hyperparams_ = hp
        self._model = self.train(x, y, hp, ctx.rng, ctx.device, unlabeled)
        self._after_train(x, ctx.device)

    def _after_train(self, x: Any, device: str) -> None:
        """Hook run with the training inputs once the model is trained."""

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        x = self._inputs(archs, ctx)
        return Prediction(*self._scale.unscale(*self.predict(self._model, x, ctx.device)))


class TunablePredictor(EncodedPredictor):
    """An encoded predictor whose ``tunable`` hyperparameters a cross-validated search can pick.

    ``hpo=True`` tries ``hpo_evals`` configurations; subclasses implement
    ``sample_hyperparams`` and may redeclare ``hpo_evals`` with another default.
    """

    hpo: bool = False
    hpo_evals: int = 20
    #: Folds of the cross-validated hyperparameter search.
    hpo_folds: ClassVar[int] = 3

    def hyperparams(self, x: Any, y: np.ndarray, rng: np.random.Generator, device: str,
                    unlabeled: Any = None) -> dict[str, Any]:
        """The result of ``tune`` with ``hpo=True``, else the defaults."""
        return self.tune(x, y, rng, device, unlabeled) if self.hpo else self.defaults()

    def tune(self, x: Any, y: np.ndarray, rng: np.random.Generator, device: str,
             unlabeled: Any = None) -> dict[str, Any]:
        """Best of ``hpo_evals`` configurations (the defaults first, then samples drawn one at
        a time) by Kendall tau over ``hpo_folds`` folds."""
        evals = int(self.hpo_evals)
        if evals < 1:
            raise ValueError(f"{self.name}: hpo_evals must be >= 1, got {evals}")
        n = num_rows(x)
        if n < 2:
            log.info("%s: too few labels (%d) to cross-validate; using defaults", self.name, n)
            return self.defaults()
        folds = kfold(n, self.hpo_folds, rng)
        candidates = (self.defaults() if i == 0 else self.sample_hyperparams(rng)
                      for i in range(evals))

        def fit_predict(hp: dict[str, Any], tr: np.ndarray, val: np.ndarray) -> np.ndarray:
            model = self.train(take(x, tr), y[tr], hp, rng, device, unlabeled)
            return self.predict(model, take(x, val), device)[0]

        # A fold with constant predictions scores the worst tau (-1) here, so a configuration
        # keeps the credit of its other folds; OMNI rules such a configuration out (-inf). On
        # small folds the two rules pick different configurations (tests/test_tuning.py), and
        # each family's records were made with its own.
        best, self.cv_trials_ = cv_search(candidates, fit_predict, y, folds, "kendall",
                                          undefined=-1.0, who=self.name)
        return best
