"""Folding a ledger fast, from its checkpoint, and refreshing the checkpoint (issue 14 item 7).

:func:`fold_rows` folds raw ledger rows (each payload parsed once, no event objects).
:func:`fold_from_checkpoint` is what ``livegate run --resume`` folds with
(:func:`livegate.control.resume.rebuild_from_ledger`). :func:`refresh_checkpoint` brings a
run's checkpoint up to the ledger's committed head; a running session starts it as a
separate process, ``python -m livegate.ledger.checkpoint_job LEDGER_FILE``, every
:data:`CHECKPOINT_EVERY_EVENTS` ledger events, so the session loop never waits for it
and a crash of either leaves a valid checkpoint or none (docs/recovery.md).

The job does not read the previous checkpoint back: decoded, it took about 1 KB per order
of the run, which made the job the largest process of a long session. It folds the
ledger from its first event instead, with finished orders let go to a scratch store on
disk (:mod:`livegate.ledger.checkpoint_spill`), and writes the body from that store
(:mod:`livegate.ledger.checkpoint_stream`): its memory stays flat however many orders the
run sent, at the cost of folding the whole ledger each time (in a process of lower
priority). The previous checkpoint still tells it which events were checked against the
chain already, and whether there is anything new to write.
"""

from __future__ import annotations

import json
import json.scanner
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from livegate.domain.errors import DataError, InvariantViolation
from livegate.ledger.db import SELECT_ROWS_AFTER, SELECT_ROWS_BETWEEN, connect_readonly
from livegate.ledger.events import GENESIS_HASH
from livegate.ledger.fold import LedgerFold, gc_paused

if TYPE_CHECKING:  # the checkpoint module (it hashes the fold's sources) loads when a checkpoint is read or written
    from livegate.domain.orders import Order
    from livegate.ledger.checkpoint import HashAt
    from livegate.ledger.checkpoint_spill import SpillStore
    from livegate.ledger.checkpoint_stream import ApprovedCount
    from livegate.ledger.fold import OrderEntry

#: A session refreshes its checkpoint when the ledger grew by this many events (or by a
#: quarter of the events the checkpoint covers, if more) since the last refresh it started
#: (:class:`livegate.control.resume.CheckpointRefresher`).
CHECKPOINT_EVERY_EVENTS: Final = 50_000

#: Niceness the job process adds to itself (``os.nice``): it folds the whole ledger on a core the
#: session may want (the replay's reader process takes the other one on a 2-core machine).
JOB_NICENESS: Final = 10

RowsAfter = Callable[[int], Iterable[tuple[Any, ...]]]


#: The C JSON scanner ``json.loads`` runs, called directly: ``(value, end index)`` of the text from 0.
_SCAN_JSON: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def fold_rows(
    fold: LedgerFold,
    rows: Iterable[tuple[int, int, str, str, str, str]],
    on_applied: Callable[[int, dict[str, Any]], None] | None = None,
) -> LedgerFold:
    """Fold raw ledger rows ``(seq, ts_ms, kind, payload JSON text, prev_hash, hash)`` into ``fold``; return it.

    The fast path of resume: each payload is parsed once and no :class:`LedgerEvent` is
    built. Rows must continue ``fold`` in seq order (:meth:`Ledger.rows
    <livegate.ledger.store.Ledger.rows>` after ``fold.last_seq``). ``on_applied`` is told
    each row's seq and parsed payload once it is folded (the checkpoint job's placing of orders).

    Raises
    ------
    DataError
        If a payload is not a JSON object or a known kind's payload cannot be read (naming its seq).
    """
    apply = fold.apply_payload
    scan = _SCAN_JSON
    for seq, ts_ms, kind, text, _prev, digest in rows:
        try:
            payload, end = scan(text, 0)  # the stored text is canonical JSON: no whitespace around it
        except (StopIteration, ValueError, TypeError) as exc:
            raise DataError(f"ledger seq {seq} ({kind}): payload is not JSON ({exc!r})") from exc
        if end != len(text) or type(payload) is not dict:
            raise DataError(f"ledger seq {seq} ({kind}): payload is not one JSON object")
        apply(seq, ts_ms, kind, payload, digest)
        if on_applied is not None:
            on_applied(seq, payload)
    return fold


