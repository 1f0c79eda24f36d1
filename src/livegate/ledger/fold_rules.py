"""The two rules that decide what a venue report does to the book, and the engine's counters.

Both the live engine (:class:`~livegate.execution.reports.ReportApplier`) and every ledger
reader (the fold, :mod:`livegate.ledger.fold`) use them:

* :func:`apply_fill` — a fill counts once per (client order id, venue trade id), whether it
  came by stream, REST lookup, reconciliation or a replayed ledger, twice or out of
  order; a fill after the cancel report is applied (the venue is the truth).
* :func:`apply_status` — fills drive filled states; a late ``accepted``/``submitted``/
  ``partially_filled``/``filled`` echo changes nothing; terminal states stay terminal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from livegate.domain.enums import OrderStatus
from livegate.domain.errors import InvalidTransition, InvariantViolation
from livegate.domain.orders import Fill
from livegate.portfolio import Portfolio


@dataclass(slots=True)
class EngineStats:
    """Counters for ``summary.json``: intents, decisions by outcome, orders, fills."""

    intents: int = 0
    approved: int = 0
    denied: Counter[str] = field(default_factory=Counter)
    orders_submitted: int = 0
    orders_by_venue: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    ambiguous: int = 0
    fills: int = 0
    cancels_requested: int = 0
    duplicate_fills: int = 0


class FillOutcome(StrEnum):
    """What :func:`apply_fill` did with a fill."""

    APPLIED = "applied"
    #: Applied to a cancelled or expired order (a fill that raced the cancel).
    APPLIED_LATE = "applied_late"
    #: Same (client order id, venue trade id) applied before: counted once, ignored now.
    DUPLICATE = "duplicate"
    #: Unknown order, or it would overfill or cannot take fills: an invariant violation.
    REFUSED = "refused"


class StatusOutcome(StrEnum):
    """What :func:`apply_status` did with a status report."""

    APPLIED = "applied"
    IGNORED = "ignored"
    UNKNOWN_ORDER = "unknown_order"
    INVALID = "invalid"


def apply_fill(portfolio: Portfolio, fill: Fill) -> tuple[FillOutcome, str]:
    """Apply ``fill`` to its order and position at most once; return the outcome and, if refused, why.

    The key is (client order id, venue trade id): a venue's trade id is unique per venue
    and a client order id belongs to one venue (docs/architecture.md §3.6).
    """
    if portfolio.has_fill(fill):
        return FillOutcome.DUPLICATE, ""
    order = portfolio.order(fill.client_order_id)
    late = order is not None and order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
    try:
        portfolio.apply_fill(fill)
    except InvariantViolation as exc:
        return FillOutcome.REFUSED, str(exc)
    return (FillOutcome.APPLIED_LATE if late else FillOutcome.APPLIED), ""


def apply_status(
    portfolio: Portfolio, client_order_id: str, status: str, ts_ms: int, *, venue_order_id: str = "", reason: str = ""
) -> tuple[StatusOutcome, str]:
    """Apply a venue status report to its order; return the outcome and, if invalid, why.

    ``status`` is an :class:`~livegate.domain.enums.OrderStatus` value; anything else
    (``cancel_rejected``, which the engine settles itself) is ignored.
    """
    order = portfolio.order(client_order_id)
    if order is None:
        return StatusOutcome.UNKNOWN_ORDER, f"report for unknown order {client_order_id}"
    if venue_order_id:
        order.venue_order_id = venue_order_id
    try:
        new = OrderStatus(status)
    except ValueError:
        return StatusOutcome.IGNORED, ""
    if new in (OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.SUBMITTED):
        return StatusOutcome.IGNORED, ""  # fills drive filled states; a late echo changes nothing
    if new is OrderStatus.ACCEPTED and order.status is not OrderStatus.SUBMITTED:
        return StatusOutcome.IGNORED, ""
    if order.status.is_terminal or new is order.status:
        return StatusOutcome.IGNORED, ""  # nothing new (e.g. a cancel still pending at the venue)
    try:
        order.transition(new, ts_ms, reason)
    except InvalidTransition as exc:
        return StatusOutcome.INVALID, str(exc)
    portfolio.refresh(order)
    return StatusOutcome.APPLIED, ""
