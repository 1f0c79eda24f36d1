"""Scratch SQLite databases: per-order records kept on disk instead of in memory (issue 14 item 2).

A long session sends an order every few seconds; anything kept per order in memory makes
its processes grow without bound. What is kept here is looked up rarely (a late event
about a finished order) and is written once per order: an anonymous SQLite database
(``sqlite3.connect("")``) holds it, a temporary file SQLite deletes when the connection
closes, with a bounded page cache, so its pages live on disk once the cache is full.

* :func:`scratch_db` opens one.
* :class:`ScratchInts` is a mapping of client order id -> non-negative int on it: where a
  :class:`~livegate.ledger.fold_retire.Retirement` keeps the records of the orders it let
  go (the session report reader's, the checkpoint job's), and where the report's facts
  keep each order's submit time (:mod:`livegate.ops.rollup_read`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import ItemsView, Iterable, Iterator, MutableMapping, MutableSet
from typing import Any, Final

__all__ = ["SCRATCH_BATCH_ROWS", "SCRATCH_CACHE_KIB", "ScratchInts", "ScratchKeys", "ScratchRows", "scratch_db"]

#: Page cache of a scratch database, KiB (SQLite's default is 2,000 KiB).
SCRATCH_CACHE_KIB: Final = 2_048
#: Rows a :class:`ScratchRows` holds in memory before it writes them in one ``executemany``.
SCRATCH_BATCH_ROWS: Final = 4_096


#: A record's bits stored in its first SQLite integer (the rest in the second; each fits 63 bits).
_LOW_BITS: Final = 62
_LOW_MASK: Final = (1 << _LOW_BITS) - 1


def scratch_db(cache_kib: int = SCRATCH_CACHE_KIB) -> sqlite3.Connection:
    """Return a new anonymous SQLite database (deleted when closed), in one open transaction.

    No journal and no fsync: the data dies with the process that made it. ``cache_kib``
    bounds its page cache.
    """
    conn = sqlite3.connect("", isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    conn.execute("BEGIN")
    return conn


class ScratchInts(MutableMapping[str, int]):
    """Client order id -> non-negative int, in a table of a scratch database; iterated in insertion order, as a dict.

    A value may be wider than 64 bits (a ``Retirement``'s packed records are): it is
    stored as its low :data:`_LOW_BITS` bits and the rest, two SQLite integers.

    Parameters
    ----------
    conn:
        A scratch database (:func:`scratch_db`).
    table:
        The name of the table made for this mapping in ``conn`` (letters and ``_``).

    Raises
    ------
    ValueError
        If ``table`` is not a plain name.
    """

    __slots__ = ("_conn", "_count", "_sql")

    def __init__(self, conn: sqlite3.Connection, table: str = "records") -> None:
        if not table.replace("_", "").isalpha():
            raise ValueError(f"not a table name: {table!r}")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (cid TEXT PRIMARY KEY, low INTEGER NOT NULL, high INTEGER NOT NULL)"
        )
        self._conn = conn
        self._count = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 (checked name)
        self._sql = {
            "get": f"SELECT low, high FROM {table} WHERE cid = ?",  # noqa: S608
            "add": f"INSERT OR IGNORE INTO {table} VALUES (?, ?, ?)",  # noqa: S608
            "set": f"UPDATE {table} SET low = ?, high = ? WHERE cid = ?",  # noqa: S608
            "del": f"DELETE FROM {table} WHERE cid = ?",  # noqa: S608
            "all": f"SELECT cid FROM {table} ORDER BY rowid",  # noqa: S608
            "pairs": f"SELECT cid, low, high FROM {table} ORDER BY rowid",  # noqa: S608
            "bits": f"UPDATE {table} SET low = low | ?, high = high | ? WHERE cid = ?",  # noqa: S608
        }

    def __getitem__(self, cid: str) -> int:
        row = self._conn.execute(self._sql["get"], (cid,)).fetchone()
        if row is None:
            raise KeyError(cid)
        return int(row[0]) | int(row[1]) << _LOW_BITS

    def __setitem__(self, cid: str, record: int) -> None:
        if record < 0:
            raise ValueError(f"a record is a non-negative int, got {record}")
        low, high = record & _LOW_MASK, record >> _LOW_BITS
        if self._conn.execute(self._sql["add"], (cid, low, high)).rowcount:
            self._count += 1
        else:
            self._conn.execute(self._sql["set"], (low, high, cid))

    def setdefault(self, cid: str, default: int = 0) -> int:
        """Return the value of ``cid``, storing ``default`` first when there is none (one insert when new)."""
        if default < 0:
            raise ValueError(f"a record is a non-negative int, got {default}")
        if self._conn.execute(self._sql["add"], (cid, default & _LOW_MASK, default >> _LOW_BITS)).rowcount:
            self._count += 1
            return default
        return self[cid]

    def set_bits(self, cids: Iterable[str], bits: int) -> list[str]:
        """Set ``bits`` in the values of those of ``cids`` that are keys (one update each); return those, in order."""
        if bits < 0:
            raise ValueError(f"bits are a non-negative int, got {bits}")
        low, high = bits & _LOW_MASK, bits >> _LOW_BITS
        update = self._sql["bits"]
        execute = self._conn.execute
        return [cid for cid in cids if execute(update, (low, high, cid)).rowcount]

    def __delitem__(self, cid: str) -> None:
        if not self._conn.execute(self._sql["del"], (cid,)).rowcount:
            raise KeyError(cid)
        self._count -= 1

    def pop(self, cid: str, *default: Any) -> Any:
        """Remove and return the record of ``cid`` (``default`` when there is none, else KeyError)."""
        row = self._conn.execute(self._sql["get"], (cid,)).fetchone()
        if row is None:
            if default:
                return default[0]
            raise KeyError(cid)
        self._conn.execute(self._sql["del"], (cid,))
        self._count -= 1
        return int(row[0]) | int(row[1]) << _LOW_BITS

    def items(self) -> ItemsView[str, int]:
        """Return the (client order id, value) pairs, read in one query when iterated (insertion order)."""
        return _Items(self)

    def pairs(self) -> Iterator[tuple[str, int]]:
        """Yield every (client order id, value), in insertion order, from one query."""
        for cid, low, high in self._conn.execute(self._sql["pairs"]):
            yield str(cid), int(low) | int(high) << _LOW_BITS

    def __iter__(self) -> Iterator[str]:
        return (str(cid) for (cid,) in self._conn.execute(self._sql["all"]))

    def __len__(self) -> int:
        return self._count


class _Items(ItemsView[str, int]):
    """The items of a :class:`ScratchInts`, iterated from one query."""

    _mapping: ScratchInts

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return self._mapping.pairs()


class ScratchKeys(MutableSet[tuple[str, str]]):
    """A set of (client order id, venue trade id) in a table of a scratch database; iterated sorted.

    The applied fills' keys of a fold that does not keep them in memory (the checkpoint
    job's). Iteration gives them in the order of ``sorted`` (SQLite compares text as UTF-8
    bytes, which orders as code points do).

    Parameters
    ----------
    conn:
        A scratch database (:func:`scratch_db`); the table ``fill_keys`` is made in it.
    """

    __slots__ = ("_conn", "_count")

    def __init__(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS fill_keys (cid TEXT NOT NULL, fid TEXT NOT NULL, PRIMARY KEY (cid, fid)) "
            "WITHOUT ROWID"
        )
        self._conn = conn
        self._count = int(conn.execute("SELECT count(*) FROM fill_keys").fetchone()[0])

    def __contains__(self, key: object) -> bool:
        if not (isinstance(key, tuple) and len(key) == 2):
            return False
        return self._conn.execute("SELECT 1 FROM fill_keys WHERE cid = ? AND fid = ?", key).fetchone() is not None

    def add(self, key: tuple[str, str]) -> None:
        """Add ``key``."""
        self._count += self._conn.execute("INSERT OR IGNORE INTO fill_keys VALUES (?, ?)", key).rowcount

    def discard(self, key: tuple[str, str]) -> None:
        """Remove ``key`` if present."""
        self._count -= self._conn.execute("DELETE FROM fill_keys WHERE cid = ? AND fid = ?", key).rowcount

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((str(c), str(f)) for c, f in self._conn.execute("SELECT cid, fid FROM fill_keys ORDER BY cid, fid"))

    def column(self, index: int) -> Iterator[str]:
        """Yield the client order ids (``index`` 0) or the venue trade ids (1) of the sorted keys."""
        name = ("cid", "fid")[index]
        query = f"SELECT {name} FROM fill_keys ORDER BY cid, fid"  # noqa: S608 (one of two names)
        return (str(value) for (value,) in self._conn.execute(query))

    def __len__(self) -> int:
        return self._count


class ScratchRows:
    """An append-only table of a scratch database: rows written in batches, read back in the order they came.

    Row ``i`` (0-based, in append order) is stored with ``i`` as its integer primary key
    ``n``, so a range of positions is read with one index scan. Rows wait in a list of at
    most ``batch`` before one ``executemany`` writes them; any read writes them first.

    Parameters
    ----------
    conn:
        A scratch database (:func:`scratch_db`).
    table:
        The name of the table made for these rows in ``conn`` (letters and ``_``).
    columns:
        The names of a row's columns (letters and ``_``), without types: SQLite keeps each
        value as given (int, float, text or NULL; a NaN float is read back as NULL).
    batch:
        Rows kept in memory before they are written.

    Raises
    ------
    ValueError
        If ``table`` or a column is not a plain name, or ``batch`` is below 1.
    """

    __slots__ = ("_batch", "_conn", "_count", "_insert", "_pending", "_select")

    def __init__(
        self, conn: sqlite3.Connection, table: str, columns: Iterable[str], batch: int = SCRATCH_BATCH_ROWS
    ) -> None:
        names = list(columns)
        if not all(name.replace("_", "").isalpha() for name in (table, *names)):
            raise ValueError(f"not a table and column names: {table!r} {names!r}")
        if batch < 1:
            raise ValueError(f"a batch is at least one row, got {batch}")
        listed = ", ".join(names)
        conn.execute(f"CREATE TABLE {table} (n INTEGER PRIMARY KEY, {listed})")
        self._conn = conn
        self._count = 0
        self._batch = batch
        self._pending: list[tuple[Any, ...]] = []
        self._insert = f"INSERT INTO {table} VALUES ({', '.join('?' * (len(names) + 1))})"  # noqa: S608 (checked names)
        self._select = f"SELECT {listed} FROM {table}"  # noqa: S608 (checked names)

    def append(self, row: tuple[Any, ...]) -> None:
        """Add ``row`` (one value per column) at the end."""
        pending = self._pending
        pending.append((self._count, *row))
        self._count += 1
        if len(pending) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Write the rows waiting in memory."""
        if self._pending:
            self._conn.executemany(self._insert, self._pending)
            self._pending.clear()

    def rows(self, start: int = 0, stop: int | None = None, *, by: str = "") -> Iterator[tuple[Any, ...]]:
        """Yield the rows at positions ``start`` to ``stop`` (None: the end), in append order.

        ``by``: a column the rows are ordered by first (append order among equal values);
        empty for append order.

        Raises
        ------
        ValueError
            If ``by`` is not a plain name.
        """
        if by and not by.replace("_", "").isalpha():
            raise ValueError(f"not a column name: {by!r}")
        self.flush()
        end = self._count if stop is None else min(stop, self._count)
        order = f"{by}, n" if by else "n"
        return iter(self._conn.execute(f"{self._select} WHERE n >= ? AND n < ? ORDER BY {order}", (start, end)))

    def __len__(self) -> int:
        return self._count
