"""The write-ahead ledger: an append-only, hash-chained SQLite table (docs/architecture.md §3.5)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from livegate.domain.errors import LedgerError
from livegate.ledger.anchor import AnchorWriter, read_anchor
from livegate.ledger.db import (
    CREATE_TABLE,
    CREATE_TRIGGERS,
    LAYOUT_VERSION,
    SYNCHRONOUS_PRAGMAS,
    resolve_ledger_path,
)
from livegate.ledger.events import (
    GENESIS_HASH,
    LedgerEvent,
    canonical_json,
    chain_hash,
    check_kind,
    check_payload,
    check_ts_ms,
)
from livegate.ledger.verify import anchor_problem

log = logging.getLogger("livegate")

_INSERT = "INSERT INTO events (seq, ts_ms, kind, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)"
_FETCH_BATCH = 512


class Ledger:
    """An open ledger file; build it with :meth:`Ledger.open`.

    Every :meth:`append` outside :meth:`transaction` is committed (and, with
    ``synchronous=FULL``, fsynced) before it returns, so the caller may rely on it being on
    disk before a venue call. One instance per file and per thread (sqlite3's default).
    """

    __slots__ = (
        "_anchor",
        "_anchor_warned",
        "_conn",
        "_head_hash",
        "_last_seq",
        "_path",
        "_tx_depth",
        "_tx_failed",
        "_tx_start",
    )

    def __init__(
        self, conn: sqlite3.Connection, path: Path, last_seq: int, head_hash: str, anchor: AnchorWriter | None = None
    ) -> None:
        self._conn = conn
        self._path = path
        self._last_seq = last_seq
        self._head_hash = head_hash
        self._tx_depth = 0
        self._tx_failed = False
        self._tx_start = (last_seq, head_hash)
        self._anchor = anchor
        self._anchor_warned = False

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
        try:
            conn = sqlite3.connect(str(file), isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open ledger {file}: {exc}") from exc
        try:
            (journal_mode,) = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            if str(journal_mode).lower() != "wal":
                raise LedgerError(f"ledger {file}: journal_mode is {journal_mode}, WAL required")
            conn.execute(pragma)
            conn.execute("BEGIN IMMEDIATE")
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version not in (0, LAYOUT_VERSION):
                raise LedgerError(f"ledger {file}: layout version {version}, this build reads {LAYOUT_VERSION}")
            conn.execute(CREATE_TABLE)
            for trigger in CREATE_TRIGGERS:
                conn.execute(trigger)
            conn.execute(f"PRAGMA user_version={LAYOUT_VERSION:d}")
            conn.execute("COMMIT")
            head = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        except (sqlite3.Error, LedgerError) as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
            if isinstance(exc, LedgerError):
                raise
            raise LedgerError(f"cannot open ledger {file}: {exc}") from exc
        last_seq, head_hash = (0, GENESIS_HASH) if head is None else (int(head[0]), str(head[1]))
        writer = None
        if anchor is not None:
            try:
                writer = _open_anchor(conn, file, anchor, last_seq, head_hash, check=existed)
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

    def append(self, kind: str, ts_ms: int, payload: Mapping[str, object]) -> LedgerEvent:
        """Append one event and make it durable.

        Outside :meth:`transaction` the event is committed before this returns; inside, it
        is committed when the outermost block exits.

        Parameters
        ----------
        kind:
            Event kind (lowercase snake_case; see :mod:`livegate.ledger.events`).
        ts_ms:
            Clock time of the event, ms since the epoch.
        payload:
            JSON-ready mapping; money and quantities as exact decimal strings.

        Returns
        -------
        LedgerEvent
            The stored event with its seq and hashes.

        Raises
        ------
        TypeError
            If the payload holds a ``Decimal`` or another type JSON cannot carry, or ts_ms is not an int.
        ValueError
            If ``kind`` is malformed or the payload holds a non-finite float.
        LedgerError
            If SQLite fails or the ledger is closed; the runtime must halt trading. Inside a
            transaction the whole block is rolled back.
        """
        check_kind(kind)
        check_ts_ms(ts_ms)
        body = check_payload(payload)
        if self._tx_failed:
            raise LedgerError("ledger transaction already failed; leave the block before appending again")
        seq = self._last_seq + 1
        digest = chain_hash(self._head_hash, seq, ts_ms, kind, body)
        text = canonical_json(body)
        row = (seq, ts_ms, kind, text, self._head_hash, digest)
        committed = False
        try:
            if self._tx_depth:
                self._conn.execute(_INSERT, row)
            else:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.execute(_INSERT, row)
                self._conn.execute("COMMIT")
                committed = True
        except sqlite3.Error as exc:
            if self._tx_depth:
                self._tx_failed = True
                self._abort_transaction()
            else:
                self._rollback_quietly()
            raise LedgerError(f"ledger append of {kind} seq {seq} failed: {exc}") from exc
        event = LedgerEvent(seq=seq, ts_ms=ts_ms, kind=kind, payload=body, prev_hash=self._head_hash, hash=digest)
        self._last_seq = seq
        self._head_hash = digest
        if committed and self._anchor is not None:
            self._write_anchor()
        return event

    @contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """Batch appends into one commit; they are durable when the outermost block exits.

        Nested blocks join the outer one. If the block raises, every append in it is rolled
        back, the chain head returns to where it was, and the error propagates.

        Raises
        ------
        LedgerError
            If the transaction cannot begin or commit.
        """
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield self
            finally:
                self._tx_depth -= 1
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot begin ledger transaction: {exc}") from exc
        self._tx_depth = 1
        self._tx_failed = False
        self._tx_start = (self._last_seq, self._head_hash)
        try:
            yield self
        except BaseException:
            self._tx_depth = 0
            self._tx_failed = False
            self._abort_transaction()
            raise
        self._tx_depth = 0
        if self._tx_failed:
            self._tx_failed = False
            raise LedgerError("ledger transaction failed and was rolled back")
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._abort_transaction()
            raise LedgerError(f"ledger commit failed: {exc}") from exc
        if self._anchor is not None and self._last_seq != self._tx_start[0]:
            self._write_anchor()

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

    @property
    def anchor_path(self) -> Path | None:
        """Return the anchor file in the state dir, or None when the ledger is not anchored."""
        return None if self._anchor is None else self._anchor.path

    def close(self) -> None:
        """Close the file (writing the anchor a last time); an open transaction is rolled back.

        Closing twice is harmless.
        """
        self._rollback_quietly()
        if self._anchor is not None:
            self._last_seq, self._head_hash = self._committed_head()
            self._write_anchor()
            self._anchor.close()
            self._anchor = None
        self._conn.close()

    def _committed_head(self) -> tuple[int, str]:
        if self._tx_depth:
            return self._tx_start
        return self._last_seq, self._head_hash

    def _write_anchor(self) -> None:
        """Anchor the committed head; a failure is logged once (the ledger commit already holds)."""
        if self._anchor is None:
            return
        try:
            self._anchor.write(self._last_seq, self._head_hash)
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

    def _abort_transaction(self) -> None:
        self._rollback_quietly()
        self._last_seq, self._head_hash = self._tx_start

    def _rollback_quietly(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            # The original failure is what the caller needs; SQLite discards a transaction
            # that could not be rolled back when the connection closes.
            return


def _open_anchor(
    conn: sqlite3.Connection, file: Path, anchor: Path, last_seq: int, head_hash: str, *, check: bool
) -> AnchorWriter:
    """Check an existing ledger against its anchor, then anchor its current head.

    A ledger file that did not exist before this open starts a new anchor (a run
    directory removed and made again); an existing one must agree with the anchor.
    """
    try:
        stored = read_anchor(anchor)
    except ValueError as exc:
        raise LedgerError(str(exc)) from exc
    if check and stored is not None:
        at = conn.execute("SELECT hash FROM events WHERE seq = ?", (stored.seq,)).fetchone()
        hash_at = GENESIS_HASH if stored.seq == 0 else (None if at is None else str(at[0]))
        problem = anchor_problem(last_seq, hash_at, stored)
        if problem is not None:
            raise LedgerError(f"ledger {file} disagrees with its anchor {anchor}: {problem[1]}")
    try:
        writer = AnchorWriter(anchor, file.parent)
        writer.write(last_seq, head_hash)
    except OSError as exc:
        raise LedgerError(f"cannot write the ledger anchor {anchor}: {exc}") from exc
    return writer
