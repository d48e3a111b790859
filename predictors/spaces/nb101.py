"""NAS-Bench-101 cell space: DAGs of at most 7 nodes and 9 edges, 3 operations on nodes.

``Arch.spec = (matrix, ops)``: ``matrix`` a tuple of row tuples (upper-triangular 0/1), ``ops``
the node labels with ``input`` first and ``output`` last. Specs are stored *pruned*: nodes not on
an input->output path are removed (they do not affect the network), so every ``Arch`` names a
connected cell. The canonical form is a graph hash invariant to node relabelling.

String form: ``"0110000,0001000,...|input,conv3x3-bn-relu,...,output"`` (matrix rows as bit
strings, then the ops).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence

import numpy as np

from predictors.spaces.base import Arch, ArchError, CellGraph, SearchSpace

OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT, OUTPUT = "input", "output"
MAX_NODES = 7
MAX_EDGES = 9
#: NASLib's op numbering in its NB101 tuple key (flattened 7x7 matrix, then one index per node).
NASLIB_OPS: tuple[str, ...] = (INPUT, OUTPUT, "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")


def prune(matrix: np.ndarray, ops: Sequence[str]) -> tuple[np.ndarray, list[str]] | None:
    """Drop nodes not on an input->output path; ``None`` if the output is unreachable."""
    n = len(ops)
    fwd, stack = {0}, [0]
    while stack:
        i = stack.pop()
        for j in np.flatnonzero(matrix[i]):
            if j not in fwd:
                fwd.add(int(j))
                stack.append(int(j))
    bwd, stack = {n - 1}, [n - 1]
    while stack:
        j = stack.pop()
        for i in np.flatnonzero(matrix[:, j]):
            if i not in bwd:
                bwd.add(int(i))
                stack.append(int(i))
    keep = sorted(fwd & bwd)
    if n - 1 not in keep or 0 not in keep:
        return None
    return matrix[np.ix_(keep, keep)], [ops[i] for i in keep]


def graph_hash(matrix: np.ndarray, ops: Sequence[str], rounds: int | None = None) -> str:
    """Hash equal for isomorphic labelled DAGs (iterative neighbourhood hashing).

    Each node starts from its label, in-degree and out-degree; every round replaces a node's
    hash by the hash of its own, its sorted predecessors' and its sorted successors' hashes.
    After ``n`` rounds information from every node has reached every other along the DAG.
    """
    n = len(ops)
    rounds = n if rounds is None else rounds

    def h(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    labels = [h(f"{ops[i]}/{int(matrix[:, i].sum())}/{int(matrix[i].sum())}") for i in range(n)]
    for _ in range(rounds):
        labels = [
            h(
                "|".join(
                    (
                        ",".join(sorted(labels[j] for j in np.flatnonzero(matrix[:, i]))),
                        labels[i],
                        ",".join(sorted(labels[j] for j in np.flatnonzero(matrix[i]))),
                    )
                )
            )
            for i in range(n)
        ]
    return h(",".join(sorted(labels)))


class NB101Space(SearchSpace):
    """The NAS-Bench-101 space (pruned specs; graph-hash canonical form)."""

    name = "nb101"
    max_nodes = MAX_NODES

    # --- construction and parsing -------------------------------------------------------------
    def make(self, matrix, ops: Sequence[str]) -> Arch:
        """Prune and validate a spec; raise ``ArchError`` if it is not a valid NB101 cell."""
        m = np.asarray(matrix, dtype=np.int8)
        ops = list(ops)
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(ops):
            raise ArchError(f"NB101 matrix {m.shape} does not match {len(ops)} ops")
        self._check_raw(m, ops)
        pruned = prune(m, ops)
        if pruned is None:
            raise ArchError("NB101 cell has no path from input to output")
        pm, pops = pruned
        if int(pm.sum()) > MAX_EDGES:
            raise ArchError(f"NB101 cell has {int(pm.sum())} edges; at most {MAX_EDGES} allowed")
        return Arch(self.name, (tuple(tuple(int(v) for v in row) for row in pm), tuple(pops)))

    def _check_raw(self, m: np.ndarray, ops: list[str]) -> None:
        n = len(ops)
        if not 2 <= n <= MAX_NODES:
            raise ArchError(f"NB101 cell needs 2..{MAX_NODES} nodes, got {n}")
        if np.any(np.tril(m) != 0) or not np.isin(m, (0, 1)).all():
            raise ArchError("NB101 matrix must be 0/1 and strictly upper-triangular")
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise ArchError(f"NB101 ops must start with {INPUT!r} and end with {OUTPUT!r}")
        bad = [op for op in ops[1:-1] if op not in OPS]
        if bad:
            raise ArchError(f"unknown NB101 op(s) {bad}; known: {OPS}")

    def from_string(self, text: str) -> Arch:
        example = "011,001,000|input,conv3x3-bn-relu,output"
        if not isinstance(text, str):
            raise ArchError(f"NB101 string must be str, got {type(text).__name__}")
        rows, sep, ops = text.strip().partition("|")
        row_list = rows.split(",")
        op_list = ops.split(",")
        if not sep or any(len(r) != len(row_list) or set(r) - {"0", "1"} for r in row_list):
            raise ArchError(
                f"malformed NB101 string {text!r}: expected square 0/1 rows, '|', ops, "
                f"e.g. {example!r}"
            )
        matrix = [[int(c) for c in r] for r in row_list]
        if len(op_list) != len(matrix):
            raise ArchError(f"malformed NB101 string {text!r}: {len(matrix)} rows but "
                            f"{len(op_list)} ops")
        return self.make(matrix, op_list)

    def from_naslib_tuple(self, key: Sequence[int] | str) -> Arch:
        """Parse NASLib's tuple key (as NAS-Bench-Suite-Zero uses it): the flattened 7x7
        adjacency matrix followed by the seven op indices into ``NASLIB_OPS``."""
        if isinstance(key, str):
            try:
                key = [int(v) for v in key.strip("()[] ").split(",")]
            except ValueError as exc:
                raise ArchError(f"malformed NB101 tuple key {key!r:.80}") from exc
        values = [int(v) for v in key]
        n = MAX_NODES
        if len(values) != n * n + n or any(not 0 <= v < len(NASLIB_OPS) for v in values[n * n:]):
            raise ArchError(f"NB101 tuple key needs {n * n} matrix entries and {n} op indices "
                            f"in 0..{len(NASLIB_OPS) - 1}, got {len(values)} values")
        matrix = np.array(values[: n * n]).reshape(n, n)
        return self.make(matrix, [NASLIB_OPS[v] for v in values[n * n:]])

    def to_string(self, arch: Arch) -> str:
        matrix, ops = arch.spec
        return ",".join("".join(map(str, r)) for r in matrix) + "|" + ",".join(ops)

    def validate(self, arch: Arch) -> None:
        spec = arch.spec
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise ArchError(f"not an NB101 spec: {spec!r} (need (matrix, ops))")
        if self.make(*spec) != arch:
            raise ArchError(f"NB101 spec {spec!r} is not pruned; build it with space.make()")

    def canonical(self, arch: Arch) -> Hashable:
        matrix, ops = arch.spec
        return graph_hash(np.asarray(matrix), ops)

    # --- search operators ---------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Arch:
        """NAS-Bench-101 style: random 7x7 upper-triangular matrix and ops until valid."""
        while True:
            m = np.triu(rng.integers(0, 2, size=(MAX_NODES, MAX_NODES)), 1)
            ops = [INPUT, *(OPS[int(i)] for i in rng.integers(len(OPS), size=MAX_NODES - 2)),
                   OUTPUT]
            try:
                return self.make(m, ops)
            except ArchError:
                continue

    def neighbours(self, arch: Arch) -> list[Arch]:
        """Valid cells one op change or one edge flip away (in the 7-node frame)."""
        matrix, ops = arch.spec
        n = len(ops)
        m = np.zeros((MAX_NODES, MAX_NODES), dtype=np.int8)
        m[: n - 1, : n - 1] = np.asarray(matrix)[: n - 1, : n - 1]
        m[: n - 1, MAX_NODES - 1] = np.asarray(matrix)[: n - 1, n - 1]
        full_ops = list(ops[:-1]) + [OPS[0]] * (MAX_NODES - n) + [OUTPUT]
        seen, out = {arch}, []

        def add(mm: np.ndarray, oo: list[str]) -> None:
            try:
                cand = self.make(mm, oo)
            except ArchError:
                return
            if cand not in seen:
                seen.add(cand)
                out.append(cand)

        for i in range(1, MAX_NODES - 1):
            for op in OPS:
                if op != full_ops[i]:
                    add(m, full_ops[:i] + [op] + full_ops[i + 1 :])
        for i in range(MAX_NODES):
            for j in range(i + 1, MAX_NODES):
                mm = m.copy()
                mm[i, j] = 1 - mm[i, j]
                add(mm, full_ops)
        return out

    # --- structure ----------------------------------------------------------------------------
    def cell_graphs(self, arch: Arch) -> list[CellGraph]:
        matrix, ops = arch.spec
        return [CellGraph(np.asarray(matrix, dtype=np.int8), tuple(ops), OPS)]

    def to_network(self, arch: Arch, **kwargs):
        """The NAS-Bench-101 CIFAR-10 network; see ``predictors.spaces.nb101_net``."""
        from predictors.spaces.nb101_net import NB101Network

        self.check(arch)
        matrix, ops = arch.spec
        return NB101Network(matrix, ops, **kwargs)
