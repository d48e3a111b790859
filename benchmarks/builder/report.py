"""Figures of a merged benchmark: how well a short training ranks like the full one."""

from __future__ import annotations

from pathlib import Path

from benchmarks.tabular.format import TabularBenchmark


def plot_epoch_tau(bench: TabularBenchmark, path: Path) -> Path:
    """Kendall tau of validation accuracy at each epoch vs the last (seed 0), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    taus = bench.metadata["summary"]["epoch_vs_final_tau"]
    seed = bench.metadata["summary"]["seed_to_seed"].get("kendall_tau")
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(range(1, len(taus) + 1), taus, marker="o", label="epoch e vs last epoch (seed 0)")
    if seed is not None:
        ax.axhline(seed, color="grey", ls="--", label=f"seed 0 vs seed 1 (last epoch): {seed:.2f}")
    ceiling = bench.metadata["summary"].get("ranking_ceiling", {}).get("benchmark_labels")
    if ceiling is not None:
        ax.axhline(ceiling, color="tab:green", ls=":",
                   label=f"ceiling of a perfect predictor on these labels: {ceiling:.2f}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Kendall tau of validation accuracy")
    ax.set_title(f"{bench.name}: {len(bench)} architectures")
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
