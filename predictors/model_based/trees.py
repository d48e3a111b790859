"""Tree ensembles on the adjacency one-hot encoding: XGBoost, LightGBM, NGBoost, random forest.

Defaults follow the study (NASLib): XGBoost's and LightGBM's published defaults with 500
boosting rounds, NGBoost and the random forest with the NAS-Bench-301 surrogate settings.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from predictors.base import DataNeeds
from predictors.model_based.base import TunablePredictor, derive_seed
from predictors.registry import register
from predictors.tuning import loguniform


@register("xgb", family="model_based")
class XGBPredictor(TunablePredictor):
    """Gradient-boosted trees (xgboost)."""

    needs = DataNeeds(labels=True)
    tunable = ("max_depth", "min_child_weight", "colsample_bytree", "learning_rate",
               "colsample_bylevel")
    conformance_params: ClassVar[dict[str, Any]] = {"num_boost_round": 20}

    max_depth: int = 6
    min_child_weight: float = 1.0
    colsample_bytree: float = 1.0
    learning_rate: float = 0.3
    colsample_bylevel: float = 1.0
    num_boost_round: int = 500

    def sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        return {
            "max_depth": int(rng.integers(1, 15)),
            "min_child_weight": int(rng.integers(1, 10)),
            "colsample_bytree": float(rng.uniform(0.05, 1.0)),
            "learning_rate": loguniform(rng, 0.001, 0.5),
            "colsample_bylevel": float(rng.uniform(0.05, 1.0)),
        }

    def train(self, x, y, hp, rng, device, unlabeled=None):
        import xgboost as xgb

        params = {
            "objective": "reg:squarederror",
            "eval_metric": "rmse",
            "booster": "gbtree",
            "tree_method": "hist",
            "seed": derive_seed(rng),
            "device": "cuda" if str(device).startswith("cuda") else "cpu",
            # One thread, as lgb and rf: on these small tables more threads gain little, and
            # XGBoost's OpenMP threads spin-wait, so a busy machine slows it down ~100x.
            "nthread": 1,
            **hp,
        }
        data = xgb.DMatrix(x, label=y, nthread=1)
        return xgb.train(params, data, num_boost_round=self.num_boost_round)

    def predict(self, model, x, device):
        import xgboost as xgb

        return model.predict(xgb.DMatrix(x, nthread=1)), None


@register("lgb", family="model_based")
class LGBPredictor(TunablePredictor):
    """Gradient-boosted trees (LightGBM), with the settings of Luo et al. (2020)."""

    needs = DataNeeds(labels=True)
    tunable = ("num_leaves", "learning_rate", "feature_fraction")
    conformance_params: ClassVar[dict[str, Any]] = {"num_boost_round": 20}

    num_leaves: int = 31
    learning_rate: float = 0.05
    feature_fraction: float = 0.9
    min_data_in_leaf: int = 5
    bagging_fraction: float = 0.8
    bagging_freq: int = 5
    num_boost_round: int = 500

    def sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        return {
            "num_leaves": int(rng.integers(10, 100)),
            "learning_rate": loguniform(rng, 0.001, 0.1),
            "feature_fraction": float(rng.uniform(0.1, 1.0)),
        }

    def train(self, x, y, hp, rng, device, unlabeled=None):
        import lightgbm as lgb

        params = {
            "boosting_type": "gbdt",
            "objective": "regression",
            "metric": "l2",
            "min_data_in_leaf": self.min_data_in_leaf,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": self.bagging_freq,
            "seed": derive_seed(rng),
            "deterministic": True,
            "num_threads": 1,
            "verbose": -1,
            **hp,
        }
        data = lgb.Dataset(np.asarray(x), label=y, params={"verbose": -1})
        return lgb.train(params, data, num_boost_round=self.num_boost_round)

    def predict(self, model, x, device):
        return model.predict(np.asarray(x)), None


@register("ngb", family="model_based")
class NGBPredictor(TunablePredictor):
    """Natural gradient boosting with a Normal output (ngboost): mean and std."""

    needs = DataNeeds(labels=True)
    tunable = ("n_estimators", "learning_rate", "minibatch_frac", "max_depth", "max_features")
    conformance_params: ClassVar[dict[str, Any]] = {"n_estimators": 20}
    reproduce_params: ClassVar[dict[str, Any]] = {"n_estimators": 100}

    n_estimators: int = 505
    learning_rate: float = 0.08127
    minibatch_frac: float = 0.5082
    max_depth: int = 6
    max_features: float = 0.7920

    def sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        return {
            "n_estimators": int(loguniform(rng, 128, 512)),
            "learning_rate": loguniform(rng, 0.001, 0.1),
            "minibatch_frac": float(rng.uniform(0.1, 1.0)),
            "max_depth": int(rng.integers(1, 25)),
            "max_features": float(rng.uniform(0.1, 1.0)),
        }

    def train(self, x, y, hp, rng, device, unlabeled=None):
        from ngboost import NGBRegressor

        from predictors.model_based.ngb_normal import ClosedFormNormal
        from predictors.model_based.ngb_tree import PrevalidatedTree

        # Each boosting step fits its tree on a minibatch of ``minibatch_frac * n`` rows; leaf
        # sizes must leave room for a split there, or every tree is a stump (constant output).
        # The NAS-Bench-301 sizes (leaf 15, split 20) apply from ~500 labels; below that they
        # scale with the minibatch (at 121 labels, leaf 15 of 61 rows underfit: test tau .10).
        # ngboost draws int(minibatch_frac * n) rows per step; zero rows make its line search
        # loop forever on a NaN loss (seen at 9-row CV folds), so the fraction keeps one row.
        minibatch_frac = min(1.0, max(hp["minibatch_frac"], 1.5 / len(y)))
        rows = int(minibatch_frac * len(y))  # at least 1 by the bound above
        base = PrevalidatedTree(
            criterion="squared_error",
            max_depth=hp["max_depth"],
            max_features=hp["max_features"],
            min_samples_leaf=min(max(rows // 16, 1), 15),
            min_samples_split=min(max(rows // 8, 2), 20),
            random_state=derive_seed(rng),
        )
        model = NGBRegressor(
            Dist=ClosedFormNormal,
            Base=base,
            n_estimators=hp["n_estimators"],
            learning_rate=hp["learning_rate"],
            minibatch_frac=minibatch_frac,
            verbose=False,
            random_state=derive_seed(rng),
        )
        return model.fit(np.asarray(x), y)

    def predict(self, model, x, device):
        dist = model.pred_dist(np.asarray(x))
        return dist.loc, dist.scale


@register("rf", family="model_based")
class RFPredictor(TunablePredictor):
    """Random forest (scikit-learn); ``std`` is the spread of the trees' predictions."""

    needs = DataNeeds(labels=True)
    tunable = ("n_estimators", "max_features", "min_samples_leaf", "min_samples_split")
    conformance_params: ClassVar[dict[str, Any]] = {"n_estimators": 10}

    n_estimators: int = 116
    max_features: float = 0.17056
    min_samples_leaf: int = 2
    min_samples_split: int = 2
    bootstrap: bool = False

    def sample_hyperparams(self, rng: np.random.Generator) -> dict[str, Any]:
        return {
            "n_estimators": int(rng.integers(16, 256)),
            "max_features": float(rng.uniform(0.05, 1.0)),
            "min_samples_leaf": int(rng.integers(1, 20)),
            "min_samples_split": int(rng.integers(2, 20)),
        }

    def train(self, x, y, hp, rng, device, unlabeled=None):
        from sklearn.ensemble import RandomForestRegressor

        model = RandomForestRegressor(
            bootstrap=self.bootstrap, random_state=derive_seed(rng), n_jobs=1, **hp
        )
        return model.fit(np.asarray(x), y)

    def predict(self, model, x, device):
        x = np.asarray(x)
        per_tree = np.stack([t.predict(x) for t in model.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)
