"""The Predictor protocol: what a predictor declares, receives, and returns.

``fit`` is the study's *initialization*, ``query`` scores architectures. A predictor declares its
``DataNeeds``; the harness builds contexts holding exactly that and nothing more, so a predictor
cannot read full learning curves or test labels by mistake.
"""

from __future__ import annotations

import inspect
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar

import numpy as np

from predictors.params import Interval
from predictors.spaces.base import Arch, SearchSpace


class NotFittedError(RuntimeError):
    """``query`` was called before ``fit``."""


class DataError(ValueError):
    """A context lacks data the predictor declared it needs (or holds data it did not declare)."""


@dataclass(frozen=True)
class DataNeeds:
    """What a predictor consumes; the harness hands over only this.

    labels: (architecture, final accuracy) pairs for fitting.
    curve_metrics: per-epoch metrics of partial learning curves, cut at the fidelity.
    curves_for_train: whether the labeled architectures' partial curves are needed too (hybrids).
    unlabeled_factor: semi-supervised predictors get this many unlabeled architectures per label.
    live: needs real data batches to run networks on (zero-cost proxies, weight sharing).
    network: builds and runs the benchmark's networks, so it needs the benchmark's network
        configuration (``to_network`` keyword arguments and ``input_shape``).
    properties: per-architecture values known without training (e.g. "params", "flops") that
        the benchmark tabulates; handed over for the fitted and the queried architectures.
    cost_properties: tabulated per-architecture seconds that reading a property stands for
        (e.g. "zc_synflow_time", the time its score took to compute). The harness charges them
        as simulated time: the fitted architectures' to initialization, the queried ones' to
        query time. A cost the benchmark does not tabulate is charged as zero and recorded.
    """

    labels: bool = True
    curve_metrics: tuple[str, ...] = ()
    curves_for_train: bool = False
    unlabeled_factor: int = 0
    live: bool = False
    network: bool = False
    properties: tuple[str, ...] = ()
    cost_properties: tuple[str, ...] = ()

    def union(self, other: DataNeeds) -> DataNeeds:
        """The needs of a predictor built from two parts (e.g. OMNI)."""
        return DataNeeds(
            labels=self.labels or other.labels,
            curve_metrics=tuple(dict.fromkeys(self.curve_metrics + other.curve_metrics)),
            curves_for_train=self.curves_for_train or other.curves_for_train,
            unlabeled_factor=max(self.unlabeled_factor, other.unlabeled_factor),
            live=self.live or other.live,
            network=self.network or other.network,
            properties=tuple(dict.fromkeys(self.properties + other.properties)),
            cost_properties=tuple(dict.fromkeys(self.cost_properties + other.cost_properties)),
        )


@dataclass
class LiveSource:
    """Real data for predictors that run networks (zero-cost proxies, supernets).

    ``batch(split, size, seed)`` returns ``(inputs, targets)`` torch tensors from the benchmark's
    own data ("train" or "val"); ``name`` says where the batches come from (it is recorded).
    """

    batch: Callable[[str, int, int], tuple[Any, Any]]
    name: str = "unknown"


@dataclass
class _Context:
    """Fields common to fit and query contexts; all but ``space`` are keyword-only.

    ``network`` is the benchmark's network configuration (``to_network`` keyword arguments plus
    ``input_shape``), present whenever the space can build the benchmark's networks; it is a
    description of the space, not data about any architecture.
    """

    space: SearchSpace
    _: KW_ONLY
    curves: Mapping[str, np.ndarray] = field(default_factory=dict)
    fidelity: int | None = None
    total_epochs: int | None = None
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    device: str = "cpu"
    live: LiveSource | None = None
    properties: Mapping[str, np.ndarray] = field(default_factory=dict)
    network: Mapping[str, Any] | None = None


@dataclass
class FitContext(_Context):
    """Everything a predictor may use in ``fit``; fields it did not declare are empty."""

    archs: Sequence[Arch] = ()
    labels: np.ndarray | None = None
    unlabeled: Sequence[Arch] = ()


@dataclass
class QueryContext(_Context):
    """Everything a predictor may use in ``query``; ``curves`` rows align with the archs."""


