"""Training recipes: one frozen description per candidate, with a stable short key.

A recipe fixes everything that changes results (network size, data splits, optimizer, schedule);
shards are stored per recipe and a shard directory refuses a different recipe, so trainings of
different recipes can never be mixed in one benchmark.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from benchmarks.builder.fashion_mnist import SplitSpec
from predictors.params import describe, matches


class RecipeError(ValueError):
    """An unknown recipe name or a malformed recipe file."""


@dataclass(frozen=True)
class Recipe:
    """Network, data and optimizer settings of one training run (every architecture alike)."""

    name: str
    channels: int = 8
    cells_per_stage: int = 3
    stem_stride: int = 2
    train_size: int = 10_000
    val_size: int = 10_000
    test_size: int = 10_000
    split_seed: int = 0
    epochs: int = 10
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    test_every_epoch: bool = False
    eval_batch_size: int = 500

    def __post_init__(self) -> None:
        if self.schedule != "cosine":
            raise RecipeError(f"recipe {self.name!r}: only the 'cosine' schedule is implemented")
        if self.epochs < 1 or self.batch_size < 1:
            raise RecipeError(f"recipe {self.name!r}: epochs and batch_size must be positive")
        self.splits  # validates sizes  # noqa: B018

    @property
    def splits(self) -> SplitSpec:
        return SplitSpec(self.split_seed, self.train_size, self.val_size, self.test_size)

    def network_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``get_space("nb201").to_network`` for this recipe."""
        return {
            "channels": self.channels,
            "cells_per_stage": self.cells_per_stage,
            "in_channels": 1,
            "num_classes": 10,
            "stem_stride": self.stem_stride,
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> str:
        """Hash of every setting except the name: equal keys train identically."""
        body = {k: v for k, v in self.as_dict().items() if k != "name"}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Recipe:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown or "name" not in d:
            raise RecipeError(
                f"recipe fields {unknown} unknown or 'name' missing; known fields: {sorted(known)}"
            )
        hints = get_type_hints(cls)
        for key, value in d.items():
            if not matches(value, hints[key]):
                raise RecipeError(f"recipe field {key}={json.dumps(value)} must be "
                                  f"{describe(hints[key])}")
        try:
            return cls(**d)
        except RecipeError:
            raise
        except ValueError as exc:  # the data splits' own checks
            raise RecipeError(f"recipe {d['name']!r}: {exc}") from None


#: Candidates tried by pilot (see results/pilot/) and the tiny recipe of the tests.
PRESETS: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("n3c8-e10-b256"),
        Recipe("n3c8-e8-b128", epochs=8, batch_size=128, lr=0.05),
        Recipe("n5c4-e8-b128", channels=4, cells_per_stage=5, epochs=8, batch_size=128,
               lr=0.05),
        Recipe("n2c8-e10-b128", cells_per_stage=2, batch_size=128, lr=0.05),
        Recipe(
            "tiny", channels=2, cells_per_stage=1, train_size=256, val_size=128, test_size=128,
            epochs=1, batch_size=64, eval_batch_size=128,
        ),
    )
}

#: The recipe the benchmark is generated with (chosen by the pilot rule; see results/pilot/).
BENCHMARK_RECIPE = "n3c8-e8-b128"


def get_recipe(name_or_file: str) -> Recipe:
    """A preset by name, or a recipe from a JSON file holding its fields."""
    if name_or_file in PRESETS:
        return PRESETS[name_or_file]
    path = Path(name_or_file)
    if path.suffix == ".json" and path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RecipeError(f"{path} is not a valid recipe file: {exc}") from None
        if not isinstance(data, dict):
            raise RecipeError(f"{path} is not a valid recipe file: it must hold a JSON object "
                              "of Recipe fields (see `predbench build recipes`)")
        return Recipe.from_dict(data)
    raise RecipeError(
        f"unknown recipe {name_or_file!r}; presets: {', '.join(PRESETS)} (or a .json file with "
        "Recipe fields)"
    )


def with_overrides(recipe: Recipe, **changes: Any) -> Recipe:
    """A copy of ``recipe`` with some fields changed (``None`` values are ignored)."""
    return replace(recipe, **{k: v for k, v in changes.items() if v is not None})
