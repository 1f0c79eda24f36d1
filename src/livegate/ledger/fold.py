"""The one fold of the ledger into orders, fills, positions and counters (issue 9 item 7).

Two rules decide what a venue report does to the book, and both the live engine
(:class:`~livegate.execution.reports.ReportApplier`) and every ledger reader use them:

* :func:`apply_fill` — a fill counts once per (client order id, venue trade id), whether it
  came by stream, REST lookup, reconciliation or a replayed ledger, twice or out of
  order; a fill after the cancel report is applied (the venue is the truth).
* :func:`apply_status` — fills drive filled states; a late ``accepted``/``submitted``/
  ``partially_filled``/``filled`` echo changes nothing; terminal states stay terminal.

:func:`fold_events` replays ledger events through the same rules into a
:class:`LedgerFold`; resume (:func:`livegate.control.resume.rebuild_from_ledger`),
``livegate ledger export`` and the reconciler's ledger fill index all read it, so they
agree by construction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from livegate.domain.enums import OrderStatus, TradingState
from livegate.domain.errors import DataError, InvalidTransition, InvariantViolation
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.ledger.events import LedgerEvent
from livegate.ledger.payloads import (
    AnomalyRecorded,
    CancelRequested,
    DecisionRecorded,
    FillRecorded,
    IntentRecorded,
    OrderReported,
    PayloadError,
    Reconciled,
    SessionEnded,
    SessionResumed,
    SessionStarted,
    SubmitRequested,
    TradingStateChanged,
    decode,
)
from livegate.portfolio import Portfolio

_ZERO = Decimal(0)


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


@dataclass(slots=True)
class OrderEntry:
    """What the ledger says about one client order id beyond the portfolio's :class:`Order`."""

    client_order_id: str
    first_ts_ms: int
    intent: OrderIntent | None = None
    decision: DecisionRecorded | None = None
    venue: str = ""
    venue_order_id: str = ""
    last_status: str = ""
    fees: Decimal = _ZERO


