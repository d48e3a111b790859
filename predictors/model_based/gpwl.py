"""GP with a Weisfeiler-Lehman graph kernel (Ru et al. 2021), on the cell's op-on-node DAG.

Each cell graph is relabeled for ``h`` WL iterations (a node's new label combines its label with
the sorted labels of its predecessors and successors); the WL subtree kernel is the inner product
of label-count vectors, here cosine-normalized. A GP with that kernel (linear kernel on the
normalized counts, constant mean, Gaussian noise) is fitted by maximizing the marginal likelihood.

The WL vocabulary grows into the thousands of labels, more than there are training cells, so the
features are first expressed in the basis of their row space (a thin SVD): the kernel between
training cells and between training and query cells is unchanged, and one extra coordinate
carries the part of a query cell outside that space, so its prior variance is unchanged too.
Every marginal-likelihood step then costs O(n^2 r) with rank r <= n instead of O(n^2 d).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from predictors.base import DataNeeds
from predictors.model_based.base import derive_seed
from predictors.model_based.gp import GPyTorchPosterior, fit_exact_gp, gp_predict
from predictors.registry import register
from predictors.spaces.base import Arch, CellGraph, SearchSpace


def wl_labels(graph: CellGraph, h: int, prefix: str = "") -> Counter[str]:
    """Counts of the WL labels of ``graph`` over iterations 0..h."""
    adj = np.asarray(graph.adjacency)
    labels = [f"{prefix}{op}" for op in graph.ops]
    counts: Counter[str] = Counter(labels)
    preds = [np.flatnonzero(adj[:, i]) for i in range(len(labels))]
    succs = [np.flatnonzero(adj[i]) for i in range(len(labels))]
    for _ in range(h):
        labels = [
            "{}(<{}|>{})".format(
                labels[i],
                ",".join(sorted(labels[j] for j in preds[i])),
                ",".join(sorted(labels[j] for j in succs[i])),
            )
            for i in range(len(labels))
        ]
        counts.update(labels)
    return counts


class RowSpaceBasis:
    """Exact low-dimensional coordinates for a linear kernel fitted on ``train`` rows."""

    def __init__(self, train: np.ndarray, rtol: float = 1e-10) -> None:
        _, sv, vt = np.linalg.svd(train, full_matrices=False)
        keep = sv > rtol * (sv[0] if len(sv) else 0.0)
        self.basis = vt[keep].T  # d x r, orthonormal columns

    def train_coords(self, x: np.ndarray) -> np.ndarray:
        return np.hstack([x @ self.basis, np.zeros((len(x), 1))])

    def query_coords(self, x: np.ndarray) -> np.ndarray:
        inside = x @ self.basis
        rest = np.sum(x * x, axis=1) - np.sum(inside * inside, axis=1)
        return np.hstack([inside, np.sqrt(np.clip(rest, 0.0, None))[:, None]])


class WLFeatures:
    """Maps WL label counts to fixed-width, unit-norm vectors over the fitted vocabulary."""

    def __init__(self, counts: Sequence[Counter[str]]) -> None:
        vocab = sorted(set().union(*counts)) if counts else []
        self.index = {label: i for i, label in enumerate(vocab)}

    def transform(self, counts: Sequence[Counter[str]]) -> np.ndarray:
        out = np.zeros((len(counts), len(self.index)))
        for r, c in enumerate(counts):
            norm = np.sqrt(sum(v * v for v in c.values())) or 1.0  # unseen labels count too
            for label, v in c.items():
                j = self.index.get(label)
                if j is not None:
                    out[r, j] = v / norm
        return out


@register("gpwl", family="model_based")
class GPWLPredictor(GPyTorchPosterior):
    """GP regression with a Weisfeiler-Lehman subtree kernel (mean and std)."""

    needs = DataNeeds(labels=True)
    conformance_params: ClassVar[dict[str, Any]] = {"train_iters": 10}
    reproduce_params: ClassVar[dict[str, Any]] = {"train_iters": 50}
    zc_input = None  # a kernel on subtree counts: no place for zero-cost scores

    h: int = 2

    def _encode(self, archs: Sequence[Arch], space: SearchSpace) -> list[Counter[str]]:
        if self.h < 0:
            raise ValueError(f"gpwl: h (WL iterations) must be >= 0, got {self.h}")
        out = []
        for arch in archs:
            counts: Counter[str] = Counter()
            for c, graph in enumerate(space.cell_graphs(arch)):
                counts.update(wl_labels(graph, self.h, prefix=f"c{c}:"))
            out.append(counts)
        return out

    def train(self, x, y, hp, rng, device, unlabeled=None):
        import gpytorch

        features = WLFeatures(x)
        train = features.transform(x)
        basis = RowSpaceBasis(train)

        def make_covar(xt, likelihood):
            return gpytorch.kernels.LinearKernel()

        gp = fit_exact_gp(basis.train_coords(train), y, make_covar, self.train_iters, self.lr,
                          derive_seed(rng), device)
        return features, basis, gp

    def predict(self, model, x, device):
        features, basis, gp = model
        return gp_predict(gp, basis.query_coords(features.transform(x)), device)

    def _gp_parts(self, model):
        return model[2]

    def _gp_coords(self, model, x):
        features, basis, _ = model
        return basis.query_coords(features.transform(x))
