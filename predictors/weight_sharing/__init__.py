"""Weight-sharing predictors: supernets trained live on the benchmark's data.

Importing this package registers ``oneshot``, ``rsws``, ``greedynas``, ``fairnas`` (single-path
supernets on NAS-Bench-201, NAS-Bench-101 and DARTS, subnets scored with inherited weights;
``rsws`` and ``fairnas`` where the space defines their samplers) and ``darts_alpha``
(differentiable supernet, NAS-Bench-201).
"""

from predictors.weight_sharing import darts, single_path
from predictors.weight_sharing.darts import DartsAlpha, sgas_criteria
from predictors.weight_sharing.single_path import (
    FairNAS,
    GreedyNAS,
    OneShot,
    RandomSearchWS,
    SinglePathPredictor,
)
from predictors.weight_sharing.supernet import NB201Supernet, extract_subnet

__all__ = [
    "DartsAlpha",
    "FairNAS",
    "GreedyNAS",
    "NB201Supernet",
    "OneShot",
    "RandomSearchWS",
    "SinglePathPredictor",
    "darts",
    "extract_subnet",
    "sgas_criteria",
    "single_path",
]
