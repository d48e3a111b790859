"""SQLite store files: table definitions, and opening a store only after checking its path and
tables, so that a wrong ``--store`` is refused before any work is done.

Each store module (``benchmarks.store``, ``benchmarks.search.store``) defines its tables once as
:class:`Table` objects; the stores create them from there and snapshots check rows against them.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any


class StoreError(ValueError):
    """A results store cannot be used: wrong path, not SQLite, or tables of another schema."""


@dataclass(frozen=True)
class Column:
    """One column of a store table."""

    name: str
    type: str  # INTEGER, REAL or TEXT
    not_null: bool
    key: int  # position in the primary key, from 1; 0 when not part of it
    json: bool  # TEXT holding a JSON object


@dataclass(frozen=True)
class Table:
    """A store table: its ``CREATE TABLE`` statement exactly as SQLite keeps it in its schema."""

    sql: str
    json_columns: tuple[str, ...] = ()

    @cached_property
    def _info(self) -> tuple[str, tuple[Column, ...]]:
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute(self.sql)
            (name,) = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchone()
            info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        finally:
            conn.close()
        columns = tuple(Column(row[1], row[2].upper(), bool(row[3]), row[5],
                               row[1] in self.json_columns) for row in info)
        return name, columns

    @property
    def name(self) -> str:
        return self._info[0]

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._info[1]

    @property
    def create(self) -> str:
        """The statement that creates the table when it is missing."""
        return self.sql.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)


def _check_path(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a results store; pass a file path "
                         f"such as {path / 'predbench.db'}")
    if path.exists() and not path.is_file():
        raise StoreError(f"{path} is not a regular file; pass a store file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create its folder ({exc.strerror or exc}); pass a "
                         "store path in a writable folder") from None
    target = path if path.exists() else path.parent
    if not os.access(target, os.W_OK):
        raise StoreError(f"{path}: {target} is not writable; pass a store path in a writable "
                         "folder")


def existing_tables(conn: sqlite3.Connection, path: Path) -> dict[str, str]:
    """Name and ``CREATE TABLE`` statement of each table in the database, by name."""
    try:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not an SQLite results store ({exc}); pass a store written "
                         "by predbench or a new path") from None
    return dict(rows)


def check_tables(conn: sqlite3.Connection, path: Path, tables: Sequence[Table]) -> None:
    """Refuse a database that is not SQLite, holds ``tables`` under another schema, or holds
    other tables but none of ``tables`` (another kind of store)."""
    existing = existing_tables(conn, path)
    ours = {table.name: table for table in tables}
    if existing and not existing.keys() & ours.keys():
        raise StoreError(f"{path} holds none of the tables {', '.join(ours)} (it holds "
                         f"{', '.join(sorted(existing))}): it is another kind of store; pass "
                         "another path")
    for name in sorted(existing.keys() & ours.keys()):
        if existing[name] != ours[name].sql:
            raise StoreError(f"{path}: its table {name} has another schema than predbench "
                             "writes; pass a new store path")


def open_store(path: Path, tables: Sequence[Table], timeout: float = 30.0,
               **connect: Any) -> sqlite3.Connection:
    """Connect to the store at ``path`` (WAL), checked first, creating the missing ``tables``.

    Raises :class:`StoreError` naming the path and the fix before anything is written."""
    _check_path(path)
    try:
        conn = sqlite3.connect(path, timeout=timeout, **connect)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open ({exc}); pass a store path in a writable "
                         "folder") from None
    try:
        check_tables(conn, path, tables)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for table in tables:
            conn.execute(table.create)
        conn.commit()
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"{path}: cannot write the store ({exc}); pass a store path in a "
                         "writable folder") from None
    except BaseException:
        conn.close()
        raise
    return conn