# ---------------------------------------------------------------------- fold a ledger from its checkpoint


def fold_from_checkpoint(
    path: Path | None, *, rows_after: RowsAfter, hash_at: HashAt, head_seq: int
) -> tuple[LedgerFold, int, str]:
    """Fold a ledger: from its checkpoint when one verifies, else from the first event.

    The events after the checkpoint (all of them without one) are checked against the
    chain as they are folded (:func:`livegate.ledger.verify.chained_rows`), starting from
    the checkpoint's seq and hash.

    Parameters
    ----------
    path:
        The checkpoint file, or None to fold from the first event.
    rows_after:
        Returns the ledger's raw rows after a seq, in seq order.
    hash_at, head_seq:
        The ledger's stored hash at a seq, and its last seq (see :func:`read_checkpoint`).

    Returns
    -------
    tuple
        The fold, the seq of the checkpoint it started from (0: the first event), and
        why a checkpoint was not used (``""`` when one was, or none was asked for).

    Raises
    ------
    DataError
        If an event after the starting point breaks the chain or cannot be read.
    """
    from livegate.ledger.verify import chained_rows

    fold, why = None, ""
    with gc_paused():
        if path is not None:
            from livegate.ledger.checkpoint import CheckpointError, read_checkpoint

            try:
                fold = read_checkpoint(path, hash_at, head_seq)
            except CheckpointError as exc:
                why = str(exc)
        start = fold if fold is not None else LedgerFold()
        first = start.last_seq
        fold_rows(start, chained_rows(rows_after(first), first, start.last_hash))
    return start, first, why


