"""IB order statuses and execution fields mapped to livegate values.

Source: TWS API "Order Management > Possible Order States"
(interactivebrokers.github.io/tws-api/order_submission.html#order_status):
``ApiPending`` (not yet acknowledged by TWS), ``PendingSubmit`` (sent, no confirmation
from the order destination yet), ``PendingCancel`` (cancel sent, not confirmed),
``PreSubmitted`` (accepted by IB, held until its time or trigger; also simulated orders),
``Submitted`` (working at the order destination), ``ApiCancelled`` (cancelled by the API
before TWS acknowledged it), ``Cancelled`` (confirmed cancelled, also by IB), ``Filled``
(completely filled) and ``Inactive`` (received but not working: rejected or cancelled by
IB, or waiting on an order-type condition). ``ValidationError`` and ``ApiUpdate`` are
ib_async's own (a warning on a live order; a modify pending).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from livegate.domain.enums import Liquidity, OrderStatus, Side
from livegate.venues.ibkr.errors import PACING_VIOLATION

__all__ = [
    "IB_STATUS",
    "PENDING_STATUSES",
    "filled_quantity",
    "ib_status",
    "liquidity",
    "side_of",
    "to_decimal",
    "to_ms",
]

S = OrderStatus

#: IB status → ours. ``Inactive`` is decided with context in :func:`ib_status`.
IB_STATUS: dict[str, OrderStatus] = {
    "PendingSubmit": S.SUBMITTED,
    "ApiPending": S.SUBMITTED,
    "PreSubmitted": S.ACCEPTED,
    "Submitted": S.ACCEPTED,
    "ApiUpdate": S.ACCEPTED,
    "PendingCancel": S.CANCEL_PENDING,
    "Cancelled": S.CANCELLED,
    "ApiCancelled": S.CANCELLED,
    "Filled": S.FILLED,
}

#: Statuses of an order TWS has not acknowledged yet (the venue may never have seen it).
PENDING_STATUSES = frozenset({"PendingSubmit", "ApiPending", ""})


def ib_status(status: str, *, was_accepted: bool, error_code: int) -> OrderStatus | None:
    """Return our status for an IB status; None when it says nothing new about a live order.

    ``Inactive``, and ``Cancelled`` that ib_async set because of an order error, are a
    rejection before the order was ever accepted and a cancellation after. Two
    exceptions give None (the order lives on as it was): ``ValidationError`` (a warning)
    and ``Cancelled`` set because of error 100 on an accepted order: ib_async marks an
    order ``Cancelled`` on any error about it, but 100 (pacing) means TWS dropped a
    message about the order, a ``cancelOrder`` here, so nothing was cancelled. Before the
    order was accepted, the dropped message was its ``placeOrder``: rejected.
    """
    if status == "ValidationError":
        return None
    if status == "Cancelled" and error_code == PACING_VIOLATION:
        return None if was_accepted else S.REJECTED
    if status == "Inactive" or (status == "Cancelled" and error_code not in (0, 202)):
        return S.CANCELLED if was_accepted else S.REJECTED
    return IB_STATUS.get(status, S.SUBMITTED)


def to_decimal(value: float) -> Decimal:
    """Return an IB double as a decimal through its shortest repr (``129.7`` stays ``129.7``)."""
    return Decimal(repr(float(value)))


def filled_quantity(status_filled: float, order_filled: float) -> Decimal:
    """Return the filled quantity: the status's, else the order's ``filledQuantity``.

    ``reqCompletedOrders`` answers carry no order status message, only the order's
    ``filledQuantity``; ib_async leaves it at its "unset" maximum double when absent.
    """
    if status_filled:
        return to_decimal(status_filled)
    if 0 < order_filled < 1e300:
        return to_decimal(order_filled)
    return Decimal(0)


def to_ms(moment: datetime) -> int:
    """Return an aware datetime in ms since the epoch."""
    moment = moment.astimezone(UTC)
    return int(moment.replace(microsecond=0).timestamp()) * 1000 + moment.microsecond // 1000


def side_of(action: str) -> Side:
    """Return the side of an IB action (``BUY``/``SELL``) or execution side (``BOT``/``SLD``)."""
    return Side.BUY if action.upper() in ("BUY", "BOT") else Side.SELL


def liquidity(last_liquidity: int) -> Liquidity:
    """Return maker for IB ``lastLiquidity`` 1 (added), taker for 2 (removed) and 3 (routed out)."""
    return Liquidity.MAKER if last_liquidity == 1 else Liquidity.TAKER
