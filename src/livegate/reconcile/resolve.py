"""Startup resolution: settle every order the ledger left unfinished from the venue's truth.

After a crash the ledger may hold orders whose submit outcome is unknown, fills the venue
made that the ledger never saw, and cancels that may or may not have reached the venue.
Each is resolved here by asking the venue (lookup by client order id and its fill
history, docs/architecture.md §3.6) and applied through the execution engine, so the ledger records
the resolution like any other venue report. Nothing is ever resent: the strategy that
wanted the order did not survive the crash.
"""

from __future__ import annotations

from livegate.domain.enums import OrderStatus
from livegate.domain.errors import VenueError
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.execution.engine import ExecutionEngine
from livegate.ledger.payload_session import FillsMatched
from livegate.portfolio import Portfolio
from livegate.reconcile.drift import DriftKind, DriftRecord
from livegate.reconcile.fills import FILL_READ_OVERLAP_MS, FillHistory, FillJournal
from livegate.reconcile.result import ReconcileIncomplete
from livegate.venues.base import VenueAdapter

#: Reject code recorded for approved orders that were never sent before the crash.
NOT_SENT = "NOT_SENT"
#: Code recorded for orders the venue never received (lookup by client order id found nothing).
LOST_BEFORE_VENUE = "LOST_BEFORE_VENUE"
#: Code recorded for orders of a stateless venue (shadow) that forgot them with the crashed process.
VENUE_FORGOT = "VENUE_FORGOT"


async def resolve_after_restart(
    *,
    engine: ExecutionEngine,
    venue: VenueAdapter,
    portfolio: Portfolio,
    ledger_fill_ids: set[str],
    now_ms: int,
    trigger: str = "startup",
    venue_keeps_state: bool = True,
    matched: FillsMatched | None = None,
) -> list[DriftRecord]:
    """Import fills the ledger missed and settle unfinished orders from venue truth.

    Parameters
    ----------
    engine:
        Applies the venue's answers (ledger ``fill``/``order_report`` events, portfolio).
    venue:
        The venue the orders were routed to.
    portfolio:
        The book rebuilt from the ledger.
    ledger_fill_ids:
        Fill ids the ledger already holds.
    now_ms:
        Session clock time for reports and records, ms since the epoch.
    trigger:
        Recorded in the drift records.
    venue_keeps_state:
        False for the shadow venue, which forgets its orders with the process: orders it
        no longer knows are closed as expired (code ``VENUE_FORGOT``) instead of drifting.
    matched:
        Where the run's last reconciliation found the venue's fills and the ledger's
        equal (:class:`~livegate.ledger.payload_session.FillsMatched`): every venue fill before it
        is in the ledger, so only the venue's fills after it are read (after its journal
        cursor, or from a minute before its newest fill); None reads every fill.

    Returns
    -------
    list[DriftRecord]
        One ``resolved`` record per adopted fact (imported fill, settled order).

    Raises
    ------
    ReconcileIncomplete
        If the venue cannot be asked; trading must not start.
    """
    records: list[DriftRecord] = []
    name = venue.name
    try:
        if isinstance(venue, FillHistory):
            records += await _look_up_before_fills(engine, venue, portfolio, now_ms, trigger)
            for fill in await _fills_since(venue, matched):
                if fill.fill_id in ledger_fill_ids or portfolio.order(fill.client_order_id) is None:
                    continue
                engine.on_report(fill)
                records.append(
                    DriftRecord(
                        DriftKind.MISSING_INTERNAL, name, fill.symbol, "",
                        f"{fill.fill_id} {fill.side.value} {fill.quantity}@{fill.price}", str(fill.quantity), "0",
                        "fills", trigger, now_ms, resolved=True, client_order_id=fill.client_order_id,
                    )
                )  # fmt: skip
        for order in list(portfolio.working_orders()):
            if order.venue == name:
                record = await _settle(engine, venue, order, now_ms, trigger, venue_keeps_state)
                if record is not None:
                    records.append(record)
    except VenueError as exc:
        raise ReconcileIncomplete(f"venue {name} did not answer during startup resolution: {exc.message}") from exc
    return records


