"""NAS-Bench-Graph space: four GNN layers, each reading one earlier node (26,206 architectures).

An architecture is a *link* vector (``link[i]`` = the node layer ``i`` reads: 0 is the raw input,
``k`` the output of layer ``k``) and one operation per layer. Layers nobody reads (leaves) feed the
output. The benchmark tabulates one representative per equivalence class of the package's own
key (``nas_bench_graph.Arch.valid_hash``); ``normalize`` maps any writing to that representative,
so sampling, mutation and neighbours never leave the tabulated set.

String form: ``"0,0,1,2|gcn,gat,skip,fc"`` (links, then ops).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterator
from functools import cached_property

import numpy as np

from predictors.spaces.base import Arch, ArchError, CellGraph, SearchSpace

OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
PROTEINS_OPS: tuple[str, ...] = ("gcn", "sage", "arma", "fc", "skip")
#: The nine link structures the package tabulates, in the order of its integer key.
LINKS: tuple[tuple[int, ...], ...] = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)
NUM_LAYERS = 4


def _package_arch():
    try:
        from nas_bench_graph.architecture import Arch as PackageArch
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise ImportError(
            "the NAS-Bench-Graph space needs the package 'nas-bench-graph' "
            "(pip install nas-bench-graph)"
        ) from exc
    return PackageArch


def decode_key(key: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """(links, ops) of the package's integer key: link index, then one base-10 digit per op."""
    key = int(key)
    digits = []
    for _ in range(NUM_LAYERS):
        key, d = divmod(key, len(OPS) + 1)
        digits.append(d)
    if not 0 <= key < len(LINKS) or any(d >= len(OPS) for d in digits):
        raise ArchError(f"{key} is not a NAS-Bench-Graph architecture key")
    return LINKS[key], tuple(OPS[d] for d in reversed(digits))


def encode_key(link: tuple[int, ...], ops: tuple[str, ...]) -> int:
    """Inverse of ``decode_key`` for a tabulated representative."""
    key = LINKS.index(tuple(link))
    for op in ops:
        key = key * (len(OPS) + 1) + OPS.index(op)
    return key