def refresh_checkpoint(ledger_file: Path) -> tuple[int, int]:
    """Write the checkpoint of ``ledger_file``'s committed events (read-only on the ledger).

    Folds every committed event, checked against the chain from the first, with finished
    orders let go to a scratch store on disk (:func:`spill_fold`), and writes the body from
    that store column by column (:func:`livegate.ledger.checkpoint_stream.spilled_body`):
    the same file a fold of every event held in memory gives, in memory that does not grow
    with the orders of the run. Nothing is written when the current checkpoint already
    covers the ledger's head.

    Returns
    -------
    tuple
        The seq the checkpoint covers now, and the seq the previous one covered (0: none,
        or not of this ledger and build).

    Raises
    ------
    DataError
        If the ledger cannot be read or its chain is broken.
    InvariantViolation
        If the fold's orders do not add up to a checkpoint (nothing is written).
    OSError
        If the checkpoint cannot be written.
    """
    from livegate.ledger.checkpoint import checkpoint_path, covered_seq, write_streamed_checkpoint
    from livegate.ledger.checkpoint_spill import SpillStore
    from livegate.ledger.checkpoint_stream import spilled_body

    target = checkpoint_path(ledger_file)
    conn = connect_readonly(ledger_file)
    with SpillStore() as store:
        try:
            conn.execute("BEGIN")  # one snapshot of the committed ledger for the whole fold
            head = conn.execute("SELECT seq FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            head_seq = 0 if head is None else int(head[0])

            def hash_at(seq: int) -> str | None:
                row = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
                return None if row is None else str(row[0])

            before = covered_seq(target, hash_at)
            if head_seq == 0 or before == head_seq:
                return before, before
            fold, approved = spill_fold(conn, store, (before, hash_at(before) or "") if before else None)
        finally:
            conn.close()
        write_streamed_checkpoint(target, fold.last_seq, fold.last_hash, spilled_body(fold, store, approved))
    return fold.last_seq, before


def spill_fold(
    conn: sqlite3.Connection, store: SpillStore, trusted: tuple[int, str] | None = None
) -> tuple[LedgerFold, ApprovedCount]:
    """Fold every event of the ledger open on ``conn``, its finished orders and its fills put in ``store``.

    Every event after ``trusted`` (the seq and hash the previous checkpoint covers: the
    job that wrote it checked the events up to there, and a resume trusts them as well) is
    checked against the chain; without ``trusted``, every event from the first.

    A :class:`~livegate.ledger.fold_retire.Retirement` lets each finished order go (its
    rows into ``store``, its record too) and brings one back from the ledger when a later
    event names it; applied fills go to ``store`` as they come. What the fold still holds
    at the end is put in ``store`` as well, so ``store`` then has every order, entry and
    fill of the whole fold, each keyed by its place in the fold's order.

    Returns
    -------
    tuple
        The fold (positions, fill keys, counters and run facts as a whole fold's) and the
        count of its approved intents.

    Raises
    ------
    DataError
        If the chain is broken or a payload cannot be read (naming its seq).
    InvariantViolation
        If an order or entry the fold holds has no place in its order.
    """
    from livegate.ledger.checkpoint_spill import SpilledFills
    from livegate.ledger.checkpoint_stream import ApprovedCount
    from livegate.ledger.fold_retire import Retirement
    from livegate.ledger.scratch import ScratchInts, ScratchKeys
    from livegate.portfolio import Portfolio

    placed: dict[str, int] = {}  # client order id -> seq of the decision that made its order, while held

    def history(first: int, last: int) -> Iterable[tuple[Any, ...]]:
        return conn.execute(SELECT_ROWS_BETWEEN, (first, last))

    def on_retire(entry: OrderEntry, order: Order | None, first: int) -> None:
        store.put(entry, order, first, None if order is None else placed.pop(entry.client_order_id, None))

    retirement = Retirement(history, 0, records=ScratchInts(store.conn), on_retire=on_retire, lends=False)
    approved = ApprovedCount()
    fold = LedgerFold(
        portfolio=Portfolio(ScratchKeys(store.conn)),
        fills=SpilledFills(store),
        approved_intents=approved,
        retirement=retirement,
    )
    counted = [0]

    def place(seq: int, payload: dict[str, Any]) -> None:
        if approved.total != counted[0]:  # the fold made an order of this decision's intent
            counted[0] = approved.total
            placed[payload["client_order_id"]] = seq

    with gc_paused():
        fold_rows(fold, _checked_rows(conn, trusted), place)
    held = fold.portfolio.orders_by_id()
    for cid, entry in fold.entries.items():
        first = retirement.first_seq(cid)
        if first is None:
            raise InvariantViolation(f"entry {cid!r} has no first event in the checkpoint job's fold")
        store.put(entry, held.get(cid), first, placed.pop(cid, None))
    stray = next((cid for cid in held if cid not in fold.entries), None)
    if stray is not None:
        raise InvariantViolation(f"order {stray!r} without an order entry in the checkpoint job's fold")
    return fold, approved


def _checked_rows(conn: sqlite3.Connection, trusted: tuple[int, str] | None) -> Iterator[tuple[Any, ...]]:
    """Yield every row of the ledger on ``conn``, those after ``trusted`` (seq, hash) checked against the chain."""
    from livegate.ledger.verify import chained_rows

    start, start_hash = trusted or (0, GENESIS_HASH)
    yield from conn.execute(SELECT_ROWS_BETWEEN, (1, start))
    yield from chained_rows(conn.execute(SELECT_ROWS_AFTER, (start,)), start, start_hash)


def main(argv: list[str] | None = None) -> int:
    """Refresh the checkpoint of the ledger file named on the command line; 0 on success, 1 on failure."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m livegate.ledger.checkpoint_job LEDGER_FILE", file=sys.stderr)
        return 2
    try:
        os.nice(JOB_NICENESS)  # a background job: the session it serves comes first
    except OSError:
        pass
    try:
        seq, before = refresh_checkpoint(Path(args[0]))
    except (DataError, InvariantViolation, OSError, ValueError) as exc:
        print(f"fold checkpoint not written: {exc}", file=sys.stderr)
        return 1
    done = (
        "unchanged"
        if seq == before
        else f"written (folded from the first event; the previous one covered seq {before})"
    )
    print(f"fold checkpoint at seq {seq}: {done}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
