"""DARTS / NAS-Bench-301 genotype space: a normal and a reduction cell.

Each cell has two inputs (0: c_{k-2}, 1: c_{k-1}) and four intermediate nodes 2..5; node ``j``
sums two ``(op, input)`` pairs with distinct inputs from ``0..j-1``; the cell outputs the
concatenation of the four intermediate nodes. Seven operations (DARTS primitives without
``none``), in NAS-Bench-301's order.

``Arch.spec = (normal, reduce)``, each a tuple of 8 ``(op, input)`` pairs (two per node).
String form: ``"sep_conv_3x3~0,skip_connect~1|...|...|...;<reduce cell likewise>"``.
"""

from __future__ import annotations

import ast
from collections.abc import Hashable

import numpy as np

from predictors.spaces.base import Arch, ArchError, CellGraph, SearchSpace

OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
NUM_NODES = 4  # intermediate nodes per cell
CELLS = ("normal", "reduce")
#: Op-on-node view: input (c_{k-2}), input_1 (c_{k-1}), 8 op nodes, output.
GRAPH_VOCAB: tuple[str, ...] = ("input_1", *OPS)


def _cell_to_string(cell: tuple) -> str:
    pairs = [f"{op}~{src}" for op, src in cell]
    return "|".join(",".join(pairs[2 * k : 2 * k + 2]) for k in range(NUM_NODES))


