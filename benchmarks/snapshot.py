"""Text snapshots of SQLite results stores, so that a long sweep can be committed and resumed.

Stores are SQLite files (kept out of version control). A snapshot is a gzipped JSON-lines file:
one header line per table (its ``CREATE TABLE`` statement) and one line per row, rows ordered by
primary key and the gzip header without a timestamp, so an unchanged store gives a byte-identical
snapshot. Restoring inserts the rows that are missing and keeps those already there, so it is safe
to restore into a store that has gone further than the snapshot; a sweep started afterwards skips
everything the snapshot holds.

A snapshot is data only: the tables are those the store modules define (``TABLES`` of
``benchmarks.store`` and ``benchmarks.search.store``), a header must repeat a table's statement
exactly, and every row value is checked against its column's type before it goes in through a
parameter. The whole snapshot is checked before the store is opened, so a refused snapshot leaves
the store as it was (and creates none).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.search.store import OPTIONAL_TABLES as SEARCH_OPTIONAL_TABLES
from benchmarks.search.store import TABLES as SEARCH_TABLES
from benchmarks.store import TABLES as EVALUATION_TABLES
from benchmarks.storefile import Column, StoreError, Table, existing_tables, open_store

SUFFIX = ".jsonl.gz"
#: Every table a snapshot may hold, by name.
TABLES: dict[str, Table] = {t.name: t for t in (*EVALUATION_TABLES, *SEARCH_TABLES,
                                                 *SEARCH_OPTIONAL_TABLES)}
#: Longest line read (bytes); a record is a few kilobytes.
MAX_LINE = 1 << 24
_INT64 = (-(1 << 63), (1 << 63) - 1)
_FIX = "write the snapshot again with `predbench store snapshot`"


class SnapshotError(ValueError):
    """A snapshot cannot be read or is not one predbench writes."""


class _Invalid(ValueError):
    """What is wrong with one line (turned into a SnapshotError with file and line)."""


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


# --- writing -------------------------------------------------------------------------------------
def _store_tables(conn: sqlite3.Connection, db: Path) -> list[Table]:
    """The store's tables, by name; each must be a predbench table with its exact schema."""
    existing = existing_tables(conn, db)
    if not existing:
        raise StoreError(f"{db} holds no tables; pass a store written by predbench")
    for name, sql in existing.items():
        if name not in TABLES or TABLES[name].sql != sql:
            raise StoreError(f"{db}: table {name} is not one predbench writes (or has another "
                             "schema), so it cannot be snapshotted; pass a predbench store")
    return [TABLES[name] for name in existing]


def _lines(conn: sqlite3.Connection, tables: list[Table]) -> Iterator[dict[str, Any]]:
    for table in tables:
        yield {"table": table.name, "schema": table.sql}
        names = [c.name for c in table.columns]
        keys = [name for _, name in sorted((c.key, c.name) for c in table.columns if c.key)]
        columns = ", ".join(f'"{name}"' for name in names)
        order = ", ".join(f'"{name}"' for name in keys) or columns
        cursor = conn.execute(f'SELECT {columns} FROM "{table.name}" ORDER BY {order}')
        for row in cursor:
            yield {"table": table.name, "row": dict(zip(names, row, strict=True))}