@dataclass
class Prediction:
    """Scores for queried architectures: higher means better; ``std`` where the model has one."""

    mean: np.ndarray
    std: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=float).reshape(-1)
        if self.std is not None:
            self.std = np.asarray(self.std, dtype=float).reshape(-1)
            if self.std.shape != self.mean.shape:
                raise ValueError("Prediction.std must have the shape of Prediction.mean")


def _hand_written_init(cls: type) -> bool:
    """Whether ``cls`` takes its ``__init__`` from a class that wrote one (not from fields)."""
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            return klass is not object and "__dataclass_fields__" not in vars(klass)
    return False


class Predictor(ABC):
    """Base class of every predictor.

    Subclasses implement ``_fit`` and ``_query`` and declare their hyperparameters once, as
    annotated class attributes (``epochs: int = 500``): every subclass is made a keyword-only
    dataclass, whose constructor only stores them (scikit-learn's rule), so
    ``{"predictor": name, "params": get_params()}`` rebuilds a predictor exactly. A subclass
    redeclares an inherited parameter to change its default; class-level settings are
    ``ClassVar``. A class that writes its own ``__init__`` (and its subclasses) keeps it.
    ``name`` and ``family`` are set by ``@register``.
    """

    needs: ClassVar[DataNeeds] = DataNeeds()
    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    #: Small hyperparameters that keep the conformance suite fast (e.g. few epochs).
    conformance_params: ClassVar[dict[str, Any]] = {}
    #: Allowed intervals of numeric hyperparameters (``predictors.params.Interval``), merged
    #: with those of the base classes; ``predictors.params.check_params`` enforces them.
    param_bounds: ClassVar[dict[str, Interval]] = {}
    #: Lighter settings of the main job's ``standard`` preset (``registry.preset_params``).
    reproduce_params: ClassVar[dict[str, Any]] = {}
    #: Settings the ``quick`` preset (the first run, minutes) puts over ``reproduce_params``.
    quick_params: ClassVar[dict[str, Any]] = {}
    #: Whether predictions regress the objective on its own scale (MAE/RMSE are meaningful).
    predicts_objective: ClassVar[bool] = False
    #: The experiment type sweeps run it in (``benchmarks.experiments.EXPERIMENTS``): which
    #: budgets vary, the number of labeled architectures, the fidelity or both.
    experiment: ClassVar[str] = "single"

    _fitted: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not _hand_written_init(cls):
            dataclass(kw_only=True, eq=False, repr=False)(cls)

    # --- hyperparameters ----------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]

    @classmethod
    def param_hints(cls) -> dict[str, Any]:
        """Type hints of the parameters (a field's resolved in the module that declares it)."""
        hints = typing.get_type_hints(cls.__init__ if _hand_written_init(cls) else cls)
        return {name: hints[name] for name in cls.param_names() if name in hints}

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}

    def data_needs(self) -> DataNeeds:
        """The data this instance needs (may depend on its hyperparameters)."""
        return self.needs

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --- the protocol -------------------------------------------------------------------------
    def fit(self, ctx: FitContext) -> Predictor:
        """Initialize the predictor from the context (the study's initialization)."""
        needs = self.data_needs()
        if needs.labels and (ctx.labels is None or len(ctx.labels) != len(ctx.archs)):
            raise DataError(f"{self.name or type(self).__name__} needs labeled architectures")
        if needs.live and ctx.live is None:
            raise DataError(f"{self.name or type(self).__name__} needs a live data source")
        self._fit(ctx)
        self._fitted = True
        return self

    def query(self, archs: Sequence[Arch], ctx: QueryContext) -> Prediction:
        """Score ``archs``; returns one mean (and optional std) per architecture."""
        if not self._fitted:
            raise NotFittedError(f"{self.name or type(self).__name__}: call fit() before query()")
        archs = list(archs)
        if not archs:
            return Prediction(np.zeros(0))
        pred = self._query(archs, ctx)
        if pred.mean.shape != (len(archs),):
            raise RuntimeError(
                f"{self.name}: query returned {pred.mean.shape[0]} scores for {len(archs)} archs"
            )
        return pred

    @abstractmethod
    def _fit(self, ctx: FitContext) -> None: ...

    @abstractmethod
    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction: ...
