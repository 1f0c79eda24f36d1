"""SQLite layout of the ledger file and the read-only connection used by verify and export."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from livegate.domain.errors import DataError

#: File name of the ledger inside a run directory (docs/architecture.md §4).
LEDGER_FILENAME: Final = "ledger.sqlite"

#: ``PRAGMA user_version`` of the layout below; bump it when the table changes.
LAYOUT_VERSION: Final = 1

CREATE_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS events ("
    "seq INTEGER PRIMARY KEY, "
    "ts_ms INTEGER NOT NULL, "
    "kind TEXT NOT NULL, "
    "payload TEXT NOT NULL, "
    "prev_hash TEXT NOT NULL, "
    "hash TEXT NOT NULL)"
)

#: Defence in depth: the table is append-only for anyone who does not drop these first.
CREATE_TRIGGERS: Final = (
    "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END",
)

#: Statements per allowed ``synchronous`` level (no SQL is ever built from caller text).
SYNCHRONOUS_PRAGMAS: Final = {
    "OFF": "PRAGMA synchronous=OFF",
    "NORMAL": "PRAGMA synchronous=NORMAL",
    "FULL": "PRAGMA synchronous=FULL",
    "EXTRA": "PRAGMA synchronous=EXTRA",
}

SELECT_ROWS: Final = "SELECT seq, ts_ms, kind, payload, prev_hash, hash FROM events ORDER BY seq"
#: The rows after a seq (one parameter), in seq order.
SELECT_ROWS_AFTER: Final = "SELECT seq, ts_ms, kind, payload, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq"
#: The rows from a first to a last seq (both included), in seq order.
SELECT_ROWS_BETWEEN: Final = (
    "SELECT seq, ts_ms, kind, payload, prev_hash, hash FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq"
)
#: The rows after a seq (first parameter) whose kind is not the second parameter, in seq order.
SELECT_ROWS_AFTER_EXCEPT_KIND: Final = (
    "SELECT seq, ts_ms, kind, payload, prev_hash, hash FROM events WHERE seq > ? AND kind != ? ORDER BY seq"
)


def resolve_ledger_path(path: Path) -> Path:
    """Return ``path``, or ``path / ledger.sqlite`` when ``path`` is a directory (a run directory)."""
    return path / LEDGER_FILENAME if path.is_dir() else path


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open an existing ledger read-only.

    Parameters
    ----------
    path:
        The ledger file, or the run directory holding ``ledger.sqlite``.

    Raises
    ------
    DataError
        If the file is missing, unreadable, not SQLite, or has no ``events`` table.
    """
    file = resolve_ledger_path(path)
    if not file.is_file():
        raise DataError(f"ledger not found: {file}")
    try:
        conn = sqlite3.connect(file.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataError(f"cannot open ledger {file}: {exc}") from exc
    try:
        found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone()
    except sqlite3.Error as exc:
        conn.close()
        raise DataError(f"{file} is not a readable SQLite ledger: {exc}") from exc
    if found is None:
        conn.close()
        raise DataError(f"{file} is not a livegate ledger (no events table)")
    return conn


def select_rows(path: Path, sql: str, params: tuple[int, ...]) -> Iterator[tuple[int, int, str, str, str, str]]:
    """Yield the raw rows a select of ``events`` gives on a ledger opened read-only (closed when done).

    Raises
    ------
    DataError
        If the ledger is missing or unreadable.
    """
    conn = connect_readonly(path)
    try:
        yield from conn.execute(sql, params)
    except sqlite3.Error as exc:
        raise DataError(f"cannot read ledger {path}: {exc}") from exc
    finally:
        conn.close()


def rows_between(path: Path, first_seq: int, last_seq: int) -> list[tuple[int, int, str, str, str, str]]:
    """Return a ledger file's raw rows from ``first_seq`` to ``last_seq`` (both included), in seq order.

    Raises
    ------
    DataError
        If the ledger is missing or unreadable.
    """
    return list(select_rows(path, SELECT_ROWS_BETWEEN, (first_seq, last_seq)))
