"""The base of the model-based predictors whose network trains by the shared torch loops.

Such a predictor takes a ``loss`` hyperparameter (``predictors.model_based._torch.LOSSES``):
regression of the standardized labels (``mse``, ``mae``), the pairwise ranking loss of GATES
(``ranking``), or both (``mse+ranking``). A ranking loss fixes only the order of the network's
scores, not their scale, so after fitting a ranking-trained predictor maps its scores onto the
training labels' mean and spread (affinely, the order kept): MAE and RMSE stay on the label
scale, and the ranking metrics are unchanged by the map. Predictors whose output is a Bayesian
regression on the network's features (``output_on_label_scale``) regress the labels already.
"""

from __future__ import annotations

from typing import Any, ClassVar

from predictors.base import FitContext, Prediction, QueryContext
from predictors.labels import LabelScale
from predictors.model_based._torch import RANKING_LOSSES, Loss, check_loss
from predictors.model_based.base import EncodedPredictor
from predictors.spaces.base import Arch


class NeuralPredictor(EncodedPredictor):
    """An encoded predictor trained by the shared torch loops; ``loss`` picks the objective."""

    #: Whether ``predict`` already answers on the standardized label scale whatever the loss.
    output_on_label_scale: ClassVar[bool] = False

    loss: Loss = "mse"

    def _fit(self, ctx: FitContext) -> None:
        check_loss(self.loss, self.name or type(self).__name__)
        self._score_scale: LabelScale | None = None
        super()._fit(ctx)

    def _after_train(self, x: Any, device: str) -> None:
        """A ranking-trained network's scores on its training inputs fix their scale."""
        if self.loss in RANKING_LOSSES and not self.output_on_label_scale:
            self._score_scale = LabelScale.fit(self.predict(self._model, x, device)[0], self.name)

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        mean, std = self.predict(self._model, self._inputs(archs, ctx), ctx.device)
        if self._score_scale is not None:  # ranking scores -> standardized label scale
            mean = self._score_scale.scale(mean)
            std = None if std is None else std / self._score_scale.std
        return Prediction(*self._scale.unscale(mean, std))
