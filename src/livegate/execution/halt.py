"""Backoff of the halt routine's venue calls (issue 10 §3f).

A halt cancels everything and must confirm that nothing is left open, whatever the
venue does: cancels that fail, a 429, a ban. Its callers loop until the venue confirms
none open, so the engine paces each venue's cancel-all and open-order reads here:
after a failure, or while orders are still open, the next attempt waits
``base_secs x 2^n`` (capped at ``max_secs``). With the request-weight budget of the
adapter (:class:`~livegate.venues.rate_budget.WeightBudget`) refusing unsent what would
break the venue's limit, a halt can no longer burn the budget into a 429 and a ban.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field

from livegate.domain.clock import Clock, monotonic_secs
from livegate.domain.errors import DataError, LedgerError, VenueError
from livegate.domain.orders import Order, OrderReport
from livegate.execution.ambiguous import AmbiguousOrders
from livegate.execution.reports import is_livegate_order
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.venues.base import Report, VenueAdapter
from livegate.venues.rate_budget import halt_requests

__all__ = ["HaltBackoff", "HaltRoutine"]


@dataclass(slots=True)
class HaltBackoff:
    """Per-venue exponential backoff of halt attempts (wall-clock seconds, monotonic).

    Parameters
    ----------
    base_secs:
        Wait after the first failed or unconfirmed attempt (default 0.05 s).
    max_secs:
        Largest wait (default 5 s: Binance's weight window is 60 s; a cancel-all and an
        open-order read weigh 1 + 6..80 units of 6000).
    """

    base_secs: float = 0.05
    max_secs: float = 5.0
    _failures: dict[str, int] = field(default_factory=dict)
    _next_ok: dict[str, float] = field(default_factory=dict)

    async def wait(self, venue: str) -> None:
        """Sleep until the next attempt on ``venue`` is due."""
        delay = self._next_ok.get(venue, 0.0) - monotonic_secs()
        if delay > 0:
            await asyncio.sleep(delay)

    def due_in_secs(self, venue: str) -> float:
        """Return the seconds until the next attempt on ``venue`` is due (0.0 when it is due now)."""
        return max(self._next_ok.get(venue, 0.0) - monotonic_secs(), 0.0)

    def failed(self, venue: str) -> float:
        """Record a failed or unconfirmed attempt on ``venue``; return the next wait in seconds."""
        n = self._failures.get(venue, 0)
        self._failures[venue] = n + 1
        delay: float = min(self.base_secs * 2**n, self.max_secs)
        self._next_ok[venue] = monotonic_secs() + delay
        return delay

    def succeeded(self, venue: str) -> None:
        """Reset ``venue``'s backoff after a confirmed attempt."""
        self._failures.pop(venue, None)
        self._next_ok.pop(venue, None)


