"""Learning-curve predictors: early stopping, the SoTL family, LCE and LCE-m.

Importing this package registers all of them.
"""

from predictors.learning_curve import early_stopping, lce, sotl  # noqa: F401  (registers)
