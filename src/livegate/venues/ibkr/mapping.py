"""IB order statuses and execution fields mapped to livegate values.

IB statuses (TWS API ``orderStatus``): PendingSubmit and ApiPending (not yet
acknowledged by TWS), PreSubmitted (accepted, held until the market or a trigger),
Submitted (working at the venue), PendingCancel, Cancelled and ApiCancelled, Filled,
Inactive (received but not working: rejected or cancelled by IB), plus ib_async's own
ValidationError (a warning on a live order).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from livegate.domain.enums import Liquidity, OrderStatus, Side

__all__ = ["IB_STATUS", "PENDING_STATUSES", "ib_status", "liquidity", "side_of", "to_decimal", "to_ms"]

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
    """Return our status for an IB status; None for ``ValidationError`` (a warning, order live).

    ``Inactive``, and ``Cancelled`` that ib_async set because of an order error, are a
    rejection before the order was ever accepted and a cancellation after.
    """
    if status == "ValidationError":
        return None
    if status == "Inactive" or (status == "Cancelled" and error_code not in (0, 202)):
        return S.CANCELLED if was_accepted else S.REJECTED
    return IB_STATUS.get(status, S.SUBMITTED)


def to_decimal(value: float) -> Decimal:
    """Return an IB double as a decimal through its shortest repr (``129.7`` stays ``129.7``)."""
    return Decimal(repr(float(value)))


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
