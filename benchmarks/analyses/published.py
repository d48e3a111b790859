"""Published NAS-Bench-201 CIFAR-10 correlations of zero-cost proxies, to set ours beside.

Every figure names where it was printed. First-hand: the proxy's own paper (or its authors'
code where the paper's table was not available to us); second-hand: another paper's table,
said so in the source.
"""

from __future__ import annotations

#: Spearman: NAS-Bench-Suite-Zero (Krishnakumar et al. 2022) and, over all 15,625 cells,
#: Abdelfattah et al. 2021 ("Zero-cost proxies for lightweight NAS").
PUBLISHED_NB201_C10 = {
    "synflow": {"suite_zero": 0.75, "abdelfattah": 0.74},
    "jacov": {"suite_zero": 0.74, "abdelfattah": 0.73},
    "epe_nas": {"suite_zero": 0.73},
    "params": {"suite_zero": 0.71},
    "flops": {"suite_zero": 0.68},
    "l2_norm": {"suite_zero": 0.67},
    "snip": {"suite_zero": 0.59, "abdelfattah": 0.60},
    "grad_norm": {"suite_zero": 0.59, "abdelfattah": 0.59},
    "fisher": {"suite_zero": 0.49, "abdelfattah": 0.36},
    "grasp": {"suite_zero": 0.44, "abdelfattah": 0.51},
    "plain": {"suite_zero": -0.32},
    "nwot": {"suite_zero": 0.78},
}

#: Kendall tau (all 15,625 cells, each method run with its authors' code), AZ-NAS (Lee & Ham,
#: CVPR 2024), Table 1. TE-NAS there ranks by its two measures combined (``tenas``), not by
#: either alone.
PUBLISHED_KENDALL_AZNAS = {
    "params": 0.578, "flops": 0.578, "grad_norm": 0.357, "grasp": 0.318, "snip": 0.454,
    "synflow": 0.571, "nwot": 0.557, "tenas": 0.536, "zen": 0.296, "zico": 0.589,
    "az_nas": 0.741,
}

#: Other figures, per proxy: (value, kind, where).
PUBLISHED_OTHER: dict[str, tuple[tuple[float, str, str], ...]] = {
    "az_nas": ((0.913, "Spearman", "AZ-NAS, Table 1"),),
    "meco": ((0.89, "correlation", "MeCo (Jiang et al., NeurIPS 2023), abstract: "
              "NATS-Bench-TSS"),),
    "zico": ((0.80, "Spearman", "ZiCo (Li et al., ICLR 2023), Table 1: test accuracy, batch "
              "128, two batches"),
             (0.61, "Kendall", "ZiCo, Table 1")),
    "swap": ((0.810, "Spearman", "second-hand: APD (Kang et al.), Table 2; SWAP's own CIFAR-10 "
              "figure is in a plot"),),
    "tenas_ntk": ((0.44, "Spearman", "second-hand: ZiCo, appendix Table 3, row 'NTK [TE-NAS, "
                   "NASI]'"),),
}


def other_figures(name: str) -> str:
    """``PUBLISHED_OTHER``'s figures for ``name``, one phrase each, or ``""``."""
    return "; ".join(f"{value:.3g} ({kind}; {where})"
                     for value, kind, where in PUBLISHED_OTHER.get(name, ()))