def dump(db: str | Path, out: str | Path | None = None) -> tuple[Path, dict[str, int]]:
    """Write a snapshot of ``db`` (default path: :func:`snapshot_path`); rows per table."""
    db = Path(db)
    if not db.is_file():
        raise SnapshotError(f"{db}: no such store; run the sweep that writes it first")
    out = Path(out) if out is not None else snapshot_path(db)
    tmp = out.with_name(out.name + ".tmp")
    counts: dict[str, int] = {}
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=30.0)
    try:
        tables = _store_tables(conn, db)
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                   filename="") as gz:
            for line in _lines(conn, tables):
                if "row" in line:
                    counts[line["table"]] += 1
                else:
                    counts[line["table"]] = 0
                gz.write((json.dumps(line, sort_keys=True) + "\n").encode())
        tmp.replace(out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise SnapshotError(f"{out}: cannot write the snapshot ({exc.strerror or exc}); pass "
                            "--out a path in a writable folder") from None
    except sqlite3.Error as exc:
        raise StoreError(f"{db}: cannot read the store ({exc}); pass a store written by "
                         "predbench") from None
    finally:
        conn.close()
    return out, counts


# --- reading -------------------------------------------------------------------------------------
def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Invalid(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _Invalid(f"not JSON ({exc})") from None


def _value(table: Table, column: Column, value: Any) -> Any:
    """``value`` if it fits ``column``; the JSON columns must hold JSON object text."""
    where = f"{table.name}.{column.name}"
    if value is None:
        if column.key or column.not_null:
            raise _Invalid(f"{where} is null, which its table does not allow")
        return None
    if column.type == "TEXT":
        fits = isinstance(value, str)
        if fits:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Invalid(f"{where} is not valid Unicode text") from None
    elif column.type == "INTEGER":
        fits = type(value) is int and _INT64[0] <= value <= _INT64[1]
    else:  # REAL
        fits = (type(value) is float and value == value) or (
            type(value) is int and _INT64[0] <= value <= _INT64[1])
    if not fits:
        raise _Invalid(f"{where} must be {column.type.lower()}, not {_short(value)}")
    if column.json and not isinstance(_json(value), dict):
        raise _Invalid(f"{where} must be the text of a JSON object")
    return value


def _row(table: Table, row: Any) -> tuple:
    """The row's values in column order, each checked."""
    if not isinstance(row, dict):
        raise _Invalid(f"a row of {table.name} must be a JSON object")
    names = [c.name for c in table.columns]
    unknown = sorted(set(row) - set(names))
    if unknown:
        raise _Invalid(f"table {table.name} has no column {_short(unknown[0])}")
    missing = [name for name in names if name not in row]
    if missing:
        raise _Invalid(f"a row of {table.name} lacks column(s) {', '.join(missing)}")
    return tuple(_value(table, c, row[c.name]) for c in table.columns)


def _parse(text: str, headers: set[str]) -> tuple[Table, tuple | None]:
    """One line: (table, None) for a table's header, (table, values) for a row."""
    line = _json(text)
    if not isinstance(line, dict) or set(line) not in ({"table", "schema"}, {"table", "row"}):
        raise _Invalid('not a snapshot line (an object with "table" and "schema" or "row")')
    name = line["table"]
    table = TABLES.get(name) if isinstance(name, str) else None
    if table is None:
        raise _Invalid(f"unknown table {_short(name)}; snapshots hold {', '.join(TABLES)}")
    if "schema" in line:
        if line["schema"] != table.sql:
            raise _Invalid(f"the schema of table {name} differs from the one predbench writes")
        headers.add(name)
        return table, None
    if name not in headers:
        raise _Invalid(f"a row of table {name} comes before its schema line")
    return table, _row(table, line["row"])


def _read(snapshot: Path) -> Iterator[tuple[Table, tuple | None]]:
    """Every line of ``snapshot``, checked (see :func:`_parse`); SnapshotError on the first
    bad one, naming the file and line."""
    headers: set[str] = set()
    number = 0
    try:
        with gzip.open(snapshot, "rb") as gz:
            while raw := gz.readline(MAX_LINE + 1):
                number += 1
                if len(raw) > MAX_LINE:
                    raise _Invalid(f"longer than {MAX_LINE} bytes")
                yield _parse(_text(raw), headers)
    except _Invalid as exc:
        raise SnapshotError(f"{snapshot}, line {number}: {exc}; {_FIX}") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise SnapshotError(f"{snapshot}, line {number + 1}: not a readable gzip snapshot "
                            f"({exc}); {_FIX}") from None


def _insert(table: Table) -> str:
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    marks = ", ".join("?" for _ in table.columns)
    return f'INSERT OR IGNORE INTO "{table.name}" ({names}) VALUES ({marks})'


def restore(snapshot: str | Path, db: str | Path | None = None) -> tuple[Path, dict[str, int]]:
    """Insert the snapshot's rows that ``db`` lacks (default: :func:`db_path`); rows added.

    The snapshot is checked whole before the store is opened: a bad one raises
    :class:`SnapshotError` and leaves the store untouched (or not created)."""
    snapshot = Path(snapshot)
    if not snapshot.is_file():
        raise SnapshotError(f"{snapshot}: no such snapshot")
    db = Path(db) if db is not None else db_path(snapshot)
    tables = {table.name: table for table, values in _read(snapshot) if values is None}
    if not tables:
        raise SnapshotError(f"{snapshot}: holds no tables; {_FIX}")
    added = dict.fromkeys(tables, 0)
    conn = open_store(db, list(tables.values()))
    try:
        with conn:
            for table, values in _read(snapshot):
                if values is not None:
                    added[table.name] += conn.execute(_insert(table), values).rowcount
    finally:
        conn.close()
    return db, added


def read_frame(path: str | Path, status: str | None = "ok") -> Any:
    """The evaluation records (a DataFrame; ``status`` None for all) of a store or a snapshot
    (``*.jsonl.gz``, restored into a temporary store that is removed afterwards)."""
    import tempfile

    from benchmarks.store import ResultStore

    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        db = path
        if path.name.endswith(SUFFIX):
            db = Path(tmp) / "store.db"
            restore(path, db)
        elif not path.is_file():
            raise SnapshotError(f"{path}: no such store or snapshot")
        with ResultStore(db) as store:
            return store.to_frame(status=status)
