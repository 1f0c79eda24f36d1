"""The execution engine: records decisions write-ahead, routes approved orders, applies reports.

It is the only component that talks to venues, and it accepts only
:class:`~livegate.domain.decisions.Approved` decisions built by the risk pipeline
(docs/architecture.md §3.1). Order of durability (§3.5): intent and decision are committed to the
ledger, then ``submit_requested``, then the venue is called, then its answer is appended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from livegate.domain.clock import Clock
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import DenialCode, OrderStatus
from livegate.domain.errors import InvariantViolation, LedgerError
from livegate.domain.ids import client_order_id
from livegate.domain.orders import Fill, Order, OrderIntent
from livegate.execution.ambiguous import AmbiguousOrders
from livegate.execution.calls import VenueCalls
from livegate.execution.halt import HaltRoutine
from livegate.execution.quality import ExecutionQuality
from livegate.execution.reports import AnomalyHandler, CrashPoint, EngineStats, ReportApplier, decision_record
from livegate.execution.venue_orders import VenueOrders
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.risk.pipeline import RiskPipeline
from livegate.telemetry.metrics import SessionMetrics
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.base import VenueAdapter

__all__ = ["AnomalyHandler", "CrashPoint", "EngineStats", "ExecutionEngine", "Router"]

Router = Callable[[OrderIntent], str]


def _no_crash(point: str) -> None:
    """Do nothing: the default crash point hook of production runs."""


class ExecutionEngine(VenueOrders):
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
        Inputs of the deterministic client order ids (docs/architecture.md §3.6).
    first_seq:
        First intent sequence number (non-zero when resuming a session).
    crash_point:
        Test-only hook called with a point name where a SIGKILL is most dangerous:
        ``before_submit`` (submit_requested durable, venue not called), ``after_submit``
        (venue answered, answer not yet applied), ``between_fills`` (a later fill of a
        partly filled order arrived, not yet recorded), ``after_cancel`` and
        ``cancel_all`` (venue cancelled, not yet recorded). Built once by the composition
        root from ``LIVEGATE_CRASH_AT``; None in production.
    ambiguous_timeout_secs:
        ``[execution] ambiguous_timeout_secs``: an in-flight order of unknown outcome
        still unresolved this long after its submit raises ``ambiguous_unresolved``
        (REDUCING, alert); see :mod:`livegate.execution.ambiguous`.
    background_venue_calls:
        Run submits and cancels to real (non-simulated) venues as asyncio tasks, so a
        slow venue never blocks the session: :meth:`dispatch` returns at once, timers,
        quotes, other cancels and the kill check go on, and each answer is applied when
        it comes. A cancel of an order whose submit is still in the air waits for it.
        Call :meth:`settle` before shutdown. Simulated venues stay inline (deterministic
        replay).
    venue_call_timeout_secs:
        Upper bound on one submit or cancel, in seconds (normally the venue client's own
        timeout plus a margin); past it a submit is ambiguous and a cancel failed.
    metrics:
        The session's Prometheus metrics (intents, denials, orders, rejects, fills,
        submit latency, venue errors); None keeps a private, unexported set.
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
        ambiguous_timeout_secs: float = 60.0,
        background_venue_calls: bool = False,
        venue_call_timeout_secs: float | None = None,
        metrics: SessionMetrics | None = None,
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
        self.metrics = metrics if metrics is not None else SessionMetrics()
        # arrival quotes, slippage and markouts (issue 13 item 1; livegate.execution.quality)
        self.quality = ExecutionQuality(pipeline.context.quotes, self._record_markout)
        self._reports = ReportApplier(
            ledger=ledger,
            telemetry=telemetry,
            portfolio=portfolio,
            stats=self._stats,
            anomaly=self._anomaly,
            crash=self._crash,
            metrics=self.metrics,
            quality=self.quality,
        )
        self._new_fills: list[Fill] = self._reports.new_fills  # the same list: a cheap "any fills?" test
        self._ambiguous = AmbiguousOrders(
            venues=self._venues,
            ledger=ledger,
            clock=clock,
            apply=self._reports.apply,
            anomaly=self._anomaly,
            timeout_secs=ambiguous_timeout_secs,
        )
        self._halt_routine = HaltRoutine(
            venues=self._venues,
            ledger=ledger,
            clock=clock,
            portfolio=portfolio,
            ambiguous=self._ambiguous,
            anomaly=self._anomaly,
            crash=self._crash,
            apply=self.on_report,
            reject_unsent=self._reject_unsent,
            cancel_working=self.cancel_all,
        )
        self._background = background_venue_calls
        self._calls = VenueCalls(venue_call_timeout_secs, self._anomaly, self._requeue_cancels)
        self._deferred_cancels: list[Order] = []
        self._cancelling: set[str] = set()  # client order ids whose cancel call is in the air
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
        arrival = self.quality.arrival(intent.symbol, intent.ts_ms)
        self.stats.intents += 1
        self.metrics.intent(venue, intent.symbol)
        try:
            with self._ledger.transaction():
                self._ledger.record(ev.INTENT, intent.ts_ms, {"client_order_id": cid, **intent.to_record()})
                self._ledger.record(ev.DECISION, intent.ts_ms, decision_record(decision, venue, arrival))
                if isinstance(decision, Approved):
                    self._ledger.record(ev.SUBMIT_REQUESTED, intent.ts_ms, {"client_order_id": cid, "venue": venue})
        except LedgerError as exc:
            self._anomaly("ledger_write_failed", str(exc))
            decision = Denied(intent, cid, DenialCode.GATE_ERROR, f"ledger write failed: {exc}")
            self.stats.denied[decision.code.value] += 1
            self.metrics.denied(decision.code.value)
            return decision
        self._telemetry.emit(
            "decision",
            intent.ts_ms,
            client_order_id=cid,
            symbol=intent.symbol,
            side=intent.side,  # a StrEnum: the line holds its value
            approved=decision.approved,
            code=decision.code.value if isinstance(decision, Denied) else None,
            detail=decision.detail if isinstance(decision, Denied) else "",
            venue=venue,
        )
        if isinstance(decision, Denied):
            self.stats.denied[decision.code.value] += 1
            self.metrics.denied(decision.code.value)
            return decision
        self.quality.approved(cid, arrival)
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
            self._ledger.record(
                ev.SUBMIT_REQUESTED,
                self._clock.now_ms(),
                {"client_order_id": decision.client_order_id, "venue": decision.venue},
            )
        order = Order(decision.client_order_id, decision.intent, decision.venue)
        self._portfolio.add_order(order)
        self._pending_submits.append(order)
        self.stats.approved += 1
        return order

    def retire_finished(self, client_order_ids: Iterable[str]) -> int:
        """Let these finished orders go from the book; return how many went.

        For the session's report reader's retired orders, given right after it caught up
        with the ledger (:meth:`livegate.ledger.fold_retire.Retirement.take_retired`); the
        book brings one back from the ledger when it is named again
        (:meth:`livegate.portfolio.book.Portfolio.revive_with`). An order the engine still
        holds (ambiguous, queued for a venue call, or with a submit or cancel call in the
        air, whose answer applies to the object it holds) or that is not finished stays.
        """
        held = {o.client_order_id for o in (*self._pending_submits, *self._pending_cancels, *self._deferred_cancels)}
        held.update(self.ambiguous_orders, self._cancelling, self._ambiguous.in_the_air())
        retire, forget = self._portfolio.retire_finished, self.quality.forget
        gone = [cid for cid in client_order_ids if cid not in held and retire(cid)]
        for cid in gone:
            forget(cid)  # its arrival mid too (read back from the ledger for a late fill)
        return len(gone)

    def request_cancel(self, client_order_id: str, reason: str = "strategy") -> bool:
        """Queue a cancel; return False when the order is unknown or finished."""
        order = self._portfolio.order(client_order_id)
        if order is None or order.status.is_terminal or order.status is OrderStatus.CANCEL_PENDING:
            return False
        if order in self._pending_cancels:
            return False
        self._pending_cancels.append(order)
        self._ledger.record(
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
        """Send queued submits, then queued cancels, to their venues (as tasks with ``background_venue_calls``)."""
        while self._pending_submits or self._pending_cancels:
            submits, self._pending_submits = self._pending_submits, []
            for order in submits:
                if self._in_background(order):
                    self._calls.spawn(order.client_order_id, self._submit(order), submit=True)
                else:
                    await self._submit(order)
            cancels, self._pending_cancels = self._pending_cancels, []
            for order in cancels:
                if order.client_order_id in self._calls.busy:
                    self._deferred_cancels.append(order)  # its submit is still in the air
                elif self._in_background(order):
                    self._calls.spawn(order.client_order_id, self._cancel(order))
                else:
                    await self._cancel(order)

    @property
    def calls_in_flight(self) -> int:
        """Return how many venue calls run in the background."""
        return len(self._calls)

    def submits_in_flight(self) -> bool:
        """Return True when a background submit of an order still working awaits the venue's answer."""
        submitting = self._calls.submitting
        return bool(submitting) and any(o.client_order_id in submitting for o in self._portfolio.working_orders())

    async def settle(self, *, stopping: bool = False) -> None:
        """Wait for every background venue call to finish (each is bounded by ``venue_call_timeout_secs``).

        ``stopping`` (a stop signal, after the stop's cancels): calls of orders the venue
        has already reported finished are not waited for (:meth:`VenueCalls.abandon`): a
        submit whose answer hangs after the venue took the order and cancelled it would
        otherwise hold the stop for the venue client's whole timeout.
        """
        if stopping:
            working = {o.client_order_id for o in self._portfolio.working_orders()}
            await self._calls.abandon(lambda cid: cid not in working)
        await self._calls.settle()

    def _in_background(self, order: Order) -> bool:
        return self._background and not self._venues[order.venue].capabilities.simulated

    def _requeue_cancels(self, client_order_id: str) -> None:
        waiting = [o for o in self._deferred_cancels if o.client_order_id == client_order_id]
        self._deferred_cancels = [o for o in self._deferred_cancels if o.client_order_id != client_order_id]
        self._pending_cancels.extend(waiting)

    async def halt_all_venues(self, reason: str, *, confirm_secs: float = 0.0) -> int:
        """Cancel everything for a HALT and return how many cancels were sent; never raises a venue error.

        See :class:`~livegate.execution.halt.HaltRoutine`: native cancel-alls at once,
        one ledger commit, undispatched submits dropped (``rejected``), orders of unknown
        outcome looked up and never resent, every venue paced by backoff. ``confirm_secs``
        > 0 keeps retrying until the venues confirm none open or that many seconds pass.
        """
        self._halted = True
        dropped, self._pending_submits = self._pending_submits, []
        return await self._halt_routine.halt(reason, dropped, confirm_secs=confirm_secs)

    async def venue_open_order_count(self, *, after_halt: bool = False) -> int:
        """Return how many open orders the venues report; a venue that cannot be asked counts as open.

        Never raises a venue error; paced by the halt backoff (see :class:`~livegate.execution.halt.HaltRoutine`).
        ``after_halt``: the read confirms a halt, so orders still open back the next attempt off;
        a plain read leaves the backoff alone (the next kill's cancel-all goes out at once).
        """
        return await self._halt_routine.open_order_count(after_halt=after_halt)

    def halt_wait_secs(self, venue: str) -> float:
        """Return the seconds the halt routine waits before its next call to ``venue`` (0.0: none)."""
        return self._halt_routine.backoff.due_in_secs(venue)

    def halt_wait_max_secs(self) -> float:
        """Return the longest wait of the halt routine's backoff over the venues (0.0: every venue is due)."""
        return max((self.halt_wait_secs(name) for name in self._venues), default=0.0)

    def venue_blocked_until_ms(self) -> int:
        """Return the latest known end (ms since the epoch) of a venue's Retry-After window or ban, else 0."""
        return self._halt_routine.blocked_until_ms()

    async def resolve_ambiguous(self) -> None:
        """Look in-flight orders of unknown outcome up by client order id (with backoff); never resend by default.

        docs/architecture.md §3.6 and :mod:`livegate.execution.ambiguous`: an order stays in flight,
        counted against every cap, until a report, a lookup or reconciliation shows it.
        """
        await self._ambiguous.resolve(halted=self._halted)

    # ------------------------------------------------------------------ reports
    def disown(self, client_order_id: str) -> None:
        """Expect reports for an order of an earlier session this session cancels (recorded, no anomaly)."""
        self._reports.disown(client_order_id)

    def _record_markout(self, ts_ms: int, payload: dict[str, object]) -> None:
        """Append a ``markout`` event (a ledger failure is an anomaly, as for every write).

        A markout is derived from recorded quotes and fills, not a venue's answer or an
        order: it joins the next commit (docs/recovery.md, "Durability").
        """
        try:
            self._ledger.record(ev.MARKOUT, ts_ms, payload, durable=False)
        except LedgerError as exc:
            self._anomaly("ledger_write_failed", str(exc))

    def _anomaly(self, kind: str, detail: str) -> None:
        for handler in self._anomaly_handlers:
            handler(kind, detail)
