"""Folding a ledger fast, from its checkpoint, and refreshing the checkpoint (issue 14 item 7).

:func:`fold_rows` folds raw ledger rows (each payload parsed once, no event objects).
:func:`fold_from_checkpoint` is what ``livegate run --resume`` folds with
(:func:`livegate.control.resume.rebuild_from_ledger`). :func:`refresh_checkpoint` brings a
run's checkpoint up to the ledger's committed head; a running session starts it as a
separate process, ``python -m livegate.ledger.checkpoint_job LEDGER_FILE``, every
:data:`CHECKPOINT_EVERY_EVENTS` ledger events, so the session loop never waits for it
and a crash of either leaves a valid checkpoint or none (docs/recovery.md).
"""

from __future__ import annotations

import json
import json.scanner
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from livegate.domain.errors import DataError
from livegate.ledger.db import SELECT_ROWS_AFTER, connect_readonly
from livegate.ledger.fold import LedgerFold, gc_paused

if TYPE_CHECKING:  # the checkpoint module (it hashes the fold's sources) loads when a checkpoint is read or written
    from livegate.ledger.checkpoint import HashAt

#: A session refreshes its checkpoint when the ledger grew by this many events (or by a
#: quarter of the events the checkpoint covers, if more) since the last refresh it started
#: (:class:`livegate.control.resume.CheckpointRefresher`).
CHECKPOINT_EVERY_EVENTS: Final = 50_000

RowsAfter = Callable[[int], Iterable[tuple[Any, ...]]]


#: The C JSON scanner ``json.loads`` runs, called directly: ``(value, end index)`` of the text from 0.
_SCAN_JSON: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def fold_rows(fold: LedgerFold, rows: Iterable[tuple[int, int, str, str, str, str]]) -> LedgerFold:
    """Fold raw ledger rows ``(seq, ts_ms, kind, payload JSON text, prev_hash, hash)`` into ``fold``; return it.

    The fast path of resume: each payload is parsed once and no :class:`LedgerEvent` is
    built. Rows must continue ``fold`` in seq order (:meth:`Ledger.rows
    <livegate.ledger.store.Ledger.rows>` after ``fold.last_seq``).

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


def refresh_checkpoint(ledger_file: Path) -> tuple[int, int, str]:
    """Write the checkpoint of ``ledger_file``'s committed events (read-only on the ledger).

    Starts from the existing checkpoint when it verifies (else from the first event),
    folds the committed events after it (checked against the chain) and writes the new
    checkpoint atomically when the ledger moved on.

    Returns
    -------
    tuple
        The seq the new checkpoint covers (the old one when nothing was written), the
        seq it started from, and why an existing checkpoint was not used (``""`` if it was).

    Raises
    ------
    DataError
        If the ledger cannot be read or its chain is broken after the starting point.
    OSError
        If the checkpoint cannot be written.
    """
    from livegate.ledger.checkpoint import checkpoint_path, write_checkpoint

    target = checkpoint_path(ledger_file)
    conn = connect_readonly(ledger_file)
    try:
        conn.execute("BEGIN")  # one snapshot of the committed ledger for the whole fold
        head = conn.execute("SELECT seq FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        head_seq = 0 if head is None else int(head[0])

        def hash_at(seq: int) -> str | None:
            row = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
            return None if row is None else str(row[0])

        def rows_after(seq: int) -> Iterable[tuple[Any, ...]]:
            return conn.execute(SELECT_ROWS_AFTER, (seq,))

        fold, first, why = fold_from_checkpoint(target, rows_after=rows_after, hash_at=hash_at, head_seq=head_seq)
    finally:
        conn.close()
    if fold.last_seq > first:
        write_checkpoint(target, fold)
    return fold.last_seq, first, why


def main(argv: list[str] | None = None) -> int:
    """Refresh the checkpoint of the ledger file named on the command line; 0 on success, 1 on failure."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m livegate.ledger.checkpoint_job LEDGER_FILE", file=sys.stderr)
        return 2
    try:
        seq, first, why = refresh_checkpoint(Path(args[0]))
    except (DataError, OSError, ValueError) as exc:
        print(f"fold checkpoint not written: {exc}", file=sys.stderr)
        return 1
    note = f" (previous checkpoint ignored: {why})" if why and first == 0 and "no checkpoint file" not in why else ""
    print(f"fold checkpoint at seq {seq} (folded from seq {first}){note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
