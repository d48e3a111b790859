"""Results store: SQLite (WAL), one row per evaluation keyed by the task key.

Each ``put`` is one transaction, so a process killed at any moment (even ``kill -9``) leaves
either the whole row or nothing; the primary key makes duplicates impossible. The full record is
kept as JSON, with a few flattened columns for queries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.storefile import Table, open_store

if TYPE_CHECKING:
    import pandas as pd

#: Record fields copied into their own columns (the JSON column keeps everything).
COLUMNS: dict[str, str] = {
    "status": "TEXT",
    "benchmark": "TEXT",
    "benchmark_name": "TEXT",
    "predictor": "TEXT",
    "family": "TEXT",
    "experiment": "TEXT",
    "train_size": "INTEGER",
    "fidelity": "INTEGER",
    "trial": "INTEGER",
    "test_size": "INTEGER",
    "kendall": "REAL",
    "spearman": "REAL",
    "pearson": "REAL",
    "init_time_s": "REAL",
    "query_time_s": "REAL",
    "error": "TEXT",
}

#: The tables of an evaluation store, defined here only (``record`` holds the JSON record).
TABLES: tuple[Table, ...] = (
    Table("CREATE TABLE evaluations (key TEXT PRIMARY KEY, "
          + ", ".join(f'"{name}" {kind}' for name, kind in COLUMNS.items())
          + ", record TEXT NOT NULL, created_at REAL NOT NULL)", json_columns=("record",)),
)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


class ResultStore:
    """A resumable store of evaluation records. Use from one writer process."""

    def __init__(self, path: str | Path):
        """Open (creating if needed) the store at ``path``; raises
        :class:`~benchmarks.storefile.StoreError` for a path that cannot be a store."""
        self.path = Path(path)
        self._conn = open_store(self.path, TABLES, isolation_level=None)

    # --- writing ---------------------------------------------------------------------------------
    def put(self, record: dict[str, Any]) -> None:
        """Insert or replace one record (atomically)."""
        if "key" not in record or "status" not in record:
            raise ValueError("a record needs 'key' and 'status'")
        names = ["key", *COLUMNS, "record", "created_at"]
        values = [record["key"], *(record.get(c) for c in COLUMNS),
                  json.dumps(record, default=_json_default, sort_keys=True), time.time()]
        placeholders = ", ".join("?" for _ in names)
        quoted = ", ".join(f'"{n}"' for n in names)
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute(
                f"INSERT OR REPLACE INTO evaluations ({quoted}) VALUES ({placeholders})", values
            )

    # --- reading ---------------------------------------------------------------------------------
    @staticmethod
    def _with_status(query: str, status: str | Iterable[str] | None) -> tuple[str, list[str]]:
        """``query`` over the records with ``status`` (one or several; None: all)."""
        if status is None:
            return query, []
        statuses = [status] if isinstance(status, str) else list(status)
        return f"{query} WHERE status IN ({', '.join('?' for _ in statuses)})", statuses

    def keys(self, status: str | Iterable[str] | None = None) -> set[str]:
        rows = self._conn.execute(*self._with_status("SELECT key FROM evaluations", status))
        return {r[0] for r in rows}

    def data_versions(self, status: str | Iterable[str] | None = None) -> dict[str, str | None]:
        """Each record's benchmark ``data_version`` by key (None for records stored without
        one), of the records with ``status`` (one or several; default all)."""
        query = "SELECT key, json_extract(record, '$.data_version') FROM evaluations"
        return dict(self._conn.execute(*self._with_status(query, status)).fetchall())

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT record FROM evaluations WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def records(self, status: str | None = None) -> Iterator[dict[str, Any]]:
        query = "SELECT record FROM evaluations"
        args: tuple = ()
        if status is not None:
            query += " WHERE status = ?"
            args = (status,)
        for (text,) in self._conn.execute(query + " ORDER BY created_at, key", args):
            yield json.loads(text)

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0])

    def to_frame(self, status: str | None = None) -> pd.DataFrame:
        """All records as a DataFrame; nested dicts become dotted columns (``params.alpha``)."""
        import pandas as pd

        records = list(self.records(status))
        if not records:
            return pd.DataFrame(columns=["key", *COLUMNS])
        return pd.json_normalize(records, sep=".")

    def export_csv(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.to_frame().to_csv(path, index=False)
        return path

    def export_parquet(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = self.to_frame()
        for col in frame.columns:  # mixed-type object columns (e.g. params) as JSON text
            if frame[col].dtype == object:
                frame[col] = frame[col].map(
                    lambda v: v if v is None or isinstance(v, str)
                    else json.dumps(v, default=_json_default)
                )
        frame.to_parquet(path, index=False)
        return path

    # --- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
