"""One zero-cost proxy predictor per registered measure, computed live on real networks.

``query`` builds each architecture's network with ``ctx.space.to_network`` (keyword arguments
from ``ctx.network``), initializes it from ``init_seed`` alone, scores it on ``ctx.device``
with one minibatch ``ctx.live.batch("train", batch_size, batch_seed)`` (data-free measures get
only the shape), and returns the measure's value. Both seeds default to ``None``: drawn from the
query context's generator, so they vary with the evaluation's trial (every architecture of one
query shares them); an integer pins them. A score that cannot be computed (NaN,
overflow, undefined for that network) becomes NaN, with the reason logged and kept in
``failures_``; CUDA out-of-memory retries with half the batch.
"""

from __future__ import annotations

import functools
import logging
import math
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from predictors.base import DataError, DataNeeds, FitContext, Prediction, Predictor, QueryContext
from predictors.layout import preferred_layout
from predictors.params import COUNT, NON_NEGATIVE, Interval
from predictors.registry import make, register
from predictors.spaces.base import Arch
from predictors.spaces.networks import build_network, can_build, network_config
from predictors.zero_cost import (
    data_free_measures,
    gradient_measures,
    jacobian_measures,
    recent_measures,
    tabulated,
)
from predictors.zero_cost.counting import count_flops
from predictors.zero_cost.measures import MeasureFn, MeasureSpec, ScoreUndefined, get_measure

log = logging.getLogger(__name__)

#: The measures that get a proxy predictor (registry name = measure name).
PROXY_MEASURES = ("jacov", "synflow", "snip", "grasp", "fisher", "grad_norm", "nwot",
                  "epe_nas", "zen", "l2_norm", "plain", "zico", "meco", "swap", "tenas_ntk",
                  "tenas_lr")
#: Batch sizes of the quick preset where the paper's makes a measure cost seconds per network
#: on a CPU core (tenas_ntk is one backward pass per sample).
QUICK_BATCH = {"zico": 32, "tenas_ntk": 8, "az_nas": 16}
#: Where a proxy's scores come from (``ZeroCostProxy.source``).
SOURCES = ("live", "table")
# Importing the measure modules above registers the measures; keep the names referenced.
_MEASURE_MODULES = (data_free_measures, gradient_measures, jacobian_measures, recent_measures)


