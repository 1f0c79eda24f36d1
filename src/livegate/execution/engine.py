"""The execution engine: records decisions write-ahead, routes approved orders, applies reports.

It is the only component that talks to venues, and it accepts only
:class:`~livegate.domain.decisions.Approved` decisions built by the risk pipeline
(DESIGN.md §3.1). Order of durability (§3.5): intent and decision are committed to the
ledger, then ``submit_requested``, then the venue is called, then its answer is appended.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from livegate.domain.clock import Clock
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import DenialCode, OrderStatus
from livegate.domain.errors import Ambiguous, Fatal, InvariantViolation, LedgerError, Rejected, Retryable
from livegate.domain.ids import client_order_id
from livegate.domain.orders import Fill, Order, OrderIntent, OrderReport
from livegate.execution.ambiguous import AmbiguousOrders
from livegate.execution.reports import AnomalyHandler, CrashPoint, EngineStats, ReportApplier, decision_record
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.risk.pipeline import RiskPipeline
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.base import Report, VenueAdapter

__all__ = ["AnomalyHandler", "CrashPoint", "EngineStats", "ExecutionEngine", "Router"]

Router = Callable[[OrderIntent], str]


def _no_crash(point: str) -> None:
    """Do nothing: the default crash point hook of production runs."""


class ExecutionEngine:
    """Turn intents into decisions and approved orders into venue calls.

    Parameters
    ----------
    pipeline:
        The risk pipeline; the only source of approvals.
    ledger, telemetry:
        Write-ahead ledger and telemetry sink.
    portfolio:
        Orders and positions; the engine is its only writer.
    venues:
        Venue adapters by name; ``router`` picks one for each intent.
    clock:
        The session clock.
    session_id, strategy_name:
        Inputs of the deterministic client order ids (DESIGN.md §3.6).
    first_seq:
        First intent sequence number (non-zero when resuming a session).
    crash_point:
        Test-only hook called with a point name where a SIGKILL is most dangerous:
        ``before_submit`` (submit_requested durable, venue not called), ``after_submit``
        (venue answered, answer not yet applied), ``between_fills`` (a later fill of a
        partly filled order arrived, not yet recorded), ``after_cancel`` and
        ``cancel_all`` (venue cancelled, not yet recorded). Built once by the composition
        root from ``LIVEGATE_CRASH_AT``; None in production.
    """

    def __init__(
        self,
        *,
        pipeline: RiskPipeline,
        ledger: Ledger,
        telemetry: TelemetryWriter,
        portfolio: Portfolio,
        venues: Mapping[str, VenueAdapter],
        router: Router,
        clock: Clock,
        session_id: str,
        strategy_name: str,
        first_seq: int = 0,
        crash_point: CrashPoint | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._ledger = ledger
        self._telemetry = telemetry
        self._portfolio = portfolio
        self._venues = dict(venues)
        self._router = router
        self._clock = clock
        self._session_id = session_id
        self._strategy_name = strategy_name
        self._next_seq = first_seq
        self._pending_submits: list[Order] = []
        self._pending_cancels: list[Order] = []
        self._anomaly_handlers: list[AnomalyHandler] = []
        self._crash = crash_point or _no_crash
        self._cancel_point = "after_cancel"
        self._halted = False
        self._fatal_venues: dict[str, str] = {}
        self._stats = EngineStats()
        self._reports = ReportApplier(
            ledger=ledger,
            telemetry=telemetry,
            portfolio=portfolio,
            stats=self._stats,
            anomaly=self._anomaly,
            crash=self._crash,
        )
        self._new_fills: list[Fill] = self._reports.new_fills  # the same list: a cheap "any fills?" test
        self._ambiguous = AmbiguousOrders(
            venues=self._venues, ledger=ledger, clock=clock, apply=self.on_report, anomaly=self._anomaly
        )
        self.ambiguous_orders: dict[str, Order] = self._ambiguous.orders
        for venue in self._venues.values():
            venue.bind(self.on_report)

    @property
    def stats(self) -> EngineStats:
        """Return the engine's counters."""
        return self._stats

    @stats.setter
    def stats(self, value: EngineStats) -> None:
        """Continue from ``value`` (a resumed run's counters)."""
        self._stats = value
        self._reports.stats = value

    # ------------------------------------------------------------------ intents
    @property
    def next_seq(self) -> int:
        """Return the sequence number the next intent will get."""
        return self._next_seq

    def add_anomaly_handler(self, handler: AnomalyHandler) -> None:
        """Call ``handler(kind, detail)`` on every anomaly (ledger failure, invariant, fatal venue)."""
        self._anomaly_handlers.append(handler)

    def new_intent_seq(self) -> int:
        """Reserve and return the next intent sequence number."""
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def submit_intent(self, intent: OrderIntent) -> Approved | Denied:
        """Evaluate ``intent``, record intent and decision durably, queue approved orders.

        A ledger failure denies the intent (fail closed) and raises an anomaly.
        """
        cid = client_order_id(self._session_id, self._strategy_name, intent.seq)
        venue = self._router(intent)
        decision = self._pipeline.evaluate(intent, cid, venue)
        self.stats.intents += 1
        try:
            with self._ledger.transaction():
                self._ledger.append(ev.INTENT, intent.ts_ms, {"client_order_id": cid, **intent.to_record()})
                self._ledger.append(ev.DECISION, intent.ts_ms, decision_record(decision, venue))
                if isinstance(decision, Approved):
                    self._ledger.append(ev.SUBMIT_REQUESTED, intent.ts_ms, {"client_order_id": cid, "venue": venue})
        except LedgerError as exc:
            self._anomaly("ledger_write_failed", str(exc))
            decision = Denied(intent, cid, DenialCode.GATE_ERROR, f"ledger write failed: {exc}")
            self.stats.denied[decision.code.value] += 1
            return decision
        self._telemetry.emit(
            "decision",
            intent.ts_ms,
            client_order_id=cid,
            symbol=intent.symbol,
            side=intent.side.value,
            approved=decision.approved,
            code=decision.code.value if isinstance(decision, Denied) else None,
            detail=decision.detail if isinstance(decision, Denied) else "",
            venue=venue,
        )
        if isinstance(decision, Denied):
            self.stats.denied[decision.code.value] += 1
            return decision
        self.accept(decision, recorded=True)
        return decision

    def accept(self, decision: Approved, *, recorded: bool = False) -> Order:
        """Turn an approved decision into a tracked order queued for dispatch.

        Unless ``recorded`` (the caller already committed ``submit_requested`` with the
        decision), ``submit_requested`` is committed here, before any venue call.

        Raises
        ------
        InvariantViolation
            If ``decision`` is not a sealed :class:`Approved`, or names an unknown venue.
        """
        if not isinstance(decision, Approved):
            raise InvariantViolation("the execution engine accepts only approved decisions")
        if decision.venue not in self._venues:
            raise InvariantViolation(f"approved order routed to unknown venue {decision.venue!r}")
        if not recorded:
            self._ledger.append(
                ev.SUBMIT_REQUESTED,
                self._clock.now_ms(),
                {"client_order_id": decision.client_order_id, "venue": decision.venue},
            )
        order = Order(decision.client_order_id, decision.intent, decision.venue)
        self._portfolio.add_order(order)
        self._pending_submits.append(order)
        self.stats.approved += 1
        return order

    def request_cancel(self, client_order_id: str, reason: str = "strategy") -> bool:
        """Queue a cancel; return False when the order is unknown or finished."""
        order = self._portfolio.order(client_order_id)
        if order is None or order.status.is_terminal or order.status is OrderStatus.CANCEL_PENDING:
            return False
        if order in self._pending_cancels:
            return False
        self._pending_cancels.append(order)
        self._ledger.append(
            ev.CANCEL_REQUESTED, self._clock.now_ms(), {"client_order_id": client_order_id, "reason": reason}
        )
        self.stats.cancels_requested += 1
        return True

    @property
    def has_pending(self) -> bool:
        """Return True when submits or cancels wait for dispatch."""
        return bool(self._pending_submits) or bool(self._pending_cancels)

    def take_new_fills(self) -> list[Fill]:
        """Return and forget fills that arrived since the last call (for ``Strategy.on_fill``)."""
        return self._reports.take_new_fills()

    # ------------------------------------------------------------------ dispatch
    async def dispatch(self) -> None:
        """Send queued submits, then queued cancels, to their venues."""
        while self._pending_submits or self._pending_cancels:
            submits, self._pending_submits = self._pending_submits, []
            for order in submits:
                await self._submit(order)
            cancels, self._pending_cancels = self._pending_cancels, []
            for order in cancels:
                await self._cancel(order)

    async def _submit(self, order: Order) -> None:
        """Call the venue; ``submit_requested`` is already durable (see :meth:`accept`).

        For in-process simulated venues the answer and the fills it pushes are committed
        in one ledger transaction; real venues' answers are appended one by one. A venue
        that answered ``Fatal`` (authentication, permission, ban) gets no further submit
        this session: later orders for it are rejected unsent with code ``VENUE_FATAL``
        (a fatal error needs a human; the kill switch halts on it).
        """
        now = self._clock.now_ms()
        fatal = self._fatal_venues.get(order.venue)
        if fatal is not None:
            self._reject_unsent(order, now, "VENUE_FATAL", f"not sent: the venue failed fatally before: {fatal}")
            return
        order.transition(OrderStatus.SUBMITTED, now)
        self.stats.orders_submitted += 1
        self.stats.orders_by_venue[order.venue] += 1
        venue = self._venues[order.venue]
        if venue.capabilities.simulated:
            try:
                with self._ledger.transaction():
                    await self._call_submit(venue, order, now)
            except LedgerError as exc:
                self._anomaly("ledger_write_failed", str(exc))
            return
        await self._call_submit(venue, order, now)

    def _reject_unsent(self, order: Order, now: int, code: str, reason: str) -> None:
        """Mark an order that never reached its venue ``rejected`` and record why."""
        order.transition(OrderStatus.REJECTED, now, reason)
        self._portfolio.refresh(order)
        self._reports.record(order, OrderStatus.REJECTED.value, now, code=code, reason=reason)

    async def _call_submit(self, venue: VenueAdapter, order: Order, now: int) -> None:
        self._crash("before_submit")
        try:
            report = await venue.submit(order)
        except Rejected as exc:
            report = OrderReport(order.client_order_id, OrderStatus.REJECTED, now, code=exc.code, reason=exc.message)
        except (Ambiguous, Retryable) as exc:
            # A rate-limited submit is treated like an ambiguous one: it stays in flight and
            # is resolved by lookup-by-client-order-id before a single resend (DESIGN.md §3.6).
            self.stats.ambiguous += 1
            self.ambiguous_orders[order.client_order_id] = order
            self._anomaly("ambiguous_submit", f"{order.client_order_id}: {exc.message}")
            return
        except Fatal as exc:
            detail = exc.message if exc.message.startswith(f"{order.venue}:") else f"{order.venue}: {exc.message}"
            self._fatal_venues[order.venue] = detail
            self._anomaly("venue_fatal", detail)
            self.ambiguous_orders[order.client_order_id] = order
            return
        self._crash("after_submit")
        self.on_report(report)

    async def cancel_all(self, reason: str, symbol: str | None = None) -> int:
        """Cancel every working order (of ``symbol`` when given) one by one; return how many were sent.

        Each cancel is requested (``cancel_requested`` in the ledger) before any venue call.
        Orders not yet dispatched (``new``) are left to :meth:`dispatch`.
        """
        for order in self._portfolio.working_orders(symbol):
            if order.status is not OrderStatus.NEW:
                self.request_cancel(order.client_order_id, reason)
        cancels, self._pending_cancels = self._pending_cancels, []
        self._cancel_point = "cancel_all"
        try:
            for order in cancels:
                await self._cancel(order)
        finally:
            self._cancel_point = "after_cancel"
        return len(cancels)

    async def halt_all_venues(self, reason: str) -> int:
        """Cancel everything for a HALT and return how many cancels were sent.

        The latched trading state (written before this is called) is the durable record
        of the decision, so the venues come first: every venue with a native cancel-all
        gets it at once (``asyncio.gather``), then the requests and answers are recorded
        in one ledger commit, then working orders on other venues are cancelled one by
        one. Undispatched submits are dropped (``rejected``, reason ``reason``); in-flight
        orders of unknown outcome are settled by lookup and never resent. Confirm the
        result with :meth:`venue_open_order_count`.
        """
        now = self._clock.now_ms()
        self._halted = True
        dropped, self._pending_submits = self._pending_submits, []
        natives = [(n, v) for n, v in self._venues.items() if v.capabilities.native_cancel_all]
        answers = await asyncio.gather(*(v.cancel_all() for _, v in natives), return_exceptions=True)
        self._crash("cancel_all")
        sent = 0
        try:
            with self._ledger.transaction():  # one commit, not one fsync per order
                for order in dropped:
                    self._reject_unsent(order, now, "HALTED", reason)
                for (name, _), answer in zip(natives, answers, strict=True):
                    if isinstance(answer, BaseException):
                        self._anomaly("cancel_failed", f"{name}: cancel_all: {answer!r}")
                        continue
                    for report in answer:
                        if self._portfolio.order(report.client_order_id) is None:
                            continue
                        cid = report.client_order_id
                        self._ledger.append(ev.CANCEL_REQUESTED, now, {"client_order_id": cid, "reason": reason})
                        self.on_report(report)
                        sent += 1
                if self.ambiguous_orders:
                    # one the venue never saw is rejected, not cancelled; nothing is resent
                    await self._ambiguous.resolve(resend=False)
                sent += await self.cancel_all(reason)
        except LedgerError as exc:
            self._anomaly("ledger_write_failed", str(exc))
        return sent

    async def venue_open_order_count(self) -> int:
        """Return how many open orders the venues report, summed over every venue."""
        total = 0
        for venue in self._venues.values():
            total += len(await venue.open_orders())
        return total

    async def _cancel(self, order: Order) -> None:
        if order.status.is_terminal or order.status is OrderStatus.NEW:
            return
        now = self._clock.now_ms()
        order.transition(OrderStatus.CANCEL_PENDING, now)
        venue = self._venues[order.venue]
        try:
            report = await venue.cancel(order.client_order_id, order.symbol)
        except Rejected as exc:
            if order.status is OrderStatus.CANCEL_PENDING:
                order.transition(OrderStatus.ACCEPTED, now, f"cancel rejected: {exc.message}")
            self._reports.record(order, "cancel_rejected", now, code=exc.code, reason=exc.message)
            return
        except (Ambiguous, Fatal, Retryable) as exc:
            self._anomaly("cancel_failed", f"{order.client_order_id}: {exc.message}")
            return
        self._crash(self._cancel_point)
        self.on_report(report)

    async def resolve_ambiguous(self) -> None:
        """Resolve in-flight orders by client order id; resend once only if the venue never saw them.

        DESIGN.md §3.6: a resend happens only after a lookup finds nothing, and reuses the
        same client order id. After a halt nothing is resent: such an order is marked
        rejected (code ``HALTED``).
        """
        await self._ambiguous.resolve(resend=not self._halted)

    # ------------------------------------------------------------------ reports
    def on_report(self, report: Report) -> None:
        """Apply a venue report (order status or fill); the sink every venue is bound to."""
        self._reports.apply(report)

    def disown(self, client_order_id: str) -> None:
        """Expect reports for an order of an earlier session this session cancels (recorded, no anomaly)."""
        self._reports.disown(client_order_id)

    def _anomaly(self, kind: str, detail: str) -> None:
        for handler in self._anomaly_handlers:
            handler(kind, detail)
