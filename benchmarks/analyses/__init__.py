"""Analyses of results and benchmarks: tables, reports and plots (`predbench analyze NAME`)."""
