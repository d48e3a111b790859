"""Label standardization shared by the predictors that regress on labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelScale:
    """``z = (y - mean) / std``; a (near-)constant label set keeps ``std = 1``."""

    mean: float
    std: float

    @classmethod
    def fit(cls, labels: np.ndarray, who: str) -> LabelScale:
        """The scale of ``labels``; raises on NaN or inf labels."""
        labels = np.asarray(labels, dtype=float)
        if not np.all(np.isfinite(labels)):
            raise ValueError(f"{who}: labels contain NaN or inf; drop those architectures")
        std = float(labels.std())
        return cls(float(labels.mean()), std if std > 1e-12 else 1.0)

    def scale(self, labels: np.ndarray) -> np.ndarray:
        return (np.asarray(labels, dtype=float) - self.mean) / self.std

    def unscale(self, mean: np.ndarray, std: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray | None]:
        """Label-scale ``(mean, std)`` of standardized predictions."""
        mean = np.asarray(mean, dtype=float).reshape(-1) * self.std + self.mean
        if std is not None:
            std = np.asarray(std, dtype=float).reshape(-1) * self.std
        return mean, std
