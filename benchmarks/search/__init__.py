"""Predictor-guided NAS on tabular benchmarks: optimizers, acquisitions, runner, store, reports."""

from benchmarks.search.cli import search_command
from benchmarks.search.optimizers import METHODS
from benchmarks.search.runner import SearchSpec, execute, run_once
from benchmarks.search.store import SearchStore

__all__ = ["METHODS", "SearchSpec", "SearchStore", "execute", "run_once", "search_command"]