class ZeroCostProxy(Predictor):
    """Base class: subclasses set ``measure``; see the module docstring for the protocol."""

    measure: ClassVar[str] = ""
    needs = DataNeeds(labels=False, live=True, network=True)
    conformance_params: ClassVar[dict[str, Any]] = {"batch_size": 8}
    param_bounds: ClassVar[dict[str, Interval]] = {
        "batch_size": COUNT, "batch_seed": NON_NEGATIVE, "init_seed": NON_NEGATIVE}

    #: Per space name: network settings replaced where the configuration has them (a measure
    #: defined on a thinner copy of the network, e.g. TE-NAS's linear regions).
    network_overrides: ClassVar[dict[str, dict[str, Any]]] = {}
    #: Per space name: keyword options of the measure.
    measure_options: ClassVar[dict[str, dict[str, Any]]] = {}

    #: The ``quick`` preset reads the benchmark's tabulated scores of the measure, where it has
    #: them (the sweep falls back to computing them live where it does not).
    quick_params: ClassVar[dict[str, Any]] = {"source": "table"}

    batch_size: int = 64
    batch_seed: int | None = None
    init_seed: int | None = None
    #: ``live`` computes the measure on real networks; ``table`` reads the benchmark's
    #: tabulated ``zc_<measure>`` scores (computed once, with fixed seeds, on the same cells)
    #: and is charged the tabulated time they took, as ``zc_table`` is.
    source: str = "live"

    # --- protocol ---------------------------------------------------------------------------
    def _source(self) -> str:
        """``source``, checked."""
        if self.source not in SOURCES:
            raise ValueError(f"{self.name}: unknown source {self.source!r}; use one of "
                             f"{', '.join(SOURCES)}")
        return self.source

    def _table(self) -> Predictor | None:
        """The tabulated reader this proxy delegates to, or None when it computes live."""
        if self._source() == "live":
            return None
        return make("zc_table", measure=self.measure)

    def data_needs(self) -> DataNeeds:
        """Live data and networks, or the tabulated score and its time (``source='table'``)."""
        table = self._table()
        return self.needs if table is None else table.data_needs()

    def _fit(self, ctx: FitContext) -> None:
        if int(self.batch_size) < 1:
            raise ValueError(f"{self.name}: batch_size must be at least 1, got {self.batch_size}")
        self.failures_: dict[str, str] = {}
        self.table_ = self._table()
        if self.table_ is not None:
            self.table_.fit(ctx)

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        if self.table_ is not None:
            return self.table_.query(archs, ctx)
        spec = get_measure(self.measure)
        kwargs, shape = network_config(ctx.network, self.name)
        overrides = self.network_overrides.get(ctx.space.name, {})
        kwargs = {**kwargs, **{k: v for k, v in overrides.items() if k in kwargs}}
        self.options_ = dict(self.measure_options.get(ctx.space.name, {}))
        if not can_build(ctx.space):
            raise DataError(f"{self.name}: space {ctx.space.name!r} cannot build networks, so "
                            "live zero-cost proxies cannot run on it; use the tabulated "
                            "predictor 'zc_table' with precomputed scores instead")
        device = torch.device(ctx.device)
        drawn_init, drawn_batch = (int(v) for v in ctx.rng.integers(2**31, size=2))
        init_seed = drawn_init if self.init_seed is None else int(self.init_seed)
        batch_seed = drawn_batch if self.batch_seed is None else int(self.batch_seed)
        self.seeds_ = {"init_seed": init_seed, "batch_seed": batch_seed}
        inputs, targets = self._batch(spec, ctx, shape, batch_seed)
        loss_fn = nn.CrossEntropyLoss()
        scores: list[Any] = [None] * len(archs)
        layout = preferred_layout(device, inputs.dim())
        inputs = inputs.contiguous(memory_format=layout)
        for i, arch in enumerate(archs):
            net = build_network(ctx.space, arch, kwargs, init_seed)
            net = net.to(device=device, memory_format=layout)
            scores[i] = self._score_network(spec, arch, net, inputs, targets, loss_fn, device,
                                            batch_seed)
            del net
        return Prediction(self._combine(scores))

    # --- helpers ----------------------------------------------------------------------------
    def _batch(self, spec: MeasureSpec, ctx: QueryContext, shape: tuple[int, ...],
               batch_seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        if spec.data_free:
            return torch.zeros((int(self.batch_size), *shape)), None
        if ctx.live is None:
            raise DataError(f"{self.name} needs a live data source (ctx.live)")
        inputs, targets = ctx.live.batch("train", int(self.batch_size), batch_seed)
        return torch.as_tensor(inputs), torch.as_tensor(targets)

    def _score_network(self, spec: MeasureSpec, arch: Arch, net: nn.Module,
                       inputs: torch.Tensor, targets: torch.Tensor | None, loss_fn: nn.Module,
                       device: torch.device, batch_seed: int) -> Any:
        """One architecture's value (a float, NaN on failure); subclasses that score several
        quantities per network override it together with ``_combine``."""
        fn = functools.partial(spec.fn, **self.options_) if self.options_ else spec.fn
        return self._score(fn, arch, net, inputs, targets, loss_fn, device, batch_seed)

    def _combine(self, values: list[Any]) -> np.ndarray:
        """The query's predictions from the per-architecture values (here: the values)."""
        return np.asarray(values, dtype=np.float64)

    def _score(self, fn: MeasureFn, arch: Arch, net: nn.Module, inputs: torch.Tensor,
               targets: torch.Tensor | None, loss_fn: nn.Module, device: torch.device,
               batch_seed: int) -> float:
        size = inputs.shape[0]
        while True:
            x = inputs[:size].to(device)
            y = targets[:size].to(device) if targets is not None else None
            try:
                value = fn(net, x, y, loss_fn, seed=batch_seed)
            except torch.cuda.OutOfMemoryError:
                if size == 1:
                    return self._fail(arch, "CUDA out of memory even with a batch of 1")
                size = max(1, size // 2)
                log.warning("%s: CUDA out of memory on %s; retrying with batch size %d",
                            self.name, arch, size)
                torch.cuda.empty_cache()
                continue
            except (ScoreUndefined, torch.linalg.LinAlgError) as exc:
                return self._fail(arch, str(exc))
            if not math.isfinite(value):
                return self._fail(arch, f"non-finite value {value} (NaN or overflow)")
            return float(value)

    def _fail(self, arch: Arch, reason: str) -> float:
        key = _arch_text(arch)
        self.failures_[key] = reason
        log.warning("%s: no score for %s: %s", self.name, key, reason)
        return math.nan


def _arch_text(arch: Arch) -> str:
    try:
        return str(arch)
    except Exception:  # an Arch of an unregistered space still needs a readable key
        return repr(arch.spec)


def _proxy_class(measure_name: str) -> type[ZeroCostProxy]:
    spec = get_measure(measure_name)
    title = "".join(part.capitalize() for part in measure_name.split("_"))
    attrs: dict[str, Any] = {
        "measure": measure_name,
        "__doc__": f"Zero-cost proxy ``{measure_name}``.\n\n{spec.fn.__doc__ or ''}",
        "__module__": __name__,
        "__qualname__": f"{title}Proxy",
    }
    if spec.data_free:
        attrs["needs"] = DataNeeds(labels=False, network=True)
    if measure_name == "epe_nas":  # needs two samples of a class in the minibatch
        attrs["conformance_params"] = {"batch_size": 16}
    if measure_name in recent_measures.RECOMMENDED_BATCH:  # the paper's batch size by default
        attrs["__annotations__"] = {"batch_size": "int"}
        attrs["batch_size"] = recent_measures.RECOMMENDED_BATCH[measure_name]
    if measure_name in QUICK_BATCH:  # the first run's preset: a smaller batch
        attrs["quick_params"] = {**ZeroCostProxy.quick_params,
                                 "batch_size": QUICK_BATCH[measure_name]}
    if measure_name == "tenas_lr":
        attrs["network_overrides"] = recent_measures.TENAS_LR_NETWORK
        attrs["measure_options"] = recent_measures.TENAS_LR_OPTIONS
    cls = type(f"{title}Proxy", (ZeroCostProxy,), attrs)
    return register(measure_name, family="zero_cost")(cls)


for _name in PROXY_MEASURES:
    _cls = _proxy_class(_name)
    globals()[_cls.__name__] = _cls


@register("az_nas", family="zero_cost")
class AzNasProxy(ZeroCostProxy):
    """AZ-NAS (Lee & Ham, CVPR 2024): rank aggregation of four zero-cost components.

    Every queried architecture's network gets expressivity, progressivity and trainability
    (``predictors.zero_cost.recent_measures.az_components``, one forward and a few backward
    passes on one minibatch) and complexity (FLOPs of one input). As in AZ-NAS, the candidates
    are ranked by each component in ascending order (rank 1 = smallest, ties share their mean
    rank, ``-inf`` ranks first) and each scores ``sum over components of log(rank / n)``.
    In this per-query setting the candidate set is the architectures of one ``query`` call, so
    scores are comparable only within a query: a query of one architecture scores 0. An
    architecture whose components cannot be computed is NaN and left out of the ranking.

    Since the score is a property of the query, a benchmark tabulates the four components of
    each architecture instead (``zc_az_nas_<component>``: the values, or any order-preserving
    transform such as the ranks ``predbench build merge`` stores; with their compute time
    ``zc_az_nas_time``); ``source="table"`` ranks the tabulated components of the queried
    architectures exactly as the live proxy ranks the ones it computes, so both give the same
    scores for the same architectures and seeds. ``components_`` holds the last query's
    components (None where undefined).
    """

    measure = "az_expressivity"  # the components' registered measure (for ``needs``/docs)
    #: Scores rank the architectures of one query against each other: score them together.
    ranks_within_query: ClassVar[bool] = True
    quick_params: ClassVar[dict[str, Any]] = {**ZeroCostProxy.quick_params,
                                              "batch_size": QUICK_BATCH["az_nas"]}
    batch_size: int = recent_measures.RECOMMENDED_BATCH["az_nas"]

    COMPONENTS: ClassVar[tuple[str, ...]] = ("expressivity", "progressivity", "trainability",
                                             "complexity")
    #: The name its tabulated columns carry (``zc_az_nas_<component>``, ``zc_az_nas_time``).
    TABLE_NAME: ClassVar[str] = "az_nas"

    @classmethod
    def component_columns(cls) -> tuple[str, ...]:
        """The benchmark's static columns of the tabulated components."""
        return tuple(f"{tabulated.PREFIX}{cls.TABLE_NAME}_{c}" for c in cls.COMPONENTS)

    def _table(self) -> Predictor | None:
        self._source()
        return None  # the table source ranks the tabulated components itself (``_query``)

    def data_needs(self) -> DataNeeds:
        """Live data and networks, or the tabulated components and their time."""
        if self._source() == "live":
            return self.needs
        time = f"{tabulated.PREFIX}{self.TABLE_NAME}{tabulated.TIME_SUFFIX}"
        return DataNeeds(labels=False, properties=self.component_columns(),
                         cost_properties=(time,))

    def _query(self, archs: list[Arch], ctx: QueryContext) -> Prediction:
        if self.source == "live":
            return super()._query(archs, ctx)
        return Prediction(self._combine(self._tabulated(archs, ctx)))

    def _tabulated(self, archs: list[Arch], ctx: QueryContext) -> list[dict[str, float] | None]:
        """The queried architectures' tabulated components (None where one is NaN)."""
        columns = self.component_columns()
        missing = [c for c in columns if c not in ctx.properties]
        if missing:
            raise DataError(f"{self.name}: the benchmark tabulates no {', '.join(missing)}; "
                            "score the components with `predbench build zero-cost --measures "
                            "az_nas` and merge, or use source='live'")
        table = np.stack([np.asarray(ctx.properties[c], dtype=float).reshape(-1)
                          for c in columns], axis=1)
        if table.shape[0] != len(archs):
            raise DataError(f"{self.name}: {table.shape[0]} tabulated rows of components for "
                            f"{len(archs)} architectures")
        return [None if np.isnan(row).any()
                else dict(zip(self.COMPONENTS, map(float, row), strict=True)) for row in table]

    def _score_network(self, spec: MeasureSpec, arch: Arch, net: nn.Module,
                       inputs: torch.Tensor, targets: torch.Tensor | None, loss_fn: nn.Module,
                       device: torch.device, batch_seed: int) -> dict[str, float] | None:
        found: dict[str, float] = {}

        def components(net: nn.Module, x: torch.Tensor, y, loss_fn, seed: int = 0) -> float:
            found.update(recent_measures.az_components(net, x, seed))
            return 0.0 if not any(math.isnan(v) for v in found.values()) else math.nan

        if math.isnan(self._score(components, arch, net, inputs, targets, loss_fn, device,
                                  batch_seed)):
            return None
        found["complexity"] = float(count_flops(net, tuple(inputs.shape[1:])))
        return found

    def _combine(self, values: list[Any]) -> np.ndarray:
        from scipy.stats import rankdata

        self.components_ = list(values)
        ok = [i for i, v in enumerate(values) if v is not None]
        out = np.full(len(values), np.nan)
        if ok:
            total = np.zeros(len(ok))
            for name in self.COMPONENTS:
                total += np.log(rankdata([values[i][name] for i in ok]) / len(ok))
            out[ok] = total
        return out