async def _look_up_before_fills(
    engine: ExecutionEngine, venue: VenueAdapter, portfolio: Portfolio, now_ms: int, trigger: str
) -> list[DriftRecord]:
    """Look every unfinished order of ``venue`` up by client order id before its fills are read.

    A venue whose fill history names an order only by the venue's own id (Binance
    ``GET /api/v3/myTrades`` carries no client order id) lets the adapter attribute a fill
    only to an order it has seen since it started (submit, lookup): after a restart, none,
    so without these lookups the fills made while livegate was down would be skipped and
    the orders left working. An order sent before the crash without an answer that the
    venue holds is recorded ``accepted`` with the venue's order id (its fills, imported
    next, drive its filled state); one the venue never saw is left to :func:`_settle`.
    """
    records: list[DriftRecord] = []
    for order in list(portfolio.working_orders()):
        if order.venue != venue.name or order.status is OrderStatus.NEW:
            continue
        snapshot = await venue.fetch_order(order.client_order_id, order.symbol)
        if snapshot is None or order.status is not OrderStatus.SUBMITTED:
            continue
        internal = f"{order.status.value}/{order.filled_quantity}"
        engine.on_report(
            OrderReport(
                order.client_order_id, OrderStatus.ACCEPTED, snapshot.ts_ms, venue_order_id=snapshot.venue_order_id,
                filled_quantity=snapshot.filled_quantity, reason="resolved from venue after restart",
            )
        )  # fmt: skip
        theirs = f"{snapshot.status.value}/{snapshot.filled_quantity}"
        records.append(
            _record(DriftKind.STATUS_MISMATCH, venue.name, order, internal, theirs, "adopted venue", now_ms, trigger)
        )
    return records


async def _fills_since(venue: FillHistory, matched: FillsMatched | None) -> list[Fill]:
    """Return the venue's fills after ``matched`` (every fill when None), oldest first."""
    if matched is not None and isinstance(venue, FillJournal):
        fills, _ = await venue.fills_after(matched.venue_cursor)
        return fills
    newest = None if matched is None else matched.venue_newest_ms
    return await venue.recent_fills(since_ms=None if newest is None else newest - FILL_READ_OVERLAP_MS)


async def _settle(
    engine: ExecutionEngine, venue: VenueAdapter, order: Order, now_ms: int, trigger: str, keeps_state: bool
) -> DriftRecord | None:
    cid = order.client_order_id
    internal = f"{order.status.value}/{order.filled_quantity}"
    if order.status is OrderStatus.NEW:
        engine.on_report(
            OrderReport(cid, OrderStatus.REJECTED, now_ms, code=NOT_SENT, reason="approved, never sent before restart")
        )
        return _record(DriftKind.MISSING_VENUE, venue.name, order, internal, "", "never sent", now_ms, trigger)
    snapshot = await venue.fetch_order(cid, order.symbol)
    if snapshot is None:
        if order.status is OrderStatus.SUBMITTED:
            engine.on_report(
                OrderReport(
                    cid, OrderStatus.EXPIRED, now_ms, code=LOST_BEFORE_VENUE,
                    reason="venue has no order with this client order id after restart; not resent",
                )
            )  # fmt: skip
            return _record(
                DriftKind.MISSING_VENUE, venue.name, order, internal, "", "lost before venue", now_ms, trigger
            )
        if not keeps_state:
            engine.on_report(
                OrderReport(cid, OrderStatus.EXPIRED, now_ms, code=VENUE_FORGOT, reason="stateless venue restarted")
            )
            return _record(DriftKind.MISSING_VENUE, venue.name, order, internal, "", "venue forgot", now_ms, trigger)
        return None  # the comparison reports it as missing_venue, unresolved
    theirs = f"{snapshot.status.value}/{snapshot.filled_quantity}"
    if snapshot.filled_quantity != order.filled_quantity:
        return None  # fills the venue does not list: the comparison reports a status mismatch
    if snapshot.status.is_terminal and not order.status.is_terminal:
        engine.on_report(
            OrderReport(
                cid, snapshot.status, snapshot.ts_ms, venue_order_id=snapshot.venue_order_id,
                filled_quantity=snapshot.filled_quantity, reason="resolved from venue after restart",
            )
        )  # fmt: skip
        return _record(DriftKind.STATUS_MISMATCH, venue.name, order, internal, theirs, "adopted venue", now_ms, trigger)
    if snapshot.status.is_working and order.status is OrderStatus.SUBMITTED:
        engine.on_report(
            OrderReport(
                cid, OrderStatus.ACCEPTED, snapshot.ts_ms, venue_order_id=snapshot.venue_order_id,
                filled_quantity=snapshot.filled_quantity, reason="resolved from venue after restart",
            )
        )  # fmt: skip
        return _record(DriftKind.STATUS_MISMATCH, venue.name, order, internal, theirs, "adopted venue", now_ms, trigger)
    return None


def _record(
    kind: DriftKind, venue: str, order: Order, internal: str, theirs: str, diff: str, now_ms: int, trigger: str
) -> DriftRecord:
    return DriftRecord(
        kind, venue, order.symbol, internal, theirs, diff, "0", "fetch_order", trigger, now_ms,
        resolved=True, client_order_id=order.client_order_id,
    )  # fmt: skip
