"""Text snapshots of SQLite results stores, so that a long sweep can be committed and resumed.

Stores are SQLite files (kept out of version control). A snapshot is a gzipped JSON-lines file:
one header line per table (its ``CREATE TABLE`` statement) and one line per row, rows ordered by
primary key and the gzip header without a timestamp, so an unchanged store gives a byte-identical
snapshot. Restoring inserts the rows that are missing and keeps those already there, so it is safe
to restore into a store that has gone further than the snapshot; a sweep started afterwards skips
everything the snapshot holds.

Works for every store of this project (evaluation records, search runs) because it reads the
schema from the database itself.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUFFIX = ".jsonl.gz"


class SnapshotError(ValueError):
    """A snapshot or store cannot be read."""


def snapshot_path(db: str | Path) -> Path:
    """The default snapshot of ``db``: same folder and stem, ``.jsonl.gz``."""
    db = Path(db)
    return db.with_name(db.stem + SUFFIX)


def db_path(snapshot: str | Path) -> Path:
    """The default store of ``snapshot``: same folder and stem, ``.db``."""
    snapshot = Path(snapshot)
    if not snapshot.name.endswith(SUFFIX):
        raise SnapshotError(f"{snapshot}: a snapshot's name ends with {SUFFIX}")
    return snapshot.with_name(snapshot.name[: -len(SUFFIX)] + ".db")


def _tables(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return [(name, sql) for name, sql in rows]


def _order_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    keys = sorted((row[5], row[1]) for row in info if row[5] > 0)
    return [name for _, name in keys] or [row[1] for row in info]


def _lines(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    for table, sql in _tables(conn):
        yield {"table": table, "schema": sql}
        order = ", ".join(f'"{c}"' for c in _order_columns(conn, table))
        cursor = conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}')
        columns = [d[0] for d in cursor.description]
        for row in cursor:
            yield {"table": table, "row": dict(zip(columns, row, strict=True))}


def dump(db: str | Path, out: str | Path | None = None) -> tuple[Path, dict[str, int]]:
    """Write a snapshot of ``db`` (default path: :func:`snapshot_path`); rows per table."""
    db = Path(db)
    if not db.is_file():
        raise SnapshotError(f"{db}: no such store; run the sweep that writes it first")
    out = Path(out) if out is not None else snapshot_path(db)
    out.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    tmp = out.with_name(out.name + ".tmp")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30.0)
    try:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                   filename="") as gz:
            for line in _lines(conn):
                if "row" in line:
                    counts[line["table"]] = counts.get(line["table"], 0) + 1
                else:
                    counts.setdefault(line["table"], 0)
                gz.write((json.dumps(line, sort_keys=True) + "\n").encode())
    finally:
        conn.close()
    tmp.replace(out)
    return out, counts


def _create_if_missing(sql: str) -> str:
    return re.sub(r"^\s*CREATE\s+TABLE\s+(?!IF\s+NOT\s+EXISTS)", "CREATE TABLE IF NOT EXISTS ",
                  sql, count=1, flags=re.IGNORECASE)


def _readable(lines: Iterator[str], snapshot: Path) -> Iterator[str]:
    """The snapshot's lines; a file that is not gzip gets a clear error."""
    try:
        yield from lines
    except (OSError, EOFError) as exc:
        raise SnapshotError(f"{snapshot}: not a readable gzip snapshot ({exc}); write it "
                            "again with `predbench store snapshot`") from None


def restore(snapshot: str | Path, db: str | Path | None = None) -> tuple[Path, dict[str, int]]:
    """Insert the snapshot's rows that ``db`` lacks (default: :func:`db_path`); rows added."""
    snapshot = Path(snapshot)
    if not snapshot.is_file():
        raise SnapshotError(f"{snapshot}: no such snapshot")
    db = Path(db) if db is not None else db_path(snapshot)
    db.parent.mkdir(parents=True, exist_ok=True)
    added: dict[str, int] = {}
    conn = sqlite3.connect(db, timeout=30.0)
    try:
        with conn, gzip.open(snapshot, "rt") as lines:
            lines = _readable(lines, snapshot)
            for number, text in enumerate(lines, 1):
                try:
                    line = json.loads(text)
                    table = line["table"]
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise SnapshotError(f"{snapshot}, line {number}: not a snapshot line "
                                        f"({exc}); write it with `predbench store snapshot`"
                                        ) from None
                if "schema" in line:
                    conn.execute(_create_if_missing(line["schema"]))
                    added.setdefault(table, 0)
                    continue
                row = line["row"]
                names = ", ".join(f'"{c}"' for c in row)
                marks = ", ".join("?" for _ in row)
                cursor = conn.execute(f'INSERT OR IGNORE INTO "{table}" ({names}) '
                                      f"VALUES ({marks})", list(row.values()))
                added[table] = added.get(table, 0) + cursor.rowcount
    finally:
        conn.close()
    return db, added
