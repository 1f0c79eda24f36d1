"""Export a ledger as order, fill or event tables in CSV or JSON lines (``livegate ledger export``).

Decimal amounts stay the exact strings the ledger holds. Export does not verify the hash
chain; run :func:`livegate.ledger.verify.verify_ledger` first when it matters.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Final, Literal, TextIO

from livegate.domain.errors import DataError
from livegate.ledger.db import SELECT_ROWS, connect_readonly
from livegate.ledger.events import DECISION, FILL, INTENT, ORDER_REPORT, SUBMIT_REQUESTED, canonical_json

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

_TERMINAL_STATUSES: Final = frozenset({"filled", "cancelled", "rejected", "expired"})
#: Significant digits of sums (exact for any realistic amount) and of the average price.
_SUM_DIGITS: Final = 60
_AVERAGE_DIGITS: Final = 28

Row = dict[str, object]


def export_rows(path: Path, kind: ExportKind) -> tuple[list[str], list[Row]]:
    """Read a ledger and return the columns and rows of one export table.

    Parameters
    ----------
    path:
        The ledger file, or a run directory holding ``ledger.sqlite``.
    kind:
        ``fills``: one row per fill event (:data:`FILL_COLUMNS`).
        ``orders``: one row per client order id, folding intent, decision, submit,
        order reports and fills (:data:`ORDER_COLUMNS`); ``status`` is empty for denied intents.
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
    if kind == "fills":
        return list(FILL_COLUMNS), [_fill_row(payload) for _, _, k, payload, _ in _read(path) if k == FILL]
    if kind == "orders":
        return list(ORDER_COLUMNS), _order_rows(_read(path))
    if kind == "events":
        rows: list[Row] = [
            {"seq": seq, "ts_ms": ts_ms, "kind": k, "payload": payload, "hash": digest}
            for seq, ts_ms, k, payload, digest in _read(path)
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


def _read(path: Path) -> Iterator[tuple[int, int, str, dict[str, object], str]]:
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


def _fill_row(payload: dict[str, object]) -> Row:
    return {name: payload.get(name) for name in FILL_COLUMNS}


@dataclass(slots=True)
class _OrderFold:
    """Running state of one client order id while folding events (local to one export)."""

    row: Row
    quantity: Decimal | None
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    status: str = ""
    denied: bool = False


def _order_rows(events: Iterator[tuple[int, int, str, dict[str, object], str]]) -> list[Row]:
    folds: dict[str, _OrderFold] = {}
    ctx = Context(prec=_SUM_DIGITS)
    for _seq, ts_ms, kind, payload, _digest in events:
        cid = payload.get("client_order_id")
        if not isinstance(cid, str):
            continue
        fold = folds.get(cid)
        if kind == INTENT:
            if fold is None:
                folds[cid] = _new_fold(cid, ts_ms, payload)
            continue
        if fold is None:
            fold = folds[cid] = _OrderFold(row={"client_order_id": cid}, quantity=None)
        if kind == DECISION:
            fold.denied = payload.get("approved") is not True
            fold.row["decision"] = "denied" if fold.denied else "approved"
            fold.row["denial_code"] = payload.get("code") if fold.denied else None
            fold.row["denial_detail"] = payload.get("detail") if fold.denied else None
            fold.row["venue"] = payload.get("venue", fold.row.get("venue"))
        elif kind == SUBMIT_REQUESTED:
            fold.row["venue"] = payload.get("venue", fold.row.get("venue"))
            fold.status = fold.status or "submitted"
        elif kind == ORDER_REPORT:
            fold.status = str(payload.get("status") or fold.status)
            if payload.get("venue_order_id"):
                fold.row["venue_order_id"] = payload["venue_order_id"]
        elif kind == FILL:
            price, quantity, fee = (_decimal(payload.get(name)) for name in ("price", "quantity", "fee"))
            fold.filled = ctx.add(fold.filled, quantity)
            fold.notional = ctx.add(fold.notional, ctx.multiply(price, quantity))
            fold.fees = ctx.add(fold.fees, fee)
            if fold.quantity is not None and fold.filled >= fold.quantity:
                fold.status = "filled"
            elif fold.status not in _TERMINAL_STATUSES:
                fold.status = "partially_filled"
            fold.row.setdefault("venue", payload.get("venue") or None)
    return [_finish(fold) for fold in folds.values()]


def _new_fold(cid: str, ts_ms: int, payload: dict[str, object]) -> _OrderFold:
    row: Row = {"client_order_id": cid}
    for name in ORDER_COLUMNS[2:11]:
        row[name] = payload.get(name)
    intent_ts = payload.get("ts_ms")
    row["ts_ms"] = intent_ts if isinstance(intent_ts, int) else ts_ms
    quantity = payload.get("quantity")
    return _OrderFold(row=row, quantity=_decimal(quantity) if quantity is not None else None)


def _finish(fold: _OrderFold) -> Row:
    row = {name: fold.row.get(name) for name in ORDER_COLUMNS}
    row["decision"] = row["decision"] or ""
    row["status"] = "" if fold.denied else fold.status
    row["filled_quantity"] = str(fold.filled)
    row["fees"] = str(fold.fees)
    row["average_fill_price"] = (
        str(Context(prec=_AVERAGE_DIGITS).divide(fold.notional, fold.filled)) if fold.filled else None
    )
    return row


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise DataError(f"ledger amount {value!r} is not a decimal string") from exc


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return canonical_json(value)
    return value
