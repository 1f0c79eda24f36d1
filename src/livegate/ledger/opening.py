"""Opening a ledger file: WAL, the table and its triggers, the head, and the anchor check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from livegate.domain.errors import LedgerError
from livegate.ledger.anchor import AnchorWriter, read_anchor
from livegate.ledger.db import CREATE_TABLE, CREATE_TRIGGERS, LAYOUT_VERSION
from livegate.ledger.events import GENESIS_HASH


def connect_ledger(file: Path, pragma: str) -> tuple[sqlite3.Connection, int, str]:
    """Open (creating when needed) the ledger ``file``; return the connection, last seq and head hash.

    Raises
    ------
    LedgerError
        If the file cannot be opened or created, is not a ledger of this layout, or WAL
        cannot be enabled.
    """
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
    return conn, last_seq, head_hash


def open_anchor(
    conn: sqlite3.Connection, file: Path, anchor: Path, last_seq: int, head_hash: str, *, check: bool
) -> AnchorWriter:
    """Check an existing ledger against its anchor, then anchor its current head.

    A ledger file that did not exist before this open starts a new anchor (a run
    directory removed and made again); an existing one must agree with the anchor.

    Raises
    ------
    LedgerError
        If the ledger disagrees with the anchor (``truncated`` or ``rewritten``) or the
        anchor cannot be read or written.
    """
    try:
        stored = read_anchor(anchor)
    except ValueError as exc:
        raise LedgerError(str(exc)) from exc
    if check and stored is not None:
        from livegate.ledger.verify import anchor_problem  # an existing ledger only (a resume, a restart)

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