class NBGraphSpace(SearchSpace):
    """The NAS-Bench-Graph space; ``Arch.spec = (links, ops)`` of a tabulated representative."""

    max_nodes = NUM_LAYERS + 2

    def __init__(self, name: str = "nbgraph", ops: tuple[str, ...] = OPS) -> None:
        self.name = name
        self.ops = tuple(ops)

    # --- parsing ------------------------------------------------------------------------------
    def _parse(self, text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
        example = "0,0,1,2|gcn,gat,skip,fc"
        if not isinstance(text, str):
            raise ArchError(f"NAS-Bench-Graph string must be str, got {type(text).__name__}")
        left, sep, right = text.strip().partition("|")
        try:
            link = tuple(int(v) for v in left.split(","))
        except ValueError:
            link = ()
        ops = tuple(v.strip() for v in right.split(","))
        if not sep or len(link) != NUM_LAYERS or len(ops) != NUM_LAYERS:
            raise ArchError(
                f"malformed NAS-Bench-Graph string {text!r}: expected four links and four ops, "
                f"e.g. {example!r}"
            )
        self._check_parts(link, ops, text)
        return link, ops

    def _check_parts(self, link: tuple[int, ...], ops: tuple[str, ...], what: object) -> None:
        if any(not 0 <= lk <= i for i, lk in enumerate(link)):
            raise ArchError(f"{what!r}: layer i can only read nodes 0..i, got links {link}")
        bad = [op for op in ops if op not in self.ops]
        if bad:
            raise ArchError(f"{what!r}: unknown op(s) {bad}; space {self.name!r} has {self.ops}")
        if all(op == "skip" for op in ops):
            raise ArchError(f"{what!r}: an all-skip network is not part of NAS-Bench-Graph")

    def from_string(self, text: str) -> Arch:
        """Parse ``"links|ops"``; an equivalent writing resolves to the tabulated one."""
        return self.make(*self._parse(text))

    def to_string(self, arch: Arch) -> str:
        link, ops = arch.spec
        return ",".join(map(str, link)) + "|" + ",".join(ops)

    def make(self, link, ops) -> Arch:
        """The tabulated representative of the network with these links and ops."""
        link, ops = tuple(int(v) for v in link), tuple(ops)
        if len(link) != NUM_LAYERS or len(ops) != NUM_LAYERS:
            raise ArchError(f"NAS-Bench-Graph needs four links and four ops, got {link}, {ops}")
        self._check_parts(link, ops, (link, ops))
        return Arch(self.name, self.normalize(link, ops))

    def normalize(
        self, link: tuple[int, ...], ops: tuple[str, ...]
    ) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The representative (links, ops) the benchmark tabulates for this network."""
        return decode_key(_package_arch()(list(link), list(ops)).valid_hash())

    def from_key(self, key: int) -> Arch:
        """The architecture of the package's integer key (as used in its ``.bench`` tables)."""
        link, ops = decode_key(key)
        self._check_parts(link, ops, key)
        return Arch(self.name, (link, ops))

    def validate(self, arch: Arch) -> None:
        spec = arch.spec
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise ArchError(f"not a NAS-Bench-Graph spec: {spec!r} (need (links, ops))")
        link, ops = spec
        if len(link) != NUM_LAYERS or len(ops) != NUM_LAYERS:
            raise ArchError(f"not a NAS-Bench-Graph spec: {spec!r} (need four links and ops)")
        self._check_parts(link, ops, spec)
        if (tuple(link), tuple(ops)) not in self._member_set:
            raise ArchError(
                f"{spec!r} is not a tabulated representative; build it with space.make(link, ops)"
            )

    # --- canonical form -----------------------------------------------------------------------
    def canonical(self, arch: Arch) -> Hashable:
        """Sorted multiset of the functions computed by the leaves feeding the output.

        ``skip`` passes its input through; a leaf that is the raw input itself (a chain of skips
        from node 0) does not reach the output (it has the input's width), as in the package's
        key. Every tabulated class maps to one form; functionally equal classes the package
        keeps apart (e.g. a skip leaf duplicating a sibling) share a form here.
        """
        link, ops = arch.spec
        values = ["x"]
        for i in range(NUM_LAYERS):
            src = values[link[i]]
            values.append(src if ops[i] == "skip" else f"{ops[i]}({src})")
        read = set(link)
        leaves = [values[i + 1] for i in range(NUM_LAYERS) if i + 1 not in read]
        return "+".join(sorted(v for v in leaves if v != "x"))

    # --- members and search operators ---------------------------------------------------------
    @cached_property
    def _members(self) -> list[tuple[tuple[int, ...], tuple[str, ...]]]:
        out = []
        for link in LINKS:
            for ops in itertools.product(self.ops, repeat=NUM_LAYERS):
                if all(op == "skip" for op in ops):
                    continue
                if self.normalize(link, ops) == (link, ops):
                    out.append((link, ops))
        return out

    @cached_property
    def _member_set(self) -> frozenset:
        return frozenset(self._members)

    def enumerate(self) -> Iterator[Arch]:
        for spec in self._members:
            yield Arch(self.name, spec)

    def sample(self, rng: np.random.Generator) -> Arch:
        """Uniform over the tabulated representatives."""
        return Arch(self.name, self._members[int(rng.integers(len(self._members)))])

    def neighbours(self, arch: Arch) -> list[Arch]:
        """Representatives one op change or one re-wired link away (duplicates removed)."""
        link, ops = arch.spec
        seen = {arch.spec}
        out: list[Arch] = []

        def add(new_link: tuple[int, ...], new_ops: tuple[str, ...]) -> None:
            if all(op == "skip" for op in new_ops):
                return
            spec = self.normalize(new_link, new_ops)
            if spec not in seen:
                seen.add(spec)
                out.append(Arch(self.name, spec))

        for i in range(NUM_LAYERS):
            for op in self.ops:
                if op != ops[i]:
                    add(link, ops[:i] + (op,) + ops[i + 1 :])
            for src in range(i + 1):
                if src != link[i]:
                    add(link[:i] + (src,) + link[i + 1 :], ops)
        return out

    # --- structure ----------------------------------------------------------------------------
    def cell_graphs(self, arch: Arch) -> list[CellGraph]:
        """input, the four layers (their ops), output; leaves feed the output."""
        link, ops = arch.spec
        n = NUM_LAYERS + 2
        adj = np.zeros((n, n), dtype=np.int8)
        for i, src in enumerate(link):
            adj[src, i + 1] = 1
        read = set(link)
        for i in range(NUM_LAYERS):
            if i + 1 not in read:
                adj[i + 1, n - 1] = 1
        return [CellGraph(adj, ("input", *ops, "output"), self.ops)]
