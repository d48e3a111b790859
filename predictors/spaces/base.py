"""Search-space protocol shared by every space: architectures, canonical forms, cell graphs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np


class ArchError(ValueError):
    """An architecture string or value is malformed for its search space."""


@dataclass(frozen=True, order=True)
class Arch:
    """A frozen, hashable architecture: the space it belongs to and its exact spec.

    ``spec`` is a tuple of plain values (ints/strings/nested tuples). Two isomorphic cells are
    different ``Arch`` values (a benchmark trains them separately) but share one
    ``SearchSpace.canonical`` form.
    """

    space: str
    spec: tuple

    def __str__(self) -> str:  # human-readable, round-trips through the space
        from predictors.spaces import get_space

        return get_space(self.space).to_string(self)


@dataclass(frozen=True)
class CellGraph:
    """A cell as an operation-on-node DAG: the common view every generic encoding works on.

    ``adjacency[i, j] == 1`` means an edge from node i to node j (i < j, topological order);
    node 0 is the input and the last node the output. ``ops[i]`` names node i's operation, with
    ``"input"`` and ``"output"`` at the ends; ``vocabulary`` lists the space's operation names
    (without input/output) in a fixed order, so one-hot encodings have a fixed width.
    """

    adjacency: np.ndarray
    ops: tuple[str, ...]
    vocabulary: tuple[str, ...]

    @property
    def num_nodes(self) -> int:
        return len(self.ops)


class SearchSpace(ABC):
    """A NAS search space: sampling, mutation, neighbourhoods, canonical forms, graphs."""

    name: str

    # --- identity and parsing -------------------------------------------------------------
    @abstractmethod
    def from_string(self, text: str) -> Arch:
        """Parse the space's string form; raise ``ArchError`` naming the problem."""

    @abstractmethod
    def to_string(self, arch: Arch) -> str:
        """The space's string form of ``arch`` (inverse of ``from_string``)."""

    @abstractmethod
    def validate(self, arch: Arch) -> None:
        """Raise ``ArchError`` if ``arch`` is not a member of this space."""

    @abstractmethod
    def canonical(self, arch: Arch) -> Hashable:
        """A key shared by exactly the architectures that compute the same function."""

    # --- search operators -----------------------------------------------------------------
    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Arch:
        """One architecture drawn uniformly from the space's encoding."""

    @abstractmethod
    def neighbours(self, arch: Arch) -> list[Arch]:
        """All architectures one elementary change away from ``arch``."""

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """A uniformly chosen neighbour of ``arch``."""
        options = self.neighbours(arch)
        if not options:
            raise ArchError(f"{arch} has no neighbours in space {self.name!r}")
        return options[int(rng.integers(len(options)))]

    def enumerate(self) -> Iterator[Arch]:
        """Every architecture of the space, where the space is small enough to list."""
        raise NotImplementedError(f"space {self.name!r} is too large to enumerate")

    # --- structure --------------------------------------------------------------------------
    @abstractmethod
    def cell_graphs(self, arch: Arch) -> Sequence[CellGraph]:
        """The architecture's cells as op-on-node DAGs (one for most spaces, two for DARTS)."""

    def to_network(self, arch: Arch, **kwargs):  # -> torch.nn.Module
        """Build a real, trainable torch module for ``arch``."""
        raise NotImplementedError(f"space {self.name!r} has no network builder")

    def check(self, arch: Arch) -> Arch:
        """Validate ``arch`` belongs to this space and return it (for fluent use)."""
        if not isinstance(arch, Arch):
            raise ArchError(f"expected an Arch, got {type(arch).__name__}")
        if arch.space != self.name:
            raise ArchError(f"architecture belongs to space {arch.space!r}, not {self.name!r}")
        self.validate(arch)
        return arch
