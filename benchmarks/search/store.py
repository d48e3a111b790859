"""SQLite store of search runs (its own ``search_*`` tables, defined once in ``TABLES``).

Multi-fidelity runs also write ``search_fidelity`` (the epoch each step trained its cell to, and
the incumbent after it); the table is created the first time such a run is written, so other
stores (and their snapshots) never hold it. Runs written with their benchmark's ``data_version``
keep it in ``search_versions`` (created the same way), so a search on a rebuilt benchmark runs
them again; runs stored before versions were kept have none and stand.

A run is written in one transaction once it finishes: its row in ``search_runs`` marks it
complete, so a search killed midway leaves no partial run behind and resuming recomputes only the
missing runs (each run is deterministic in its seed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.search.oracle import Step
from benchmarks.storefile import Table, open_store

#: The tables of a search store, defined here only (``config`` holds the JSON config).
TABLES: tuple[Table, ...] = (
    Table("""CREATE TABLE search_configs (
    config_key TEXT PRIMARY KEY,
    benchmark TEXT NOT NULL,
    method TEXT NOT NULL,
    predictor TEXT,
    label TEXT NOT NULL,
    config TEXT NOT NULL
)""", json_columns=("config",)),
    Table("""CREATE TABLE search_runs (
    config_key TEXT NOT NULL REFERENCES search_configs(config_key),
    run_index INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    n_queries INTEGER NOT NULL,
    best REAL NOT NULL,
    regret REAL NOT NULL,
    sim_time REAL NOT NULL,
    predictor_s REAL NOT NULL,
    wall_s REAL NOT NULL,
    finished REAL NOT NULL,
    PRIMARY KEY (config_key, run_index)
)"""),
    Table("""CREATE TABLE search_steps (
    config_key TEXT NOT NULL,
    run_index INTEGER NOT NULL,
    step INTEGER NOT NULL,
    arch_index INTEGER NOT NULL,
    arch TEXT NOT NULL,
    accuracy REAL NOT NULL,
    best REAL NOT NULL,
    sim_time REAL NOT NULL,
    regret REAL NOT NULL,
    predictor_s REAL NOT NULL,
    PRIMARY KEY (config_key, run_index, step)
) WITHOUT ROWID"""),
)

#: Created only in stores that hold multi-fidelity runs.
FIDELITY_TABLE = Table("""CREATE TABLE search_fidelity (
    config_key TEXT NOT NULL,
    run_index INTEGER NOT NULL,
    step INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    incumbent INTEGER NOT NULL,
    PRIMARY KEY (config_key, run_index, step)
) WITHOUT ROWID""")
#: The benchmark ``data_version`` each run was made on (runs stored before it was kept have none).
VERSION_TABLE = Table("""CREATE TABLE search_versions (
    config_key TEXT NOT NULL,
    run_index INTEGER NOT NULL,
    data_version TEXT NOT NULL,
    PRIMARY KEY (config_key, run_index)
) WITHOUT ROWID""")
#: Tables a search store may hold beside ``TABLES``.
OPTIONAL_TABLES: tuple[Table, ...] = (FIDELITY_TABLE, VERSION_TABLE)


@dataclass
class Trajectory:
    """One finished run as arrays over its queries (step 0 = first query)."""

    run_index: int
    seed: int
    arch_index: np.ndarray
    accuracy: np.ndarray
    best: np.ndarray
    sim_time: np.ndarray
    regret: np.ndarray
    predictor_s: np.ndarray
    #: Multi-fidelity runs: epochs trained at each step, and the incumbent row after it.
    epoch: np.ndarray | None = None
    incumbent: np.ndarray | None = None


class SearchStore:
    """Open (creating if needed) the search tables in an SQLite file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.conn = open_store(self.path, TABLES, timeout=60)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SearchStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------------
    def add_config(self, key: str, config: dict[str, Any], label: str) -> None:
        text = json.dumps(config, sort_keys=True)
        with self.conn:
            row = self.conn.execute(
                "SELECT config FROM search_configs WHERE config_key=?", (key,)
            ).fetchone()
            if row is None:
                self.conn.execute(
                    "INSERT INTO search_configs VALUES (?,?,?,?,?,?)",
                    (key, config["benchmark"], config["method"], config.get("predictor"), label,
                     text),
                )
            elif row[0] != text:
                raise ValueError(f"store {self.path} holds a different config under key {key}")

    def write_run(self, key: str, run_index: int, seed: int, steps: Sequence[Step],
                  arch_strings: Sequence[str], wall_s: float,
                  data_version: str | None = None) -> None:
        """Record a finished run atomically (steps, its completion row and the ``data_version``
        of the benchmark it ran on, where given, together)."""
        if not steps:
            raise ValueError("a run without queries cannot be recorded")
        last = steps[-1]
        fidelity = steps[0].epoch is not None
        with self.conn:
            self.conn.execute(
                "DELETE FROM search_steps WHERE config_key=? AND run_index=?", (key, run_index)
            )
            if data_version is not None:
                self.conn.execute(VERSION_TABLE.create)
                self.conn.execute("INSERT OR REPLACE INTO search_versions VALUES (?,?,?)",
                                  (key, run_index, data_version))
            elif self._has_table(VERSION_TABLE.name):
                self.conn.execute("DELETE FROM search_versions WHERE config_key=? AND "
                                  "run_index=?", (key, run_index))
            if fidelity:
                self.conn.execute(FIDELITY_TABLE.create)
                self.conn.execute("DELETE FROM search_fidelity WHERE config_key=? AND "
                                  "run_index=?", (key, run_index))
                self.conn.executemany(
                    "INSERT INTO search_fidelity VALUES (?,?,?,?,?)",
                    [(key, run_index, i, s.epoch, s.incumbent) for i, s in enumerate(steps)])
            self.conn.executemany(
                "INSERT INTO search_steps VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (key, run_index, i, s.index, a, s.accuracy, s.best, s.sim_time, s.regret,
                     s.predictor_s)
                    for i, (s, a) in enumerate(zip(steps, arch_strings, strict=True))
                ],
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO search_runs VALUES (?,?,?,?,?,?,?,?,?,?)",
                (key, run_index, seed, len(steps), last.best, last.regret, last.sim_time,
                 last.predictor_s, wall_s, time.time()),
            )

    # --- reading -------------------------------------------------------------------------------
    def finished_runs(self, key: str) -> set[int]:
        rows = self.conn.execute(
            "SELECT run_index FROM search_runs WHERE config_key=?", (key,)
        ).fetchall()
        return {int(r[0]) for r in rows}

    def stale_runs(self, key: str, data_version: str) -> set[int]:
        """Finished runs of ``key`` made on another ``data_version`` of their benchmark (runs
        stored without a version are not among them)."""
        if not self._has_table(VERSION_TABLE.name):
            return set()
        rows = self.conn.execute(
            "SELECT run_index FROM search_versions WHERE config_key=? AND data_version!=? AND "
            "run_index IN (SELECT run_index FROM search_runs WHERE config_key=?)",
            (key, data_version, key)).fetchall()
        return {int(r[0]) for r in rows}

    def config_keys(self, benchmark: str) -> list[str]:
        """Keys of the configurations stored for ``benchmark`` that have a finished run, in the
        order they were added."""
        rows = self.conn.execute(
            "SELECT config_key FROM search_configs WHERE benchmark=? AND config_key IN "
            "(SELECT config_key FROM search_runs) ORDER BY rowid", (benchmark,)
        ).fetchall()
        return [str(r[0]) for r in rows]

    def budget(self, key: str) -> int:
        """Query budget of a stored configuration."""
        return int(self.config(key)["queries"])

    def label(self, key: str) -> str:
        row = self.conn.execute(
            "SELECT label FROM search_configs WHERE config_key=?", (key,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no search config {key} in {self.path}")
        return str(row[0])

    def trajectories(self, key: str, runs: Iterable[int] | None = None) -> list[Trajectory]:
        """Finished runs of a config, by run index."""
        wanted = sorted(self.finished_runs(key) if runs is None else set(runs))
        fidelity = self._has_table(FIDELITY_TABLE.name)
        out = []
        for run in wanted:
            meta = self.conn.execute(
                "SELECT seed FROM search_runs WHERE config_key=? AND run_index=?", (key, run)
            ).fetchone()
            if meta is None:
                continue
            rows = self.conn.execute(
                "SELECT arch_index, accuracy, best, sim_time, regret, predictor_s "
                "FROM search_steps WHERE config_key=? AND run_index=? ORDER BY step",
                (key, run),
            ).fetchall()
            cols = np.array(rows, dtype=float).reshape(-1, 6)
            traj = Trajectory(run, int(meta[0]), cols[:, 0].astype(int), cols[:, 1], cols[:, 2],
                              cols[:, 3], cols[:, 4], cols[:, 5])
            if fidelity:
                extra = self.conn.execute(
                    "SELECT epoch, incumbent FROM search_fidelity WHERE config_key=? AND "
                    "run_index=? ORDER BY step", (key, run)).fetchall()
                if extra:
                    arr = np.array(extra, dtype=int).reshape(-1, 2)
                    traj.epoch, traj.incumbent = arr[:, 0], arr[:, 1]
            out.append(traj)
        return out

    def _has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                                 (name,)).fetchone() is not None

    def config(self, key: str) -> dict[str, Any]:
        """The stored configuration of ``key`` (plain data, defaults filled in)."""
        row = self.conn.execute(
            "SELECT config FROM search_configs WHERE config_key=?", (key,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no search config {key} in {self.path}")
        return json.loads(row[0])

    def summary_rows(self, key: str) -> list[tuple]:
        return self.conn.execute(
            "SELECT run_index, seed, n_queries, best, regret, sim_time, predictor_s, wall_s "
            "FROM search_runs WHERE config_key=? ORDER BY run_index",
            (key,),
        ).fetchall()
