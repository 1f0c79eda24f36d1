"""Recompute a ledger's hash chain from the raw rows (``livegate ledger verify``)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livegate.domain.errors import DataError
from livegate.ledger.anchor import Anchor
from livegate.ledger.db import SELECT_ROWS, connect_readonly
from livegate.ledger.events import GENESIS_HASH, canonical_json, chain_hash, chain_hash_encoded

_FETCH_BATCH = 1024
#: Kinds whose JSON text is the name itself in quotes (what :func:`chain_hash_encoded` assumes).
_PLAIN_KIND = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify_ledger`.

    Parameters
    ----------
    ok:
        True when every row chains to the previous one and matches its stored hash.
    events:
        Number of events that verified (all of them when ``ok``).
    head_hash:
        Hash of the last event that verified (the run's ``ledger_hash`` when ``ok``);
        the genesis hash when none did.
    first_bad_seq:
        Seq of the first event that failed (for a gap: the first missing seq), else None.
    reason:
        ``"ok"`` or what failed, e.g. ``"seq 7: stored hash does not match the recomputed hash"``.
    verdict:
        ``ok``, ``broken`` (the chain itself fails), ``truncated`` (fewer events than the
        anchor or the expected head says) or ``rewritten`` (the chain holds but differs
        from the anchor or the expected head).
    """

    ok: bool
    events: int
    head_hash: str
    first_bad_seq: int | None
    reason: str
    verdict: str = "ok"


def verify_ledger(path: Path, *, expected_head_hash: str | None = None, anchor: Anchor | None = None) -> VerifyResult:
    """Check the hash chain of a ledger file.

    Detects edited ``payload``/``kind``/``ts_ms``/hash columns, deleted rows (a seq gap),
    inserted or renumbered rows and broken ``prev_hash`` links. A hash chain alone cannot
    detect that the newest events were cut off, or that the whole chain was recomputed;
    pass ``anchor`` (the head anchored in the state dir, :mod:`livegate.ledger.anchor`) or
    ``expected_head_hash`` (e.g. ``ledger_hash`` from ``summary.json``) to catch both.

    Each row's stored payload text is hashed as stored (it is the canonical text the
    writer hashed); only a row whose digest does not match is decoded, to name what is
    wrong with it (not JSON, not canonical, edited).

    Parameters
    ----------
    path:
        The ledger file, or a run directory holding ``ledger.sqlite``.
    expected_head_hash:
        When given, the final head must equal it.
    anchor:
        When given, the ledger must reach ``anchor.seq`` (else ``truncated``) and the
        event at that seq must have ``anchor.hash`` (else ``rewritten``); events after
        it are allowed (written after the last anchor update).

    Returns
    -------
    VerifyResult
        ``ok=False`` names the first bad seq and the reason; the file is never modified.

    Raises
    ------
    DataError
        If the file is missing, unreadable, not SQLite or not a ledger (CLI exit 2).
    """
    conn = connect_readonly(path)
    try:
        return _verify_rows(conn, expected_head_hash, anchor)
    except sqlite3.Error as exc:
        raise DataError(f"cannot read ledger {path}: {exc}") from exc
    finally:
        conn.close()


def _verify_rows(conn: sqlite3.Connection, expected_head_hash: str | None, anchor: Anchor | None) -> VerifyResult:
    prev = GENESIS_HASH
    count = 0
    at_anchor: str | None = GENESIS_HASH if anchor is not None and anchor.seq == 0 else None
    cursor = conn.execute(SELECT_ROWS)
    while rows := cursor.fetchmany(_FETCH_BATCH):
        for row in rows:
            expected_seq = count + 1
            checked = _check_row(expected_seq, prev, row)
            if isinstance(checked, _Bad):
                return VerifyResult(
                    False, count, prev, checked.seq, f"seq {checked.seq}: {checked.reason}", verdict="broken"
                )
            prev = checked
            count += 1
            if anchor is not None and count == anchor.seq:
                at_anchor = checked
    if anchor is not None:
        problem = anchor_problem(count, at_anchor, anchor)
        if problem is not None:
            verdict, reason, bad_seq = problem
            return VerifyResult(False, count, prev, bad_seq, reason, verdict=verdict)
    if expected_head_hash is not None and expected_head_hash != prev:
        return VerifyResult(
            False,
            count,
            prev,
            count + 1,
            f"head hash {prev} after {count} events differs from the expected {expected_head_hash} "
            "(events missing at the end or chain rewritten)",
            verdict="rewritten",
        )
    return VerifyResult(True, count, prev, None, "ok")