class HaltRoutine:
    """The execution engine's halt: cancel everything, confirm none open, never raise a venue error.

    The latched trading state (written before a halt) is the durable record of the
    decision, so the venues come first: every venue with a native cancel-all gets it at
    once (``asyncio.gather``), then the requests and answers are recorded in one ledger
    commit, then working orders on other venues are cancelled one by one. Undispatched
    submits are dropped (``rejected`` with code ``HALTED``); in-flight orders of unknown
    outcome are looked up and never resent. Each venue's attempts are paced by
    :class:`HaltBackoff`, so a caller that loops "halt, count, halt..." stays within the
    venue's rate budget.

    Parameters
    ----------
    venues, ledger, clock, portfolio, ambiguous:
        The engine's venues, ledger, session clock, book and in-flight orders.
    anomaly, crash:
        The engine's anomaly sink and crash-point hook (``cancel_all``).
    apply:
        The engine's report sink.
    reject_unsent:
        ``reject_unsent(order, now_ms, code, reason)``: record a dropped submit.
    cancel_working:
        ``cancel_working(reason)``: the engine's one-by-one cancel of working orders.
    """

    def __init__(
        self,
        *,
        venues: Mapping[str, VenueAdapter],
        ledger: Ledger,
        clock: Clock,
        portfolio: Portfolio,
        ambiguous: AmbiguousOrders,
        anomaly: Callable[[str, str], None],
        crash: Callable[[str], None],
        apply: Callable[[Report], None],
        reject_unsent: Callable[[Order, int, str, str], None],
        cancel_working: Callable[[str], Awaitable[int]],
    ) -> None:
        self._venues = venues
        self._ledger = ledger
        self._clock = clock
        self._portfolio = portfolio
        self._ambiguous = ambiguous
        self._anomaly = anomaly
        self._crash = crash
        self._apply = apply
        self._reject_unsent = reject_unsent
        self._cancel_working = cancel_working
        self.backoff = HaltBackoff()
        #: per venue, when it takes requests again after a Retry-After window or an IP ban (ms since the epoch)
        self._retry_at_ms: dict[str, int] = {}

    def blocked_until_ms(self) -> int:
        """Return the latest known end of a venue's Retry-After window or IP ban still running, else 0.

        Learnt from the errors of the halt's own calls (:attr:`VenueError.retry_at_ms`).
        """
        now = self._clock.now_ms()
        return max((t for t in self._retry_at_ms.values() if t > now), default=0)

    def _failed(self, name: str, exc: BaseException) -> float:
        """Record a failed attempt on venue ``name``; return the backoff delay in seconds."""
        if isinstance(exc, VenueError) and exc.retry_at_ms is not None:
            self._retry_at_ms[name] = exc.retry_at_ms
        return self.backoff.failed(name)

    def _working_at(self, venue: str) -> int:
        """Return how many orders livegate holds as working on ``venue``."""
        return sum(1 for o in self._portfolio.working_orders() if o.venue == venue)

    async def halt(self, reason: str, dropped: list[Order], *, confirm_secs: float = 0.0) -> int:
        """Cancel everything (``dropped``: the undispatched submits); return how many cancels were sent.

        With ``confirm_secs`` > 0, retry (cancel-all, then :meth:`open_order_count`) with
        backoff until the venues confirm none open or that many seconds pass.
        """
        with halt_requests():  # its cancels and the reads they need may use the venue's reserved weight
            sent = await self._once(reason, dropped)
            if confirm_secs <= 0:
                return sent
            deadline = monotonic_secs() + confirm_secs
            while monotonic_secs() < deadline:
                if await self.open_order_count(after_halt=True) == 0:
                    break
                sent += await self._once(reason, [])
            return sent

    async def _once(self, reason: str, dropped: list[Order]) -> int:
        now = self._clock.now_ms()
        natives = [(n, v) for n, v in self._venues.items() if v.capabilities.native_cancel_all]
        for name, _ in natives:
            await self.backoff.wait(name)
        answers = await asyncio.gather(*(v.cancel_all() for _, v in natives), return_exceptions=True)
        self._crash("cancel_all")
        sent = 0
        try:
            with self._ledger.transaction():  # one commit, not one fsync per order
                for order in dropped:
                    self._reject_unsent(order, now, "HALTED", reason)
                for (name, _), answer in zip(natives, answers, strict=True):
                    if isinstance(answer, BaseException):  # reported, retried with backoff; never raised
                        delay = self._failed(name, answer)
                        text = answer.message if isinstance(answer, VenueError) else repr(answer)
                        self._anomaly("cancel_failed", f"{name}: cancel_all: {text}; retry in {delay:.2f} s")
                        continue
                    for report in answer:
                        held = self._held(report)
                        if held is None:
                            continue
                        cid = report.client_order_id
                        self._ledger.append(ev.CANCEL_REQUESTED, now, {"client_order_id": cid, "reason": reason})
                        if held:
                            self._apply(report)
                            sent += 1
                            continue
                        try:  # let go and unreadable: the report is recorded, then the read fails again
                            self._apply(report)
                        except (LedgerError, DataError):
                            pass
                if self._ambiguous.orders:
                    await self._ambiguous.resolve(halted=True, force=True)
                sent += await self._cancel_working(reason)
        except LedgerError as exc:
            self._anomaly("ledger_write_failed", str(exc))
        return sent

    def _held(self, report: OrderReport) -> bool | None:
        """Return True (held, or let go and read back), False (let go, unreadable) or None (not livegate's).

        A let-go order the ledger cannot give back is livegate's: the read's failure already
        halted the session (``Retirement.on_read_failed``) and the report is still recorded.
        The failure is caught here, inside the halt's ledger transaction, so that it neither
        rolls back the halt's other records (the failure's anomaly among them) nor skips the
        other cancels.
        """
        try:
            return True if self._portfolio.order(report.client_order_id) is not None else None
        except (LedgerError, DataError):
            return False

    async def open_order_count(self, *, after_halt: bool = False) -> int:
        """Return how many of livegate's orders the venues report open, summed over every venue.

        Outside orders (a client id livegate did not make, an order its book does not hold)
        are not counted: a halt leaves them open (docs/recovery.md, outside orders).

        A venue that cannot be asked (error, rate budget, ban) counts as
        ``max(1, livegate's working orders there)``, and a venue that answers counts at least
        livegate's working orders there (its list may lag): unconfirmed is never "none open".

        With ``after_halt`` (confirming a halt), a venue that still shows open orders is an
        unconfirmed attempt and backs off like a failed one. A plain read (status, a flatten's
        report, before a kill) does not: it must not delay the next kill's cancel-all.
        """
        total = 0
        for name, venue in self._venues.items():
            await self.backoff.wait(name)
            try:
                with halt_requests() if after_halt else nullcontext():  # confirming a halt: its reserved weight
                    listed = await venue.open_orders()
                count = sum(1 for o in listed if is_livegate_order(self._portfolio, o.client_order_id))
            except VenueError as exc:
                delay = self._failed(name, exc)
                self._anomaly("open_orders_unknown", f"{name}: {exc.message}; retry in {delay:.2f} s")
                total += max(1, self._working_at(name))
                continue
            # the venue's list may lag its matching engine (Binance read lag: a new order is
            # missing from openOrders and a cancel of it answers -2011 for a moment); orders
            # livegate still holds as working there count until a report settles them
            count = max(count, self._working_at(name))
            if count:
                if after_halt:
                    self.backoff.failed(name)
            else:
                self.backoff.succeeded(name)
            total += count
        return total
