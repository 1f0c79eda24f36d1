"""The write-ahead ledger: an append-only, hash-chained SQLite table (docs/architecture.md §3.5).

Durability: an :meth:`Ledger.append` (or a :meth:`Ledger.transaction` block) is committed
before it returns, with every event appended before it, unless it is marked
``durable=False``; such events (the venue's answers: order reports and fills, and
reconciliation records) are written into the open SQLite transaction and made durable by
the next durable append, :meth:`Ledger.flush` (the session timer calls it every tick) or
:meth:`Ledger.close`. What is on disk is therefore always a prefix of the chain, and a
crash can lose only answers the venue still holds (docs/recovery.md, "Durability").
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from livegate.domain.errors import LedgerError
from livegate.ledger import events as ev
from livegate.ledger.anchor import AnchorWriter
from livegate.ledger.db import SYNCHRONOUS_PRAGMAS, resolve_ledger_path
from livegate.ledger.events import (
    TS_MS_LIMIT,
    LedgerEvent,
    chain_hash_encoded,
    check_kind,
    check_ts_ms,
    encode_payload_plain,
)
from livegate.ledger.opening import connect_ledger, open_anchor
from livegate.ledger.store_reads import LedgerReads

log = logging.getLogger("livegate")

_INSERT = "INSERT INTO events (seq, ts_ms, kind, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)"

#: Most events :meth:`Ledger.tail_rows` keeps in memory between two reads; past it they are read from SQLite.
TAIL_LIMIT = 20_000
#: Kinds whose appended payload a tail reader gets as the dict itself (their decoders read fields by
#: name); the others keep their stored text (a decoder that iterates a mapping sees the stored key order).
_TAIL_AS_DICT = frozenset(
    {
        ev.INTENT, ev.DECISION, ev.SUBMIT_REQUESTED, ev.ORDER_REPORT, ev.FILL, ev.MARKOUT,
        ev.CANCEL_REQUESTED, ev.TRADING_STATE_CHANGED, ev.ANOMALY, ev.SESSION_ENDED,
    }
)  # fmt: skip


class Ledger(LedgerReads):
    """An open ledger file; build it with :meth:`Ledger.open`.

    Every :meth:`append` outside :meth:`transaction` is committed (and, with
    ``synchronous=FULL``, fsynced) before it returns, together with the ``durable=False``
    events appended before it, so the caller may rely on it being on disk before a venue
    call. One commit per batch: a block or a durable append costs one commit however many
    events it holds. One instance per file and per thread (sqlite3's default).
    """

    __slots__ = ()  # the attributes are slots of LedgerReads

    def __init__(
        self, conn: sqlite3.Connection, path: Path, last_seq: int, head_hash: str, anchor: AnchorWriter | None = None
    ) -> None:
        self._conn = conn
        #: One cursor for every write statement (``conn.execute`` makes a new cursor per call); reads use their own.
        self._write_cursor = conn.cursor()
        self._path = path
        self._last_seq = last_seq
        self._head_hash = head_hash
        #: (seq, hash) of the last committed event: the head a crash now would leave.
        self._durable = (last_seq, head_hash)
        self._tx_depth = 0
        self._tx_failed = False
        self._tx_durable = False
        self._tx_start = (last_seq, head_hash)
        self._anchor = anchor
        self._anchor_warned = False
        #: Event kinds :func:`check_kind` accepted already.
        self._kinds_seen: set[str] = set()
        #: Rows appended since the last :meth:`tail_rows` (None until it is first called).
        self._tail: list[tuple[int, int, str, str | dict[str, object], str, str]] | None = None

    @classmethod
    def open(cls, path: Path, *, synchronous: str = "FULL", anchor: Path | None = None) -> Ledger:
        """Create or open a ledger and continue its chain from the current head.

        Parameters
        ----------
        path:
            The ledger file, or a run directory (then ``ledger.sqlite`` inside it is used).
        synchronous:
            SQLite ``synchronous`` level: ``OFF``, ``NORMAL``, ``FULL`` (default) or ``EXTRA``.
            Anything below ``FULL`` gives up durability on power loss; use it only in tests.
        anchor:
            The anchor file of this run in the state dir (:func:`livegate.ledger.anchor.anchor_path`),
            or None for no anchoring. An existing ledger must agree with it (not
            truncated, not rewritten); the head is then written there at every commit.

        Returns
        -------
        Ledger
            An open ledger in WAL mode with the append-only triggers installed.

        Raises
        ------
        ValueError
            If ``synchronous`` is not one of the levels above.
        LedgerError
            If the file cannot be opened or created, is not a ledger, WAL cannot be enabled,
            or it disagrees with its anchor (the message says ``truncated`` or ``rewritten``).
        """
        pragma = SYNCHRONOUS_PRAGMAS.get(synchronous.upper())
        if pragma is None:
            raise ValueError(f"synchronous must be one of {sorted(SYNCHRONOUS_PRAGMAS)}, got {synchronous!r}")
        file = resolve_ledger_path(path)
        existed = file.is_file()
        conn, last_seq, head_hash = connect_ledger(file, pragma)
        writer = None
        if anchor is not None:
            try:
                writer = open_anchor(conn, file, anchor, last_seq, head_hash, check=existed)
            except LedgerError:
                conn.close()
                raise
        return cls(conn, file, last_seq, head_hash, writer)

    def append(self, kind: str, ts_ms: int, payload: Mapping[str, object], *, durable: bool = True) -> LedgerEvent:
        """Append one event; unless ``durable`` is False, commit it (and all before it) before returning.

        Inside :meth:`transaction` the event is committed when the outermost block exits
        (or later, with the block, when the block and all its appends are ``durable=False``).

        Parameters
        ----------
        kind:
            Event kind (lowercase snake_case; see :mod:`livegate.ledger.events`).
        ts_ms:
            Clock time of the event, ms since the epoch.
        payload:
            JSON-ready mapping; money and quantities as exact decimal strings.
        durable:
            False: written now, committed with the next commit (a later durable append or
            block, :meth:`flush`, :meth:`close`); for venue answers, never for what must be
            on disk before a venue call (intent, decision, ``submit_requested``).

        Returns
        -------
        LedgerEvent
            The stored event with its seq and hashes. Its payload is the mapping passed in
            when that is a plain dict that reads back equal from the stored JSON (not a
            copy: do not change it afterwards), else the stored JSON decoded.

        Raises
        ------
        TypeError
            If the payload holds a ``Decimal`` or another type JSON cannot carry, or ts_ms is not an int.
        ValueError
            If ``kind`` is malformed or the payload holds a non-finite float.
        LedgerError
            If SQLite fails or the ledger is closed; the runtime must halt trading. Inside a
            transaction the whole block is rolled back; outside, the events not yet
            committed are rolled back with it (the head returns to the last commit).
        """
        prev = self._head_hash
        text = self._write(kind, ts_ms, payload, durable)
        stored: dict[str, object] = payload if text is None else json.loads(text)  # type: ignore[assignment]  # None: a plain dict that reads back equal
        return LedgerEvent(
            seq=self._last_seq, ts_ms=ts_ms, kind=kind, payload=stored, prev_hash=prev, hash=self._head_hash
        )

    def record(self, kind: str, ts_ms: int, payload: Mapping[str, object], *, durable: bool = True) -> None:
        """Append one event as :meth:`append` does, without building its :class:`LedgerEvent`.

        The session's hot path (intents, decisions, venue answers, markouts) never reads
        the appended event back; the same checks, bytes, hash, commit and errors as
        :meth:`append`.

        Raises
        ------
        TypeError, ValueError, LedgerError
            As :meth:`append`.
        """
        self._write(kind, ts_ms, payload, durable)

    def _write(self, kind: str, ts_ms: int, payload: Mapping[str, object], durable: bool) -> str | None:
        """Append (and commit when ``durable``) one event; return its stored text, None when ``payload`` is plain.

        Plain: a dict that reads back equal from the stored JSON (``encode_payload_plain``).
        """
        if kind not in self._kinds_seen:  # a kind is checked once per ledger
            self._kinds_seen.add(check_kind(kind))
        if type(ts_ms) is not int or not 0 <= ts_ms < TS_MS_LIMIT:
            check_ts_ms(ts_ms)  # raises with the reason (an int subclass passes it)
        encoded, plain = encode_payload_plain(payload)  # the one encoding: stored and hashed
        if self._tx_failed:
            raise LedgerError("ledger transaction already failed; leave the block before appending again")
        seq = self._last_seq + 1
        prev = self._head_hash
        digest = chain_hash_encoded(prev, seq, ts_ms, kind, encoded)
        text = encoded.decode("utf-8")
        try:
            if not self._conn.in_transaction:
                self._write_cursor.execute("BEGIN IMMEDIATE")
            self._write_cursor.execute(_INSERT, (seq, ts_ms, kind, text, prev, digest))
        except sqlite3.Error as exc:
            if self._tx_depth:
                self._tx_failed = True
                self._abort_block()
            else:
                self._abort_pending()
            raise LedgerError(f"ledger append of {kind} seq {seq} failed: {exc}") from exc
        self._last_seq = seq
        self._head_hash = digest
        tail = self._tail
        if tail is not None:  # a rollback takes it out again (_trim_tail)
            if len(tail) >= TAIL_LIMIT:
                tail.clear()  # the reader reads SQLite instead (tail_rows sees the gap)
            tail.append((seq, ts_ms, kind, payload if plain and kind in _TAIL_AS_DICT else text, prev, digest))  # type: ignore[arg-type]  # plain: a dict that reads back equal
        if durable:
            if self._tx_depth:
                self._tx_durable = True
            else:
                self._commit()
        return text if not plain else None

    def flush(self) -> None:
        """Commit the ``durable=False`` events appended since the last commit (nothing to do: no commit).

        Inside a :meth:`transaction` block it does nothing: the block decides.

        Raises
        ------
        LedgerError
            If the commit fails; the uncommitted events are rolled back (the runtime must halt).
        """
        if self._tx_depth == 0 and self._last_seq != self._durable[0]:
            self._commit()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Ledger]:
        """Batch appends into one atomic group; durable when the outermost block exits.

        Nested blocks join the outer one. If the block raises, every append in it is rolled
        back, the chain head returns to where it was, and the error propagates (events
        appended before the block stay). With ``durable=False`` the block commits at exit
        only if one of its appends asked to be durable; otherwise its events are committed,
        all together, with the next commit.

        Raises
        ------
        LedgerError
            If the transaction cannot begin or commit.
        """
        if self._tx_depth:
            self._tx_depth += 1
            self._tx_durable = self._tx_durable or durable
            try:
                yield self
            finally:
                self._tx_depth -= 1
            return
        try:
            if not self._conn.in_transaction:
                self._write_cursor.execute("BEGIN IMMEDIATE")
            self._write_cursor.execute("SAVEPOINT ledger_block")
        except sqlite3.Error as exc:
            self._abort_pending()
            raise LedgerError(f"cannot begin ledger transaction: {exc}") from exc
        self._tx_depth = 1
        self._tx_failed = False
        self._tx_durable = durable
        self._tx_start = (self._last_seq, self._head_hash)
        try:
            yield self
        except BaseException:
            self._tx_depth = 0
            self._tx_failed = False
            self._abort_block()
            raise
        self._tx_depth = 0
        if self._tx_failed:
            self._tx_failed = False
            raise LedgerError("ledger transaction failed and was rolled back")
        try:
            self._write_cursor.execute("RELEASE ledger_block")
        except sqlite3.Error as exc:
            self._abort_pending()
            raise LedgerError(f"ledger commit failed: {exc}") from exc
        if self._tx_durable:
            self._commit()

    def close(self) -> None:
        """Commit what is pending, close the file and write the anchor a last time.

        A block still open is rolled back first. Closing twice is harmless. A failing last
        commit is logged (the uncommitted events are lost as in a crash; the venue holds them).
        """
        if self._tx_depth:
            self._tx_depth = 0
            self._tx_failed = False
            self._abort_block()
        try:
            self.flush()
        except LedgerError as exc:
            log.error("ledger %s: last commit failed at close: %s", self._path, exc)
        except sqlite3.ProgrammingError:  # already closed
            pass
        if self._anchor is not None:
            self._write_anchor()
            self._anchor.close()
            self._anchor = None
        self._conn.close()

    def _commit(self) -> None:
        """Commit the open SQLite transaction; the committed head is the chain head, then anchor it."""
        try:
            self._write_cursor.execute("COMMIT")
        except sqlite3.Error as exc:
            self._abort_pending()
            raise LedgerError(f"ledger commit failed: {exc}") from exc
        self._durable = (self._last_seq, self._head_hash)
        if self._anchor is not None:
            self._write_anchor()

    def _write_anchor(self) -> None:
        """Anchor the committed head; a failure is logged once (the ledger commit already holds)."""
        if self._anchor is None:
            return
        try:
            self._anchor.write(*self._durable)
        except OSError as exc:
            if not self._anchor_warned:
                self._anchor_warned = True
                log.warning("ledger anchor %s not written: %s", self._anchor.path, exc)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _abort_block(self) -> None:
        """Roll back the open block's appends; the events appended before it stay pending."""
        try:
            self._write_cursor.execute("ROLLBACK TO ledger_block")
            self._write_cursor.execute("RELEASE ledger_block")
        except sqlite3.Error:
            self._abort_pending()
            return
        if not self._conn.in_transaction:  # SQLite gave the whole transaction up (I/O error, disk full)
            self._last_seq, self._head_hash = self._durable
            self._trim_tail()
            return
        self._last_seq, self._head_hash = self._tx_start
        self._trim_tail()

    def _abort_pending(self) -> None:
        """Roll back everything not committed; the head returns to the last commit."""
        self._rollback_quietly()
        self._last_seq, self._head_hash = self._durable
        self._tx_start = self._durable
        self._trim_tail()

    def _trim_tail(self) -> None:
        """Forget kept rows a rollback took out of the chain (seq above the head)."""
        tail = self._tail
        while tail and tail[-1][0] > self._last_seq:
            tail.pop()

    def _rollback_quietly(self) -> None:
        try:
            if self._conn.in_transaction:
                self._write_cursor.execute("ROLLBACK")
        except sqlite3.Error:
            # The original failure is what the caller needs; SQLite discards a transaction
            # that could not be rolled back when the connection closes.
            return