def chained_rows(
    rows: Iterable[tuple[Any, ...]], after_seq: int, prev_hash: str
) -> Iterator[tuple[int, int, str, str, str, str]]:
    """Yield ledger rows after checking each one continues the chain from ``(after_seq, prev_hash)``.

    The check of :func:`verify_ledger` for one stretch of the chain: seqs without a gap,
    each ``prev_hash`` linking to the previous event, each stored hash equal to the hash
    recomputed from the row (resume folds only rows that pass).

    Raises
    ------
    DataError
        At the first row that breaks the chain, naming its seq and what is wrong.
    """
    prev = prev_hash
    expected = after_seq + 1
    for row in rows:
        checked = _check_row(expected, prev, row)
        if isinstance(checked, _Bad):
            raise DataError(f"ledger chain broken at seq {checked.seq}: {checked.reason}")
        prev = checked
        expected += 1
        yield row


def anchor_problem(head_seq: int, hash_at_anchor: str | None, anchor: Anchor) -> tuple[str, str, int] | None:
    """Return ``(verdict, reason, first bad seq)`` when a ledger disagrees with its anchor, else None.

    Parameters
    ----------
    head_seq:
        Seq of the ledger's last event (0 when empty).
    hash_at_anchor:
        Hash of the ledger's event at ``anchor.seq`` (None when the ledger is shorter).
    anchor:
        The anchored head.
    """
    if head_seq < anchor.seq:
        return (
            "truncated",
            f"truncated: the ledger ends at seq {head_seq} but its anchor ({anchor.run_id}) records seq "
            f"{anchor.seq}; events {head_seq + 1}..{anchor.seq} were deleted",
            head_seq + 1,
        )
    if hash_at_anchor != anchor.hash:
        return (
            "rewritten",
            f"rewritten: event seq {anchor.seq} has hash {hash_at_anchor} but its anchor ({anchor.run_id}) "
            f"records {anchor.hash}; the chain was recomputed after an edit",
            anchor.seq,
        )
    return None


@dataclass(frozen=True, slots=True)
class _Bad:
    seq: int
    reason: str


def _check_row(expected_seq: int, prev: str, row: tuple[object, ...]) -> str | _Bad:
    """Return the recomputed hash of one raw row, or what is wrong with it."""
    seq, ts_ms, kind, payload_text, prev_hash, stored_hash = row
    if not isinstance(seq, int) or seq < expected_seq:
        return _Bad(expected_seq, f"unexpected seq {seq!r} where {expected_seq} was due (inserted or renumbered row)")
    if seq > expected_seq:
        return _Bad(expected_seq, f"missing, next row is seq {seq} (row deleted)")
    if not isinstance(ts_ms, int):
        return _Bad(seq, f"ts_ms is {type(ts_ms).__name__}, not an integer")
    if not isinstance(kind, str):
        return _Bad(seq, f"kind is {type(kind).__name__}, not text")
    if not isinstance(payload_text, str):
        return _Bad(seq, f"payload is {type(payload_text).__name__}, not text")
    if prev_hash != prev:
        return _Bad(seq, "prev_hash does not link to the previous event")
    if _PLAIN_KIND.match(kind):
        # the stored text is what was hashed at append: hash it as stored (no decode, no re-encode);
        # any edit of it, of kind or of ts_ms changes the digest, and the slow path below names what
        try:
            fast = chain_hash_encoded(prev, seq, ts_ms, kind, payload_text.encode("utf-8"))
        except UnicodeEncodeError:
            fast = ""
        if fast == stored_hash:
            return fast
    try:
        payload = json.loads(payload_text, parse_constant=_refuse_constant)
    except ValueError as exc:
        return _Bad(seq, f"payload is not valid JSON ({exc})")
    if not isinstance(payload, dict):
        return _Bad(seq, "payload is not a JSON object")
    try:
        if canonical_json(payload) != payload_text:
            return _Bad(seq, "payload is not in canonical form (row edited)")
        digest = chain_hash(prev, seq, ts_ms, kind, payload)
    except ValueError as exc:
        return _Bad(seq, f"payload cannot be hashed ({exc})")
    if stored_hash != digest:
        return _Bad(seq, "stored hash does not match the recomputed hash (row edited)")
    return digest


def _refuse_constant(token: str) -> object:
    raise ValueError(f"non-finite number {token}")