class DartsSpace(SearchSpace):
    """The DARTS genotype space (the NAS-Bench-301 space)."""

    name = "darts"
    max_nodes = 2 + 2 * NUM_NODES + 1

    # --- parsing ------------------------------------------------------------------------------
    def _parse_cell(self, text: str, whole: str) -> tuple:
        nodes = text.strip().split("|")
        if len(nodes) != NUM_NODES:
            raise ArchError(
                f"malformed DARTS string {whole!r}: a cell needs {NUM_NODES} '|'-separated "
                "nodes of two 'op~input' pairs, e.g. sep_conv_3x3~0,skip_connect~1|..."
            )
        pairs = []
        for node in nodes:
            items = node.split(",")
            if len(items) != 2:
                raise ArchError(f"malformed DARTS string {whole!r}: node {node!r} needs 2 pairs")
            for item in items:
                op, sep, src = item.strip().partition("~")
                if not sep or not src.isdigit():
                    raise ArchError(f"malformed DARTS string {whole!r}: pair {item!r} should "
                                    "read '<op>~<input>'")
                pairs.append((op, int(src)))
        return tuple(pairs)

    def from_string(self, text: str) -> Arch:
        if not isinstance(text, str):
            raise ArchError(f"DARTS string must be str, got {type(text).__name__}")
        parts = text.strip().split(";")
        if len(parts) != 2:
            raise ArchError(f"malformed DARTS string {text!r}: expected 'normal;reduce' cells")
        arch = Arch(self.name, tuple(self._parse_cell(p, text) for p in parts))
        self.validate(arch)
        return arch

    def to_string(self, arch: Arch) -> str:
        return ";".join(_cell_to_string(c) for c in arch.spec)

    def from_compact(self, compact) -> Arch:
        """NASLib's compact form: per cell 8 ``(input, op_index)`` pairs (op order as ``OPS``),
        or its printed form, e.g. ``"[[(0, 5), (1, 2), ...], [...]]"``."""
        if isinstance(compact, str):
            try:
                compact = ast.literal_eval(compact.strip())
            except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
                raise ArchError(f"malformed DARTS compact form {compact!r:.80}") from exc
        try:
            spec = tuple(
                tuple((OPS[int(op)], int(src)) for src, op in cell) for cell in compact
            )
        except (TypeError, ValueError, IndexError) as exc:
            raise ArchError(f"malformed DARTS compact form {compact!r}") from exc
        arch = Arch(self.name, spec)
        self.validate(arch)
        return arch

    def validate(self, arch: Arch) -> None:
        spec = arch.spec
        if not (isinstance(spec, tuple) and len(spec) == len(CELLS)):
            raise ArchError(f"not a DARTS genotype: {spec!r} (need normal and reduce cells)")
        for name, cell in zip(CELLS, spec, strict=True):
            if len(cell) != 2 * NUM_NODES:
                raise ArchError(f"DARTS {name} cell needs {2 * NUM_NODES} pairs, got {len(cell)}")
            for k in range(NUM_NODES):
                (op_a, a), (op_b, b) = cell[2 * k], cell[2 * k + 1]
                for op, src in ((op_a, a), (op_b, b)):
                    if op not in OPS:
                        raise ArchError(f"unknown DARTS op {op!r} in {name} cell; known: {OPS}")
                    if not 0 <= src < k + 2:
                        raise ArchError(f"DARTS {name} node {k + 2} reads node {src}; it can "
                                        f"only read 0..{k + 1}")
                if a == b:
                    raise ArchError(f"DARTS {name} node {k + 2} reads node {a} twice; its two "
                                    "inputs must differ")

    def canonical(self, arch: Arch) -> Hashable:
        """Genotype with each node's two (op, input) pairs sorted: their order is irrelevant."""
        return tuple(
            tuple(tuple(sorted(cell[2 * k : 2 * k + 2])) for k in range(NUM_NODES))
            for cell in arch.spec
        )

    # --- search operators ---------------------------------------------------------------------
    def _sample_cell(self, rng: np.random.Generator) -> tuple:
        pairs = []
        for k in range(NUM_NODES):
            a, b = rng.choice(k + 2, size=2, replace=False)
            for src in (a, b):
                pairs.append((OPS[int(rng.integers(len(OPS)))], int(src)))
        return tuple(pairs)

    def sample(self, rng: np.random.Generator) -> Arch:
        return Arch(self.name, (self._sample_cell(rng), self._sample_cell(rng)))

    def neighbours(self, arch: Arch) -> list[Arch]:
        """Genotypes with one pair's op or one pair's input changed (inputs kept distinct)."""
        out, seen = [], {self.canonical(arch)}
        for c, cell in enumerate(arch.spec):
            for p, (op, src) in enumerate(cell):
                k = p // 2
                other = cell[p ^ 1][1]
                options = [(o, src) for o in OPS if o != op]
                options += [(op, s) for s in range(k + 2) if s not in (src, other)]
                for pair in options:
                    new_cell = cell[:p] + (pair,) + cell[p + 1 :]
                    spec = arch.spec[:c] + (new_cell,) + arch.spec[c + 1 :]
                    cand = Arch(self.name, spec)
                    key = self.canonical(cand)
                    if key not in seen:
                        seen.add(key)
                        out.append(cand)
        return out

    # --- structure ----------------------------------------------------------------------------
    def cell_graphs(self, arch: Arch) -> list[CellGraph]:
        """Per cell: input (c_{k-2}), input_1 (c_{k-1}), 8 op nodes, output (11 nodes).

        ``input -> input_1`` records that c_{k-1} is computed from c_{k-2}; an op node reading
        intermediate node ``j`` has edges from both op nodes of ``j``; every op node feeds the
        output (the cell concatenates all intermediate nodes).
        """
        n = self.max_nodes
        graphs = []
        for cell in arch.spec:
            adj = np.zeros((n, n), dtype=np.int8)
            adj[0, 1] = 1
            for p, (_, src) in enumerate(cell):
                node = 2 + p
                if src < 2:
                    adj[src, node] = 1
                else:
                    first = 2 + 2 * (src - 2)
                    adj[first, node] = adj[first + 1, node] = 1
                adj[node, n - 1] = 1
            ops = ("input", "input_1", *(op for op, _ in cell), "output")
            graphs.append(CellGraph(adj, ops, GRAPH_VOCAB))
        return graphs

    def to_network(self, arch: Arch, **kwargs):
        """NASLib's NAS-Bench-301 network; see ``predictors.spaces.darts_net.DartsNetwork``."""
        from predictors.spaces.darts_net import DartsNetwork

        self.check(arch)
        normal, reduce = arch.spec
        return DartsNetwork(normal, reduce, **kwargs)
