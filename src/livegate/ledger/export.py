"""Export a ledger as order, fill or event tables in CSV or JSON lines (``livegate ledger export``).

Decimal amounts stay exact. Orders and fills come from the one ledger fold
(:mod:`livegate.ledger.fold`). Export does not verify the hash chain;
run :func:`livegate.ledger.verify.verify_ledger` first when it matters.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from decimal import Context, Decimal
from itertools import islice
from pathlib import Path
from typing import Final, Literal, TextIO

from livegate.domain.enums import OrderStatus
from livegate.domain.errors import DataError
from livegate.domain.orders import Fill, Order
from livegate.ledger.db import SELECT_ROWS, SELECT_ROWS_AFTER, connect_readonly, select_rows
from livegate.ledger.events import LedgerEvent, canonical_json
from livegate.ledger.fold import LedgerFold, OrderEntry, fold_events

ExportKind = Literal["orders", "fills", "events"]
ExportFormat = Literal["csv", "jsonl"]

FILL_COLUMNS: Final = (
    "ts_ms",
    "client_order_id",
    "symbol",
    "side",
    "price",
    "quantity",
    "fee",
    "liquidity",
    "fill_id",
    "venue",
)
ORDER_COLUMNS: Final = (
    "client_order_id",
    "ts_ms",
    "symbol",
    "side",
    "order_type",
    "quantity",
    "price",
    "time_in_force",
    "post_only",
    "reduce_only",
    "strategy_id",
    "venue",
    "decision",
    "denial_code",
    "denial_detail",
    "status",
    "venue_order_id",
    "filled_quantity",
    "average_fill_price",
    "fees",
)
EVENT_COLUMNS: Final = ("seq", "ts_ms", "kind", "payload", "hash")

#: Significant digits of the average price.
_AVERAGE_DIGITS: Final = 28

Row = dict[str, object]


def export_rows(path: Path, kind: ExportKind) -> tuple[list[str], list[Row]]:
    """Read a ledger and return the columns and rows of one export table.

    Parameters
    ----------
    path:
        The ledger file, or a run directory holding ``ledger.sqlite``.
    kind:
        ``fills``: one row per fill counted (:data:`FILL_COLUMNS`); a fill recorded twice
        (same client order id and venue trade id) is one row.
        ``orders``: one row per client order id, from :func:`livegate.ledger.fold.fold_events`
        (the fold resume and reconciliation use) (:data:`ORDER_COLUMNS`); ``status`` is
        empty for denied intents and approved orders never submitted.
        ``events``: one row per event (:data:`EVENT_COLUMNS`), ``payload`` as a dict.

    Returns
    -------
    tuple[list[str], list[dict[str, object]]]
        Column names and rows in ledger order.

    Raises
    ------
    ValueError
        If ``kind`` is unknown.
    DataError
        If the ledger is missing, unreadable or holds a payload that is not a JSON object.
    """
    if kind in ("fills", "orders"):
        return fold_table(_fold(path), kind)
    if kind == "events":
        rows: list[Row] = [
            {"seq": seq, "ts_ms": ts_ms, "kind": k, "payload": payload, "hash": digest}
            for seq, ts_ms, k, payload, digest in iter_payloads(path)
        ]
        return list(EVENT_COLUMNS), rows
    raise ValueError(f"unknown export kind {kind!r}; expected orders, fills or events")


def write_rows(stream: TextIO, columns: list[str], rows: list[Row], fmt: ExportFormat) -> int:
    """Write export rows to a text stream.

    CSV has a header line; ``None`` is written as an empty cell, booleans as ``true``/``false``
    and dicts/lists as canonical JSON. JSON lines hold one object per row with the columns
    in order and values in their JSON types.

    Parameters
    ----------
    stream:
        Open text stream; for files open with ``newline=""``.
    columns, rows:
        As returned by :func:`export_rows`.
    fmt:
        ``csv`` or ``jsonl``.

    Returns
    -------
    int
        Number of rows written.

    Raises
    ------
    ValueError
        If ``fmt`` is unknown.
    """
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_cell(row.get(name)) for name in columns])
        return len(rows)
    if fmt == "jsonl":
        for row in rows:
            stream.write(json.dumps({name: row.get(name) for name in columns}, ensure_ascii=False) + "\n")
        return len(rows)
    raise ValueError(f"unknown export format {fmt!r}; expected csv or jsonl")


def write_export(path: Path, kind: ExportKind, fmt: ExportFormat, stream: TextIO) -> int:
    """Export one table of a ledger to ``stream``; see :func:`export_rows` and :func:`write_rows`.

    Parameters
    ----------
    path:
        The ledger file, or a run directory holding ``ledger.sqlite``.
    kind:
        ``orders``, ``fills`` or ``events``.
    fmt:
        ``csv`` or ``jsonl``.
    stream:
        Open text stream (e.g. ``sys.stdout``).

    Returns
    -------
    int
        Number of rows written.

    Raises
    ------
    ValueError
        If ``kind`` or ``fmt`` is unknown.
    DataError
        If the ledger is missing or unreadable.
    """
    columns, rows = export_rows(path, kind)
    return write_rows(stream, columns, rows, fmt)


def iter_payloads(path: Path) -> Iterator[tuple[int, int, str, dict[str, object], str]]:
    """Yield ``(seq, ts_ms, kind, payload, hash)`` of a ledger's events in seq order, one at a time.

    The payload is parsed JSON; no :class:`LedgerEvent` is built (readers that fold a whole
    ledger, e.g. the run report).

    Raises
    ------
    DataError
        If the ledger is missing or unreadable, or a payload is not a JSON object.
    """
    conn = connect_readonly(path)
    try:
        for seq, ts_ms, kind, payload_text, _prev, digest in conn.execute(SELECT_ROWS):
            payload = json.loads(payload_text)
            if not isinstance(payload, dict):
                raise DataError(f"ledger {path}: payload of seq {seq} is not a JSON object")
            yield int(seq), int(ts_ms), str(kind), payload, str(digest)
    except (sqlite3.Error, ValueError) as exc:
        raise DataError(f"cannot read ledger {path}: {exc}") from exc
    finally:
        conn.close()


def iter_rows(path: Path, *, after_seq: int = 0) -> Iterator[tuple[int, int, str, str, str, str]]:
    """Yield a ledger's raw rows ``(seq, ts_ms, kind, payload JSON text, prev_hash, hash)`` after ``after_seq``.

    In seq order, one at a time, nothing decoded (readers that fold the rows themselves:
    :class:`livegate.ops.rollup_read.RunReader`).

    Raises
    ------
    DataError
        If the ledger is missing or unreadable.
    """
    return select_rows(path, SELECT_ROWS_AFTER, (after_seq,))


def stored_hash(path: Path, seq: int) -> str | None:
    """Return the chain hash a ledger file holds for ``seq`` (None: no such event).

    Raises
    ------
    DataError
        If the ledger is missing or unreadable.
    """
    conn = connect_readonly(path)
    try:
        row = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
    except sqlite3.Error as exc:
        raise DataError(f"cannot read ledger {path}: {exc}") from exc
    finally:
        conn.close()
    return None if row is None else str(row[0])


def iter_events(path: Path) -> Iterator[LedgerEvent]:
    """Yield a ledger's events in seq order, one at a time (``prev_hash`` left empty).

    For readers that fold or summarize a whole ledger without holding every event.

    Raises
    ------
    DataError
        If the ledger is missing or unreadable, or a payload is not a JSON object.
    """
    for seq, ts_ms, kind, payload, digest in iter_payloads(path):
        yield LedgerEvent(seq=seq, ts_ms=ts_ms, kind=kind, payload=payload, prev_hash="", hash=digest)


def _fold(path: Path) -> LedgerFold:
    return fold_events(iter_events(path))


def fold_table(
    fold: LedgerFold, kind: Literal["fills", "orders"], *, limit: int | None = None
) -> tuple[list[str], list[Row]]:
    """Return the columns and rows of the ``fills`` or ``orders`` table of an existing fold.

    The same rows as :func:`export_rows` gives for the ledger ``fold`` was built from, for a
    caller that folded the ledger already (the run report), so it is not read again. With
    ``limit``, only the first ``limit`` rows are built.
    """
    if kind == "fills":
        return list(FILL_COLUMNS), [_fill_row(fill) for fill in islice(fold.fills, limit)]
    entries = islice(fold.entries.values(), limit)
    return list(ORDER_COLUMNS), [_order_row(entry, fold.order(entry.client_order_id)) for entry in entries]


def _fill_row(fill: Fill) -> Row:
    record = fill.to_record()
    return {name: record.get(name) for name in FILL_COLUMNS}


def _order_row(entry: OrderEntry, order: Order | None) -> Row:
    row: Row = dict.fromkeys(ORDER_COLUMNS)
    row["client_order_id"] = entry.client_order_id
    row["ts_ms"] = entry.first_ts_ms
    if entry.intent is not None:
        record = entry.intent.to_record()
        for name in ORDER_COLUMNS[2:11]:
            row[name] = record.get(name)
        row["ts_ms"] = entry.intent.ts_ms
    decision = entry.decision
    denied = decision is not None and not decision.approved
    row["decision"] = "" if decision is None else ("denied" if denied else "approved")
    if denied and decision is not None:
        row["denial_code"], row["denial_detail"] = decision.code or None, decision.detail
    row["venue"] = entry.venue or None
    row["venue_order_id"] = (order.venue_order_id if order is not None else "") or entry.venue_order_id or None
    if denied:
        row["status"] = ""
    elif order is not None:
        row["status"] = "" if order.status is OrderStatus.NEW else order.status.value
    else:
        row["status"] = entry.last_status
    filled = order.filled_quantity if order is not None else Decimal(0)
    row["filled_quantity"] = str(filled)
    row["fees"] = str(entry.fees)
    average = None
    if order is not None and filled:
        average = str(Context(prec=_AVERAGE_DIGITS).divide(order.notional_filled, filled))
    row["average_fill_price"] = average
    return row


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return canonical_json(value)
    return value