@dataclass(slots=True)
class LedgerFold:
    """Everything folded from a ledger: orders, applied fills, positions, counters, run facts.

    Build it with :func:`fold_events`; :meth:`apply` takes one more event (incremental use).
    """

    session: SessionStarted | None = None
    portfolio: Portfolio = field(default_factory=Portfolio)
    stats: EngineStats = field(default_factory=EngineStats)
    entries: dict[str, OrderEntry] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    approved_intents: list[OrderIntent] = field(default_factory=list)
    next_seq: int = 0
    trading_state: TradingState = TradingState.ACTIVE
    trading_reason: str = ""
    balance_baseline: dict[str, Decimal] | None = None
    anomalies: int = 0
    refused_fills: int = 0
    last_seq: int = 0
    last_ts_ms: int = 0
    resumes: int = 0
    ended: bool = False

    def fill_ids(self, venue: str | None = None) -> set[str]:
        """Return the venue trade ids of applied fills (of ``venue`` and venue-less ones when given)."""
        return {f.fill_id for f in self.fills if venue is None or f.venue in (venue, "")}

    def order(self, client_order_id: str) -> Order | None:
        """Return the folded order, or None for a denied or unknown client order id."""
        return self.portfolio.order(client_order_id)

    def apply(self, event: LedgerEvent) -> None:
        """Fold one event (events must come in seq order).

        Raises
        ------
        DataError
            If the payload of a known kind cannot be read.
        """
        try:
            typed = decode(event.kind, event.payload)
            self._apply(typed, event.ts_ms)
        except (PayloadError, KeyError, ArithmeticError) as exc:
            raise DataError(f"ledger seq {event.seq} ({event.kind}): {exc}") from exc
        self.last_seq = event.seq
        if not isinstance(typed, SessionStarted):
            self.last_ts_ms = max(self.last_ts_ms, event.ts_ms)
        self.ended = isinstance(typed, SessionEnded)

    def _entry(self, cid: str, ts_ms: int) -> OrderEntry:
        entry = self.entries.get(cid)
        if entry is None:
            entry = self.entries[cid] = OrderEntry(cid, ts_ms)
        return entry

    def _apply(self, typed: object, ts_ms: int) -> None:
        stats = self.stats
        if isinstance(typed, SessionStarted):
            if self.session is None:
                self.session = typed
        elif isinstance(typed, IntentRecorded):
            entry = self._entry(typed.client_order_id, ts_ms)
            entry.intent = typed.intent
            stats.intents += 1
            self.next_seq = max(self.next_seq, typed.intent.seq + 1)
        elif isinstance(typed, DecisionRecorded):
            entry = self._entry(typed.client_order_id, ts_ms)
            entry.decision = typed
            entry.venue = typed.venue or entry.venue
            if not typed.approved:
                stats.denied[typed.code] += 1
            elif entry.intent is not None and self.portfolio.order(typed.client_order_id) is None:
                self.portfolio.add_order(Order(typed.client_order_id, entry.intent, typed.venue))
                self.approved_intents.append(entry.intent)
                stats.approved += 1
        elif isinstance(typed, SubmitRequested):
            entry = self._entry(typed.client_order_id, ts_ms)
            entry.venue = typed.venue or entry.venue
            entry.last_status = entry.last_status or OrderStatus.SUBMITTED.value
            order = self.portfolio.order(typed.client_order_id)
            if order is not None and order.status is OrderStatus.NEW:
                order.transition(OrderStatus.SUBMITTED, order.updated_ms)
                stats.orders_submitted += 1
                stats.orders_by_venue[order.venue] += 1
        elif isinstance(typed, OrderReported):
            entry = self._entry(typed.client_order_id, ts_ms)
            entry.venue_order_id = typed.venue_order_id or entry.venue_order_id
            entry.last_status = typed.status
            outcome, _ = apply_status(
                self.portfolio, typed.client_order_id, typed.status, ts_ms,
                venue_order_id=typed.venue_order_id, reason=typed.reason,
            )  # fmt: skip
            if outcome is StatusOutcome.INVALID:
                self.anomalies += 1
            elif outcome is StatusOutcome.APPLIED and typed.status == OrderStatus.REJECTED:
                stats.rejected += 1
        elif isinstance(typed, FillRecorded):
            self._apply_fill(typed.fill, ts_ms)
        elif isinstance(typed, CancelRequested):
            stats.cancels_requested += 1
        elif isinstance(typed, TradingStateChanged):
            self.trading_state, self.trading_reason = typed.state, typed.reason
        elif isinstance(typed, AnomalyRecorded):
            self.anomalies += 1
        elif isinstance(typed, Reconciled):
            if self.balance_baseline is None and typed.balance_baseline is not None:
                self.balance_baseline = dict(typed.balance_baseline)
        elif isinstance(typed, SessionResumed):
            self.resumes += 1

    def _apply_fill(self, fill: Fill, ts_ms: int) -> None:
        outcome, _ = apply_fill(self.portfolio, fill)
        if outcome is FillOutcome.DUPLICATE:
            self.stats.duplicate_fills += 1
            return
        if outcome is FillOutcome.REFUSED:
            self.refused_fills += 1
            self.anomalies += 1
            return
        entry = self._entry(fill.client_order_id, ts_ms)
        entry.fees += fill.fee
        entry.venue = entry.venue or fill.venue
        self.fills.append(fill)
        self.stats.fills += 1


def fold_events(events: Iterable[LedgerEvent]) -> LedgerFold:
    """Fold ledger events (in seq order) into a :class:`LedgerFold`.

    Raises
    ------
    DataError
        If a payload of a known kind cannot be read (naming its seq).
    """
    fold = LedgerFold()
    for event in events:
        fold.apply(event)
    return fold
