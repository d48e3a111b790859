"""NAS-Bench-201 cell space: 4 nodes, 6 edges, 5 operations on edges (15,625 cells)."""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterator

import numpy as np

from predictors.spaces.base import Arch, ArchError, CellGraph, SearchSpace

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_NODES = 4
#: Edges in the order of the NAS-Bench-201 string ``|o~0|+|o~0|o~1|+|o~0|o~1|o~2|``.
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
#: NAS-Bench-Suite-Zero / AnalogNAS op-index form: its edge order and its op numbering.
INDEX_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
INDEX_OPS: tuple[str, ...] = (
    "skip_connect",
    "none",
    "nor_conv_3x3",
    "nor_conv_1x1",
    "avg_pool_3x3",
)


class NB201Space(SearchSpace):
    """The NAS-Bench-201 space. ``Arch.spec`` holds the six edge ops in string order."""

    name = "nb201"

    # --- parsing ------------------------------------------------------------------------------
    def from_string(self, text: str) -> Arch:
        example = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|"
        if not isinstance(text, str):
            raise ArchError(f"NB201 string must be str, got {type(text).__name__}")
        nodes = text.strip().split("+")
        if len(nodes) != NUM_NODES - 1:
            raise ArchError(
                f"malformed NB201 string {text!r}: expected 3 '+'-separated nodes, e.g. {example}"
            )
        ops: list[str] = []
        for target, node in enumerate(nodes, start=1):
            parts = [p for p in node.strip().strip("|").split("|")]
            if len(parts) != target:
                raise ArchError(
                    f"malformed NB201 string {text!r}: node {target} must list {target} "
                    f"input edge(s), got {len(parts)}; expected e.g. {example}"
                )
            for source, part in enumerate(parts):
                op, sep, idx = part.partition("~")
                if not sep or idx != str(source):
                    raise ArchError(
                        f"malformed NB201 string {text!r}: edge {part!r} should read "
                        f"'<op>~{source}'"
                    )
                if op not in OPS:
                    raise ArchError(
                        f"malformed NB201 string {text!r}: unknown op {op!r}; known ops: "
                        f"{', '.join(OPS)}"
                    )
                ops.append(op)
        return Arch(self.name, tuple(ops))

    def to_string(self, arch: Arch) -> str:
        ops = arch.spec
        return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*ops)

    def from_op_indices(self, indices: tuple[int, ...] | list[int] | str) -> Arch:
        """Parse the Suite-Zero/AnalogNAS form, e.g. ``(0, 2, 3, 2, 3, 1)`` or its string."""
        if isinstance(indices, str):
            try:
                indices = tuple(int(v) for v in indices.strip("()[] ").split(","))
            except ValueError as exc:
                raise ArchError(f"malformed NB201 op-index tuple {indices!r}") from exc
        indices = tuple(int(v) for v in indices)
        if len(indices) != 6 or any(not 0 <= v < len(INDEX_OPS) for v in indices):
            raise ArchError(f"NB201 op-index tuple needs six values in 0..4, got {indices!r}")
        by_edge = {edge: INDEX_OPS[v] for edge, v in zip(INDEX_EDGES, indices, strict=True)}
        return Arch(self.name, tuple(by_edge[e] for e in EDGES))

    def to_op_indices(self, arch: Arch) -> tuple[int, ...]:
        by_edge = dict(zip(EDGES, arch.spec, strict=True))
        return tuple(INDEX_OPS.index(by_edge[e]) for e in INDEX_EDGES)

    def validate(self, arch: Arch) -> None:
        spec = arch.spec
        if len(spec) != len(EDGES) or any(op not in OPS for op in spec):
            raise ArchError(f"not an NB201 cell: {spec!r} (need six ops from {OPS})")

    # --- canonical form -----------------------------------------------------------------------
    def canonical(self, arch: Arch) -> Hashable:
        """Expression of the output node after dropping ``none`` edges and dead inputs.

        Sums are flattened through ``skip_connect`` (skip(a+b) = a+b) and kept as sorted
        multisets, so cells that differ only by the order of summed terms or by pass-through
        skips share one form. A cell whose output never sees the input is ``"zero"``.
        """
        by_edge = dict(zip(EDGES, arch.spec, strict=True))
        terms: list[tuple[str, ...] | None] = [("x",)]
        for j in range(1, NUM_NODES):
            node_terms: list[str] = []
            for i in range(j):
                op, src = by_edge[(i, j)], terms[i]
                if op == "none" or src is None:
                    continue
                if op == "skip_connect":
                    node_terms.extend(src)
                else:
                    node_terms.append(f"{op}({'+'.join(src)})")
            terms.append(tuple(sorted(node_terms)) if node_terms else None)
        out = terms[-1]
        return "zero" if out is None else "+".join(out)

    # --- search operators ---------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Arch:
        return Arch(self.name, tuple(OPS[int(i)] for i in rng.integers(len(OPS), size=6)))

    def neighbours(self, arch: Arch) -> list[Arch]:
        out = []
        for pos, current in enumerate(arch.spec):
            for op in OPS:
                if op != current:
                    spec = list(arch.spec)
                    spec[pos] = op
                    out.append(Arch(self.name, tuple(spec)))
        return out

    def enumerate(self) -> Iterator[Arch]:
        for ops in itertools.product(OPS, repeat=len(EDGES)):
            yield Arch(self.name, ops)

    # --- structure ----------------------------------------------------------------------------
    def cell_graphs(self, arch: Arch) -> list[CellGraph]:
        """Op-on-node view: input, one node per edge (its op), output — 8 nodes."""
        n = len(EDGES) + 2
        adj = np.zeros((n, n), dtype=np.int8)
        for e, (src, dst) in enumerate(EDGES, start=1):
            if src == 0:
                adj[0, e] = 1
            if dst == NUM_NODES - 1:
                adj[e, n - 1] = 1
            for f, (src2, _) in enumerate(EDGES, start=1):
                if src2 == dst:
                    adj[e, f] = 1
        ops = ("input", *arch.spec, "output")
        return [CellGraph(adj, ops, OPS)]

    def to_network(self, arch: Arch, **kwargs):
        """A real NAS-Bench-201 network; see ``predictors.spaces.nb201_net.NB201Network``."""
        from predictors.spaces.nb201_net import NB201Network

        self.check(arch)
        return NB201Network(arch.spec, **kwargs)
