"""Reading an open ledger: its head, its stored events and rows, and the rows it keeps for one follower.

:class:`LedgerReads` is the read half of :class:`livegate.ledger.store.Ledger` (which
appends, commits and rolls back); a base class, so a read costs what it did as a method of
the ledger itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from livegate.domain.errors import DataError, LedgerError
from livegate.ledger.anchor import AnchorWriter
from livegate.ledger.db import SELECT_ROWS_AFTER, SELECT_ROWS_AFTER_EXCEPT_KIND, SELECT_ROWS_BETWEEN, rows_between
from livegate.ledger.events import LedgerEvent

_FETCH_BATCH = 512


def _event(row: tuple[Any, ...]) -> LedgerEvent:
    """Return the event of a ``(seq, ts_ms, kind, payload JSON, prev_hash, hash)`` row (ValueError: bad JSON)."""
    seq, ts_ms, kind, payload, prev_hash, digest = row
    return LedgerEvent(
        seq=int(seq),
        ts_ms=int(ts_ms),
        kind=str(kind),
        payload=json.loads(payload),
        prev_hash=str(prev_hash),
        hash=str(digest),
    )


class LedgerReads:
    """The reads of an open :class:`~livegate.ledger.store.Ledger` (its head, events, rows and kept tail)."""

    #: The state of an open ledger (set by :class:`~livegate.ledger.store.Ledger`).
    __slots__ = (
        "_anchor",
        "_anchor_warned",
        "_conn",
        "_durable",
        "_head_hash",
        "_kinds_seen",
        "_last_seq",
        "_path",
        "_tail",
        "_tx_depth",
        "_tx_durable",
        "_tx_failed",
        "_tx_start",
        "_write_cursor",
    )

    _conn: sqlite3.Connection
    _path: Path
    _last_seq: int
    _head_hash: str
    _durable: tuple[int, str]
    _anchor: AnchorWriter | None
    _tail: list[tuple[int, int, str, str | dict[str, object], str, str]] | None

    @property
    def path(self) -> Path:
        """Return the ledger file path."""
        return self._path

    @property
    def head_hash(self) -> str:
        """Return the hash of the last appended event (the run's ``ledger_hash``), or the genesis hash."""
        return self._head_hash

    @property
    def last_seq(self) -> int:
        """Return the seq of the last appended event, 0 for an empty ledger."""
        return self._last_seq

    @property
    def pending(self) -> int:
        """Return how many appended events are not yet committed (``durable=False`` ones awaiting a commit)."""
        return self._last_seq - self._durable[0]

    def events(self, kind: str | None = None, *, after_seq: int = 0) -> Iterator[LedgerEvent]:
        """Yield stored events in seq order.

        Parameters
        ----------
        kind:
            Only events of this kind; all kinds when None.
        after_seq:
            Only events with ``seq > after_seq``.

        Raises
        ------
        LedgerError
            If SQLite fails or a stored payload is not JSON.
        """
        sql = "SELECT seq, ts_ms, kind, payload, prev_hash, hash FROM events WHERE seq > ?"
        params: tuple[object, ...] = (after_seq,)
        if kind is not None:
            sql += " AND kind = ?"
            params = (after_seq, kind)
        try:
            cursor = self._conn.execute(sql + " ORDER BY seq", params)
            while rows := cursor.fetchmany(_FETCH_BATCH):
                for row in rows:
                    yield _event(row)
        except (sqlite3.Error, ValueError) as exc:
            raise LedgerError(f"cannot read ledger {self._path}: {exc}") from exc

    def events_since(self, kind: str, since_ts_ms: int, until_ts_ms: int) -> list[LedgerEvent]:
        """Return the events of ``kind`` stamped from ``since_ts_ms`` to ``until_ts_ms`` (both included), in seq order.

        For the last stretch of a long ledger: the seqs stamped inside the span are found by
        bisecting seq (events are appended in session-clock order), so a recent window costs
        about 2 x log2(events) row reads plus its own events, not the ledger's history.
        Events stamped out of that order are still filtered by their time.

        Raises
        ------
        LedgerError
            If SQLite fails or a stored payload is not JSON.
        """
        try:
            first = self._first_seq_after(since_ts_ms - 1)
            stop = self._first_seq_after(until_ts_ms)
            cursor = self._conn.execute(
                "SELECT seq, ts_ms, kind, payload, prev_hash, hash FROM events"
                " WHERE seq >= ? AND seq < ? AND kind = ? AND ts_ms BETWEEN ? AND ? ORDER BY seq",
                (first, stop, kind, since_ts_ms, until_ts_ms),
            )
            return [_event(row) for row in cursor.fetchall()]
        except (sqlite3.Error, ValueError) as exc:
            raise LedgerError(f"cannot read ledger {self._path}: {exc}") from exc

    def _first_seq_after(self, ts_ms: int) -> int:
        """Return the first seq stamped after ``ts_ms`` (last seq + 1 if none), by bisecting seq."""
        lo, hi = 1, self._last_seq + 1
        while lo < hi:
            mid = (lo + hi) // 2
            row = self._conn.execute("SELECT ts_ms FROM events WHERE seq = ?", (mid,)).fetchone()
            if row is not None and int(row[0]) <= ts_ms:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def rows(
        self, *, after_seq: int = 0, except_kind: str | None = None
    ) -> Iterator[tuple[int, int, str, str, str, str]]:
        """Yield raw rows ``(seq, ts_ms, kind, payload JSON text, prev_hash, hash)`` after ``after_seq``, in seq order.

        ``except_kind`` leaves out the events of that kind (SQLite filters them: they are
        not read into Python), for readers they change nothing for.

        The fast path for folding (:func:`livegate.ledger.fold.fold_rows`): nothing is
        decoded here. Values are as stored; :func:`livegate.ledger.verify.chained_rows`
        checks them against the chain.

        Raises
        ------
        LedgerError
            If SQLite fails.
        """
        try:
            if except_kind is None:
                cursor = self._conn.execute(SELECT_ROWS_AFTER, (after_seq,))
            else:
                cursor = self._conn.execute(SELECT_ROWS_AFTER_EXCEPT_KIND, (after_seq, except_kind))
            while rows := cursor.fetchmany(_FETCH_BATCH):
                yield from rows
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot read ledger {self._path}: {exc}") from exc

    def rows_between(self, first_seq: int, last_seq: int) -> list[tuple[int, int, str, str, str, str]]:
        """Return the raw rows from ``first_seq`` to ``last_seq`` (both included), in seq order.

        Read through this ledger's connection, which sees its own appends not committed
        yet; once the ledger is closed, from the file (everything is committed then).

        Raises
        ------
        LedgerError
            If SQLite fails.
        """
        try:
            try:
                return self._conn.execute(SELECT_ROWS_BETWEEN, (first_seq, last_seq)).fetchall()
            except sqlite3.ProgrammingError:  # closed
                return rows_between(self._path, first_seq, last_seq)
        except (sqlite3.Error, DataError) as exc:
            raise LedgerError(f"cannot read ledger {self._path}: {exc}") from exc

    def tail_rows(self, after_seq: int) -> Iterator[tuple[int, int, str, str | dict[str, object], str, str]]:
        """Yield the rows after ``after_seq`` as :meth:`rows` does, from memory when this ledger kept them.

        For one reader that follows the ledger (the session's fill index): the first call
        reads SQLite and starts keeping the rows appended after it (at most
        :data:`~livegate.ledger.store.TAIL_LIMIT`); a later call hands those out (and forgets them) when they
        continue ``after_seq`` without a gap, else reads SQLite again. A kept row of a kind
        whose decoder reads fields by name carries the appended payload dict (equal to its
        stored JSON, not a copy: do not change it) in place of the text. Rolled back appends
        are never handed out.

        Raises
        ------
        LedgerError
            If SQLite fails.
        """
        kept = self.kept_rows(after_seq)
        self._tail = []  # keep what is appended from now on (the first call starts keeping)
        return iter(kept) if kept is not None else self.rows(after_seq=after_seq)

    def kept_rows(self, after_seq: int) -> list[tuple[int, int, str, str | dict[str, object], str, str]] | None:
        """Return the rows after ``after_seq`` from memory, as :meth:`tail_rows` hands them out; None when not kept.

        For the follower of :meth:`tail_rows` once more at the end of a session, also after
        :meth:`~livegate.ledger.store.Ledger.close` (the rows the last commit wrote are kept too): never reads SQLite.
        None when the kept rows do not continue ``after_seq`` up to the head (none kept, more
        than :data:`~livegate.ledger.store.TAIL_LIMIT` since the last read, or ``after_seq`` past the head); the
        caller then reads the file.
        The rows handed out are forgotten, as by :meth:`tail_rows`.
        """
        tail = self._tail
        if tail is None or after_seq > self._last_seq:
            return None
        if tail and not (tail[0][0] <= after_seq + 1 and tail[-1][0] == self._last_seq):
            return None
        if not tail and after_seq != self._last_seq:
            return None
        self._tail = []
        return [row for row in tail if row[0] > after_seq]

    def hash_at(self, seq: int) -> str | None:
        """Return the stored chain hash of the event at ``seq``, or None when there is none.

        Raises
        ------
        LedgerError
            If SQLite fails.
        """
        try:
            row = self._conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot read ledger {self._path}: {exc}") from exc
        return None if row is None else str(row[0])

    @property
    def anchor_path(self) -> Path | None:
        """Return the anchor file in the state dir, or None when the ledger is not anchored."""
        return None if self._anchor is None else self._anchor.path
