"""predbench experiment layer: tabular benchmarks, harness, metrics, store, search, plots, CLI."""
