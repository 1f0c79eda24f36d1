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
from livegate.ledger.db import (
    SELECT_ROWS_AFTER,
    SELECT_ROWS_AFTER_EXCEPT_KIND,
    SYNCHRONOUS_PRAGMAS,
    resolve_ledger_path,
)
from livegate.ledger.events import (
    TS_MS_LIMIT,
    LedgerEvent,
    chain_hash_encoded,
    check_kind,
    check_ts_ms,
    encode_payload_plain,
)
from livegate.ledger.opening import connect_ledger, open_anchor

log = logging.getLogger("livegate")

_INSERT = "INSERT INTO events (seq, ts_ms, kind, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)"
_FETCH_BATCH = 512

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


class Ledger:
    """An open ledger file; build it with :meth:`Ledger.open`.

    Every :meth:`append` outside :meth:`transaction` is committed (and, with
    ``synchronous=FULL``, fsynced) before it returns, together with the ``durable=False``
    events appended before it, so the caller may rely on it being on disk before a venue
    call. One commit per batch: a block or a durable append costs one commit however many
    events it holds. One instance per file and per thread (sqlite3's default).
    """

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
                for seq, ts_ms, row_kind, payload, prev_hash, digest in rows:
                    yield LedgerEvent(
                        seq=int(seq),
                        ts_ms=int(ts_ms),
                        kind=str(row_kind),
                        payload=json.loads(payload),
                        prev_hash=str(prev_hash),
                        hash=str(digest),
                    )
        except (sqlite3.Error, ValueError) as exc:
            raise LedgerError(f"cannot read ledger {self._path}: {exc}") from exc

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

    def tail_rows(self, after_seq: int) -> Iterator[tuple[int, int, str, str | dict[str, object], str, str]]:
        """Yield the rows after ``after_seq`` as :meth:`rows` does, from memory when this ledger kept them.

        For one reader that follows the ledger (the session's fill index): the first call
        reads SQLite and starts keeping the rows appended after it (at most
        :data:`TAIL_LIMIT`); a later call hands those out (and forgets them) when they
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
        :meth:`close` (the rows the last commit wrote are kept too): never reads SQLite.
        None when the kept rows do not continue ``after_seq`` up to the head (none kept, more
        than :data:`TAIL_LIMIT` since the last read, or ``after_seq`` past the head); the
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
