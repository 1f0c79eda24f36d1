"""ib_async trades, fills and executions read as livegate reports, snapshots and fills.

Pure functions of ib_async objects (``Trade``, ``Fill``): no connection, no state. The
adapter decides when to call them; :mod:`livegate.venues.ibkr.mapping` holds the value
tables they use.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from livegate.domain.enums import OrderStatus, OrderType
from livegate.domain.orders import Fill, OrderReport
from livegate.domain.snapshots import VenueOrderSnapshot
from livegate.venues.ibkr.mapping import (
    PENDING_STATUSES,
    filled_quantity,
    ib_status,
    liquidity,
    side_of,
    to_decimal,
    to_ms,
)

__all__ = [
    "commission_of",
    "fill_of",
    "find_trade",
    "last_error",
    "order_report",
    "order_snapshot",
    "status_of",
    "working_trades",
]


def last_error(trade: Any) -> tuple[int, str]:
    """Return the TWS error code and text of the trade's last log entry, or ``(0, "")``."""
    entry = trade.log[-1] if trade.log else None
    if entry is None or not entry.errorCode:
        return 0, ""
    return int(entry.errorCode), str(entry.message)


def status_of(trade: Any, accepted: set[str]) -> OrderStatus | None:
    """Return our status of ``trade``; ``accepted`` holds the client order ids TWS accepted."""
    code, _ = last_error(trade)
    cid = str(trade.order.orderRef or "")
    return ib_status(str(trade.orderStatus.status), was_accepted=cid in accepted, error_code=code)


def find_trade(trades: Iterable[Any], client_order_id: str) -> Any:
    """Return the newest trade TWS acknowledged with ``orderRef`` = ``client_order_id``, or None."""
    seen = [
        t
        for t in trades
        if t.order.orderRef == client_order_id and (t.order.permId or str(t.orderStatus.status) not in PENDING_STATUSES)
    ]
    return max(seen, key=lambda t: int(t.order.orderId)) if seen else None


def working_trades(open_trades: Iterable[Any]) -> list[Any]:
    """Return the open trades TWS acknowledged (a ``permId``, past ``PendingSubmit``)."""
    return [t for t in open_trades if t.order.permId and str(t.orderStatus.status) not in PENDING_STATUSES]


def order_report(trade: Any, status: OrderStatus, ts_ms: int, *, code: str = "", reason: str = "") -> OrderReport:
    """Return the report of ``trade`` in ``status``; the venue order id is IB's ``permId``."""
    perm_id = int(trade.order.permId or trade.orderStatus.permId or 0)
    return OrderReport(
        client_order_id=str(trade.order.orderRef),
        status=status,
        ts_ms=ts_ms,
        venue_order_id=str(perm_id) if perm_id else "",
        filled_quantity=to_decimal(trade.orderStatus.filled),
        code=code,
        reason=reason,
    )


def order_snapshot(trade: Any, status: OrderStatus, ts_ms: int) -> VenueOrderSnapshot:
    """Return ``trade`` as a venue order snapshot (completed orders: ``filledQuantity``)."""
    order, state = trade.order, trade.orderStatus
    is_limit = str(order.orderType) == "LMT"
    filled = filled_quantity(state.filled, order.filledQuantity)
    perm_id = int(order.permId or state.permId or 0)
    return VenueOrderSnapshot(
        client_order_id=str(order.orderRef),
        venue_order_id=str(perm_id),
        symbol=str(trade.contract.symbol),
        side=side_of(str(order.action)),
        order_type=OrderType.LIMIT if is_limit else OrderType.MARKET,
        quantity=to_decimal(order.totalQuantity),
        price=to_decimal(order.lmtPrice) if is_limit else None,
        filled_quantity=filled,
        status=status,
        ts_ms=ts_ms,
        average_fill_price=to_decimal(state.avgFillPrice) if filled > 0 and state.avgFillPrice else None,
    )


def fill_of(fill: Any, fee: Decimal, venue: str) -> Fill:
    """Return an ib_async ``Fill`` (execution + contract) as ours, keyed by ``execId``."""
    execution = fill.execution
    return Fill(
        client_order_id=str(execution.orderRef),
        fill_id=str(execution.execId),
        symbol=str(fill.contract.symbol),
        side=side_of(str(execution.side)),
        price=to_decimal(execution.price),
        quantity=to_decimal(execution.shares),
        fee=fee,
        liquidity=liquidity(int(execution.lastLiquidity)),
        ts_ms=to_ms(execution.time),
        venue=venue,
    )


def commission_of(fill: Any) -> Decimal:
    """Return the commission of an ib_async ``Fill`` (0 until its report arrives)."""
    value = float(fill.commissionReport.commission or 0)
    return to_decimal(value) if 0 < value < 1e300 else Decimal(0)
