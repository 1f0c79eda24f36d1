"""The one fold of the ledger into orders, fills, positions and counters (issue 9 item 7).

:func:`fold_events` replays ledger events into a :class:`LedgerFold` through the two rules
the live engine uses too (:func:`~livegate.ledger.fold_rules.apply_fill`,
:func:`~livegate.ledger.fold_rules.apply_status`); resume
(:func:`livegate.control.resume.rebuild_from_ledger`), ``livegate ledger export`` and the
reconciler's ledger fill index all read it, so they agree by construction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, MutableSequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from livegate.domain.enums import OrderStatus, TradingState
from livegate.domain.errors import DataError
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.domain.positions import Position
from livegate.ledger.checkpoint_archive import Archive
from livegate.ledger.checkpoint_archive import gc_paused as gc_paused  # its home before the archive
from livegate.ledger.checkpoint_lists import ArchivedFills
from livegate.ledger.events import GENESIS_HASH, INVENTORY_ADOPTED, LedgerEvent
from livegate.ledger.fold_copy import copy_order, copy_sequence
from livegate.ledger.fold_retire import Retirement
from livegate.ledger.fold_rules import EngineStats, FillOutcome, StatusOutcome, apply_fill, apply_status
from livegate.ledger.payload_fields import PayloadError
from livegate.ledger.payload_orders import (
    CancelRequested,
    DecisionRecorded,
    FillRecorded,
    IntentRecorded,
    MarkoutRecorded,
    OrderReported,
    SubmitRequested,
)
from livegate.ledger.payload_session import (
    AnomalyRecorded,
    FillsMatched,
    Reconciled,
    SessionEnded,
    SessionResumed,
    SessionStarted,
    TradingStateChanged,
)
from livegate.ledger.payloads import TypedPayload, decode
from livegate.ledger.scratch_fills import ScratchFills
from livegate.portfolio import Portfolio

_ZERO = Decimal(0)


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
    fills: MutableSequence[Fill] = field(default_factory=list)
    approved_intents: MutableSequence[OrderIntent] = field(default_factory=list)
    next_seq: int = 0
    trading_state: TradingState = TradingState.ACTIVE
    trading_reason: str = ""
    balance_baseline: dict[str, Decimal] | None = None
    anomalies: int = 0
    refused_fills: int = 0
    last_seq: int = 0
    #: Chain hash of the event at ``last_seq`` (the genesis hash before the first).
    last_hash: str = GENESIS_HASH
    last_ts_ms: int = 0
    resumes: int = 0
    ended: bool = False
    #: Time of the first ``session_started`` (ms since the epoch; 0 before it).
    started_ms: int = 0
    #: Number of ``reconciled`` events (0: the run never reconciled: its first start is not over).
    reconciles: int = 0
    #: Per venue, where its last reconciliation found the fills equal (absent: not equal, or never compared).
    fills_matched: dict[str, FillsMatched] = field(default_factory=dict)
    #: Positions (base units) and venue trade ids of fills adopted as starting inventory (``inventory_adopted``).
    adopted_positions: dict[str, Decimal] = field(default_factory=dict)
    adopted_fill_ids: set[str] = field(default_factory=set)
    #: Finished orders let go and brought back when the ledger says more (None: every order kept).
    retirement: Retirement | None = None

    @property
    def entry_count(self) -> int:
        """Return how many client order ids the fold met: its entries and the retired ones."""
        return len(self.entries) + (0 if self.retirement is None else len(self.retirement))

    def routed(self, client_order_id: str) -> tuple[str, str]:
        """Return the (venue, symbol) the decision of a client order id routed it to; empty strings when undecided."""
        entry = self.entries.get(client_order_id)
        if entry is None:
            retired = None if self.retirement is None else self.retirement.routed(client_order_id)
            return ("", "") if retired is None else retired
        if entry.decision is None:
            return "", ""
        return entry.decision.venue, "" if entry.intent is None else entry.intent.symbol

    def fill_ids(self, venue: str | None = None) -> set[str]:
        """Return the venue trade ids of applied fills (of ``venue`` and venue-less ones when given)."""
        return set(self.fill_ids_since(0, venue))

    def fill_ids_since(self, start: int, venue: str | None = None, stop: int | None = None) -> list[str]:
        """Return the venue trade ids of the applied fills at positions ``start`` to ``stop`` of :attr:`fills`.

        Only those of ``venue`` and venue-less ones when ``venue`` is given; ``stop`` None:
        to the end. Fills of a checkpoint's archive or on disk are not built for it.
        """
        fills = self.fills
        if isinstance(fills, ArchivedFills | ScratchFills):
            return fills.ids(start, venue, stop)
        return [f.fill_id for f in fills[start:stop] if venue is None or f.venue in (venue, "")]

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
        self.apply_payload(event.seq, event.ts_ms, event.kind, event.payload, event.hash)

    def apply_payload(
        self, seq: int, ts_ms: int, kind: str, payload: Mapping[str, object], digest: str
    ) -> TypedPayload | None:
        """Fold one event given as its parts (the decoded JSON payload and its chain hash ``digest``).

        The same as :meth:`apply` without building a :class:`LedgerEvent` (resume folds
        raw rows, :func:`livegate.ledger.checkpoint_job.fold_rows`). Returns the typed
        payload (:func:`livegate.ledger.payloads.decode`; None for a kind the fold does not
        type), for readers that keep facts of their own (the run report).

        Raises
        ------
        DataError
            If the payload of a known kind cannot be read.
        """
        try:
            typed = decode(kind, payload)
            if typed is None and kind == INVENTORY_ADOPTED:
                self._on_inventory(payload)
        except (PayloadError, KeyError, ArithmeticError) as exc:
            raise DataError(f"ledger seq {seq} ({kind}): {exc}") from exc
        self.apply_decoded(seq, ts_ms, kind, typed, digest)
        return typed

    def apply_decoded(self, seq: int, ts_ms: int, kind: str, typed: object, digest: str) -> None:
        """Fold one event whose payload the caller decoded already (:func:`livegate.ledger.payloads.decode`).

        For readers that need the typed payload themselves (the run report), so it is
        decoded once.

        Raises
        ------
        DataError
            If the payload's values cannot be applied (naming the seq).
        """
        retirement = self.retirement
        try:
            if typed is not None:
                if retirement is not None:
                    retirement.before(self, seq, typed)
                _HANDLERS[type(typed)](self, typed, ts_ms)
                if retirement is not None:
                    retirement.after(self, seq, typed)
        except (PayloadError, KeyError, ArithmeticError) as exc:
            raise DataError(f"ledger seq {seq} ({kind}): {exc}") from exc
        self.last_seq = seq
        self.last_hash = digest
        if type(typed) is not SessionStarted and ts_ms > self.last_ts_ms:
            self.last_ts_ms = ts_ms
        self.ended = type(typed) is SessionEnded

    def fork(self) -> LedgerFold:
        """Return an independent copy: later events applied to one never change the other.

        Orders, order entries, positions and the counters are copied; intents, decisions
        and fills are immutable and shared. Costs one object per order and entry, far less
        than folding again.
        """
        entries: dict[str, OrderEntry]
        with gc_paused():
            if isinstance(self.entries, Archive) and self.entries.archived:
                entries = self.entries.fork(replace)
            else:
                entries = {cid: replace(e) for cid, e in self.entries.items()}
        return LedgerFold(
            session=self.session,
            portfolio=self.copy_portfolio(),
            stats=self.copy_stats(),
            entries=entries,
            fills=copy_sequence(self.fills),
            approved_intents=copy_sequence(self.approved_intents),
            next_seq=self.next_seq,
            trading_state=self.trading_state,
            trading_reason=self.trading_reason,
            balance_baseline=None if self.balance_baseline is None else dict(self.balance_baseline),
            anomalies=self.anomalies,
            refused_fills=self.refused_fills,
            last_seq=self.last_seq,
            last_hash=self.last_hash,
            last_ts_ms=self.last_ts_ms,
            resumes=self.resumes,
            ended=self.ended,
            started_ms=self.started_ms,
            reconciles=self.reconciles,
            fills_matched=dict(self.fills_matched),
            adopted_positions=dict(self.adopted_positions),
            adopted_fill_ids=set(self.adopted_fill_ids),
        )

    def copy_portfolio(self) -> Portfolio:
        """Return a copy of the folded book (orders and positions copied, intents shared).

        Finished orders a checkpoint's archive has not built yet stay unbuilt in the copy
        too (:meth:`Archive.fork <livegate.ledger.checkpoint_archive.Archive.fork>`).
        """
        book = self.portfolio
        positions = [
            Position.restore(p.symbol, p.quantity, p.cost_basis, p.realized_pnl, p.fees, p.turnover)
            for p in book.positions()
        ]
        index = book.orders_by_id()
        with gc_paused():
            if isinstance(index, Archive) and index.archived:
                twin = index.fork(copy_order)
                working = [twin[o.client_order_id] for o in book.working_orders()]
                return Portfolio.restored(working, positions, book.fill_keys(), index=twin)
            orders = [copy_order(o) for o in book.all_orders()]
        return Portfolio.restored(orders, positions, book.fill_keys())

    def copy_stats(self) -> EngineStats:
        """Return a copy of the engine counters."""
        stats = self.stats
        return replace(stats, denied=Counter(stats.denied), orders_by_venue=Counter(stats.orders_by_venue))

    def _entry(self, cid: str, ts_ms: int) -> OrderEntry:
        entry = self.entries.get(cid)
        if entry is None:
            entry = self.entries[cid] = OrderEntry(cid, ts_ms)
        return entry

    def _on_session_started(self, typed: SessionStarted, ts_ms: int) -> None:
        if self.session is None:
            self.session = typed
            self.started_ms = ts_ms

    def _on_intent(self, typed: IntentRecorded, ts_ms: int) -> None:
        entry = self._entry(typed.client_order_id, ts_ms)
        entry.intent = typed.intent
        self.stats.intents += 1
        if typed.intent.seq >= self.next_seq:
            self.next_seq = typed.intent.seq + 1

    def _on_decision(self, typed: DecisionRecorded, ts_ms: int) -> None:
        entry = self._entry(typed.client_order_id, ts_ms)
        entry.decision = typed
        entry.venue = typed.venue or entry.venue
        if not typed.approved:
            self.stats.denied[typed.code] += 1
        elif entry.intent is not None and self.portfolio.order(typed.client_order_id) is None:
            self.portfolio.add_order(Order(entry.client_order_id, entry.intent, typed.venue))
            self.approved_intents.append(entry.intent)
            self.stats.approved += 1

    def _on_submit(self, typed: SubmitRequested, ts_ms: int) -> None:
        entry = self._entry(typed.client_order_id, ts_ms)
        entry.venue = typed.venue or entry.venue
        entry.last_status = entry.last_status or OrderStatus.SUBMITTED.value
        order = self.portfolio.order(typed.client_order_id)
        if order is not None and order.status is OrderStatus.NEW:
            order.transition(OrderStatus.SUBMITTED, order.updated_ms)
            self.stats.orders_submitted += 1
            self.stats.orders_by_venue[order.venue] += 1

    def _on_report(self, typed: OrderReported, ts_ms: int) -> None:
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
            self.stats.rejected += 1

    def _on_fill(self, typed: FillRecorded, ts_ms: int) -> None:
        self._apply_fill(typed.fill, ts_ms)

    def _on_cancel(self, typed: CancelRequested, ts_ms: int) -> None:
        self.stats.cancels_requested += 1

    def _on_state(self, typed: TradingStateChanged, ts_ms: int) -> None:
        self.trading_state, self.trading_reason = typed.state, typed.reason

    def _on_anomaly(self, typed: AnomalyRecorded, ts_ms: int) -> None:
        self.anomalies += 1

    def _on_reconciled(self, typed: Reconciled, ts_ms: int) -> None:
        if self.balance_baseline is None and typed.balance_baseline is not None:
            self.balance_baseline = dict(typed.balance_baseline)
        self.reconciles += 1
        if typed.fills_matched is not None:
            self.fills_matched[typed.venue] = typed.fills_matched
        else:
            self.fills_matched.pop(typed.venue, None)

    def _on_inventory(self, payload: Mapping[str, object]) -> None:
        """Add an ``inventory_adopted`` event's positions and fill ids (:mod:`livegate.reconcile.startup_inventory`)."""
        raw = payload.get("positions")
        if isinstance(raw, Mapping):
            for symbol, quantity in raw.items():
                held = self.adopted_positions.get(str(symbol), _ZERO)
                self.adopted_positions[str(symbol)] = held + Decimal(str(quantity))
        fills = payload.get("fills")
        if isinstance(fills, list):
            self.adopted_fill_ids.update(str(f.get("fill_id")) for f in fills if isinstance(f, Mapping))

    def _on_resumed(self, typed: SessionResumed, ts_ms: int) -> None:
        self.resumes += 1

    def _on_nothing(self, typed: object, ts_ms: int) -> None:
        return

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


_Handler = Callable[[LedgerFold, Any, int], None]
#: What each typed payload does to the fold (one dict lookup per event instead of an isinstance chain).
_HANDLERS: dict[type, _Handler] = {
    SessionStarted: LedgerFold._on_session_started,
    IntentRecorded: LedgerFold._on_intent,
    DecisionRecorded: LedgerFold._on_decision,
    SubmitRequested: LedgerFold._on_submit,
    OrderReported: LedgerFold._on_report,
    FillRecorded: LedgerFold._on_fill,
    CancelRequested: LedgerFold._on_cancel,
    TradingStateChanged: LedgerFold._on_state,
    AnomalyRecorded: LedgerFold._on_anomaly,
    Reconciled: LedgerFold._on_reconciled,
    SessionResumed: LedgerFold._on_resumed,
    SessionEnded: LedgerFold._on_nothing,
    MarkoutRecorded: LedgerFold._on_nothing,
}
