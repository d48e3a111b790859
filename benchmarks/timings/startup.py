"""Start-up cost of the command line and of a sweep worker, each in a fresh process.

``predbench bench startup`` runs, ``--repeats`` times each and interleaved, ``predbench list``,
``predbench --help`` and ``predbench benchmarks`` (as ``python -m benchmarks.cli``),
``python -c "import benchmarks.harness"`` and a
sweep worker's set-up (``benchmarks.executor._init_worker``: torch and every built-in predictor,
what each worker process imports before its first task), and prints the median wall seconds and
the largest peak resident memory of each, side by side. ``--against DIR`` runs the same commands
on another checkout of the project too (e.g. ``git worktree add /tmp/before COMMIT``) and prints
the ratio, so before and after are measured in one run on the same machine. The load average is
printed before and after: on a busy machine every figure is larger.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import typer

#: Commands timed: label -> arguments of ``python`` (run in the checkout's root).
COMMANDS: dict[str, list[str]] = {
    "predbench list": ["-m", "benchmarks.cli", "list"],
    "predbench --help": ["-m", "benchmarks.cli", "--help"],
    "predbench benchmarks": ["-m", "benchmarks.cli", "benchmarks"],
    "import benchmarks.harness": ["-c", "import benchmarks.harness"],
    "sweep worker set-up": ["-c", "from benchmarks.executor import _init_worker; _init_worker(1)"],
}


@dataclass
class Run:
    """One fresh process: wall seconds, peak resident memory (MiB) and exit status."""

    seconds: float
    peak_mib: float
    status: int


def run_once(args: list[str], root: Path) -> Run:
    """Run ``python ARGS`` in ``root`` with that checkout first on the path; its wall time and
    peak resident memory (from ``wait4``, this child alone)."""
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode)


def measure(roots: dict[str, Path], repeats: int) -> dict[tuple[str, str], list[Run]]:
    """Every command in every checkout ``repeats`` times, interleaved so load hits all alike."""
    runs: dict[tuple[str, str], list[Run]] = {}
    for _ in range(repeats):
        for label, args in COMMANDS.items():
            for name, root in roots.items():
                runs.setdefault((label, name), []).append(run_once(args, root))
    return runs


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def command(
    repeats: int = typer.Option(3, min=1, help="Runs of each command (median wall time)."),
    against: Path | None = typer.Option(
        None, help="Another checkout of the project (e.g. before a change) to run alongside."),
) -> None:
    """Start-up: wall time and peak memory of list, --help, benchmarks, imports, a worker."""
    roots = {"this": Path(__file__).resolve().parents[2]}
    if against is not None:
        if not (against / "benchmarks" / "cli.py").is_file():
            raise typer.BadParameter(f"{against} holds no checkout of the project",
                                     param_hint="--against")
        roots["against"] = against.resolve()
    typer.echo(f"load average before: {_load()}; {os.cpu_count()} CPUs; median of {repeats} "
               "fresh process(es), OMP_NUM_THREADS=1")
    runs = measure(roots, repeats)
    header = "| command | " + " | ".join(f"{n} s | {n} peak MiB" for n in roots)
    header += " | speed-up | memory ratio |" if against is not None else " |"
    typer.echo(header)
    typer.echo("|---" * (1 + 2 * len(roots) + (2 if against is not None else 0)) + "|")
    for label in COMMANDS:
        cells, medians, peaks = [], {}, {}
        for name in roots:
            rs = runs[(label, name)]
            medians[name] = statistics.median(r.seconds for r in rs)
            peaks[name] = max(r.peak_mib for r in rs)
            failed = "" if all(r.status == 0 for r in rs) else " (failed)"
            cells += [f"{medians[name]:.2f}{failed}", f"{peaks[name]:.0f}"]
        if against is not None:
            cells += [f"{medians['against'] / medians['this']:.1f}x",
                      f"{peaks['against'] / peaks['this']:.1f}x"]
        typer.echo(f"| {label} | " + " | ".join(cells) + " |")
    typer.echo(f"load average after: {_load()}")
