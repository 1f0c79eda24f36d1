"""One order at its venue: the submit and cancel calls and the answers they bring.

The execution engine (:class:`~livegate.execution.engine.ExecutionEngine`) queues and
dispatches; this base of it makes each venue call and applies what comes back. Venue
errors are translated here, once, into order reports: ``Rejected`` and ``Retryable``
reject the order, ``Fatal`` rejects it and stops submits to that venue, ``Ambiguous``
leaves it in flight (:mod:`livegate.execution.ambiguous`).
"""

from __future__ import annotations

from collections.abc import Callable

from livegate.domain.clock import Clock, monotonic_secs
from livegate.domain.enums import OrderStatus
from livegate.domain.errors import Ambiguous, Fatal, LedgerError, Rejected, Retryable
from livegate.domain.orders import Order, OrderReport
from livegate.execution.ambiguous import AmbiguousOrders
from livegate.execution.calls import VenueCalls
from livegate.execution.reports import AnomalyHandler, CrashPoint, EngineStats, ReportApplier
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.telemetry.metrics import SessionMetrics
from livegate.venues.base import Report, VenueAdapter

__all__ = ["VenueOrders"]


class VenueOrders:
    """Submit and cancel single orders at their venues and apply the answers (a base of the engine).

    The attributes below are set by :class:`~livegate.execution.engine.ExecutionEngine`,
    which also provides :meth:`request_cancel` and the anomaly sink.
    """

    _venues: dict[str, VenueAdapter]
    _ledger: Ledger
    _clock: Clock
    _portfolio: Portfolio
    _pending_cancels: list[Order]
    _fatal_venues: dict[str, str]
    _calls: VenueCalls
    _ambiguous: AmbiguousOrders
    _reports: ReportApplier
    _crash: CrashPoint
    _cancel_point: str
    _anomaly: AnomalyHandler
    stats: EngineStats
    metrics: SessionMetrics
    ambiguous_orders: dict[str, Order]
    _cancelling: set[str]
    request_cancel: Callable[[str, str], bool]

    async def _submit(self, order: Order) -> None:
        """Call the venue; ``submit_requested`` is already durable (see the engine's ``accept``).

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
        self.metrics.order_submitted(order.venue, order.symbol)
        venue = self._venues[order.venue]
        if venue.capabilities.simulated:
            try:
                with self._ledger.transaction(durable=False):  # the answer joins the next commit
                    await self._call_submit(venue, order, now)
            except LedgerError as exc:
                self._anomaly("ledger_write_failed", str(exc))
            return
        await self._call_submit(venue, order, now)

    def _reject_unsent(self, order: Order, now: int, code: str, reason: str) -> None:
        """Mark an order that never reached its venue ``rejected`` and record why."""
        order.transition(OrderStatus.REJECTED, now, reason)
        self._portfolio.refresh(order)
        self.metrics.rejected(order.venue, code)
        self._reports.record(order, OrderStatus.REJECTED.value, now, code=code, reason=reason)

    async def _call_submit(self, venue: VenueAdapter, order: Order, now: int) -> None:
        """Call the venue once and apply its answer.

        ``Rejected`` marks the order rejected. ``Retryable`` (a rate-limit refusal: HTTP
        429 -1003/-1015, or livegate's own weight budget refusing to send) is a definite
        "not placed": Binance answers 429 before the order reaches the matching engine
        (Binance Spot API "LIMITS"), so the order is rejected with the venue's code.
        ``Fatal`` (authentication -2015/-2014/-1022, permission, IP ban 418) is a refusal
        of the request too: the order is rejected, the venue gets no further submit, and the
        anomaly ``venue_fatal`` halts trading. ``Ambiguous`` (timeout, 5xx, -1007,
        "Duplicate order sent.") leaves it in flight, never resent
        (:mod:`livegate.execution.ambiguous`).
        """
        self._crash("before_submit")
        metrics, started = self.metrics, monotonic_secs()
        self._ambiguous.calling(order.client_order_id)
        try:
            report = await self._calls.bounded(venue.submit(order), f"{order.venue}: submit {order.client_order_id}")
        except Rejected as exc:
            metrics.venue_error(order.venue, "submit", "rejected")
            report = OrderReport(order.client_order_id, OrderStatus.REJECTED, now, code=exc.code, reason=exc.message)
        except Retryable as exc:
            metrics.venue_error(order.venue, "submit", "retryable")
            reason = f"not placed (rate limited): {exc.message}"
            report = OrderReport(
                order.client_order_id, OrderStatus.REJECTED, now, code=exc.code or "RATE_LIMITED", reason=reason
            )
        except Ambiguous as exc:
            metrics.venue_error(order.venue, "submit", "timeout" if exc.code == "ENGINE_TIMEOUT" else "ambiguous")
            self.stats.ambiguous += 1
            self._ambiguous.add(order)
            self._anomaly("ambiguous_submit", f"{order.client_order_id}: {exc.code or 'unknown'}: {exc.message}")
            return
        except Fatal as exc:
            # authentication, permission, IP ban: the venue refused the request before taking the order
            metrics.venue_error(order.venue, "submit", "fatal")
            detail = exc.message if exc.message.startswith(f"{order.venue}:") else f"{order.venue}: {exc.message}"
            self._fatal_venues[order.venue] = detail
            self._anomaly("venue_fatal", detail)
            report = OrderReport(
                order.client_order_id, OrderStatus.REJECTED, now, code=exc.code or "VENUE_FATAL", reason=exc.message
            )
        finally:
            self._ambiguous.call_done(order.client_order_id)
        metrics.submit_answered(order.venue, monotonic_secs() - started)  # a definite answer (not ambiguous)
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

    async def _cancel(self, order: Order) -> None:
        """Cancel one order; an order of unknown outcome keeps its ``submitted`` status until a report shows it."""
        if order.status.is_terminal or order.status is OrderStatus.NEW:
            return
        now = self._clock.now_ms()
        in_flight = order.client_order_id in self.ambiguous_orders
        if not in_flight:
            order.transition(OrderStatus.CANCEL_PENDING, now)
        venue = self._venues[order.venue]
        self._cancelling.add(order.client_order_id)  # the book keeps it while the call is in the air
        try:
            report = await self._calls.bounded(
                venue.cancel(order.client_order_id, order.symbol), f"{order.venue}: cancel {order.client_order_id}"
            )
        except Rejected as exc:
            self.metrics.venue_error(order.venue, "cancel", "rejected")
            if order.status is OrderStatus.CANCEL_PENDING:  # back to working, as the ledger fold sees it
                working = OrderStatus.PARTIALLY_FILLED if order.filled_quantity else OrderStatus.ACCEPTED
                order.transition(working, now, f"cancel rejected: {exc.message}")
            self._reports.record(order, "cancel_rejected", now, code=exc.code, reason=exc.message)
            return
        except (Ambiguous, Fatal, Retryable) as exc:
            self.metrics.venue_error(order.venue, "cancel", type(exc).__name__.lower())
            self._anomaly("cancel_failed", f"{order.client_order_id}: {exc.message}")
            if order.status is OrderStatus.CANCEL_PENDING:
                # not known to have taken effect: back to working, so a later cancel (the
                # strategy's, a halt's, the session end's) sends it again instead of skipping
                # an order stuck in cancel_pending; a venue report settles it either way
                working = OrderStatus.PARTIALLY_FILLED if order.filled_quantity else OrderStatus.ACCEPTED
                order.transition(working, now, f"cancel not confirmed: {exc.message}")
                self._reports.record(order, "cancel_rejected", now, code=exc.code, reason=exc.message)
            return
        finally:
            self._cancelling.discard(order.client_order_id)
        self._crash(self._cancel_point)
        self.on_report(report)

    def on_report(self, report: Report) -> None:
        """Apply a venue report (order status or fill); the sink every venue is bound to.

        A report about an order settles it if its submit outcome was unknown, and marks
        it as shown: it is never resent.

        Raises
        ------
        LedgerError, DataError
            As :meth:`ReportApplier.apply <livegate.execution.reports.ReportApplier.apply>`: the
            report names an order the book let go that the ledger cannot give back.
        """
        if report.client_order_id:
            self._ambiguous.shown(report.client_order_id)
        self._reports.apply(report)
