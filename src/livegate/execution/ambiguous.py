"""Orders whose submit outcome is unknown, settled from venue truth only (docs/architecture.md §3.6).

A submit that timed out, lost its connection, hit a 5xx, came back "Duplicate order
sent." (Binance -2010) or failed fatally leaves the order **in flight** here: it keeps
its ``submitted`` status, so it counts in full toward exposure, open-order and notional
caps, until venue truth settles it:

* a report about it (private stream, cancel answer): :meth:`AmbiguousOrders.shown`;
* a lookup by client order id that finds it (:meth:`AmbiguousOrders.resolve`, with
  exponential backoff from 1 s to 30 s of session time per order);
* reconciliation (its open orders and fills reach the engine as reports).

**Nothing is resent by default.** A lookup that finds nothing is not truth: Binance's
order lookups lag its matching engine, and Binance refuses a reused client order id
only while the first order with it is open ("Duplicate order sent." is returned for an
open order's ``newClientOrderId``; once it is filled or cancelled the id is free again:
Binance Spot API "Errors" -2010 and ``POST /api/v3/order`` ``newClientOrderId``), so a
resend after a filled-but-not-yet-visible order places a second real order. A venue may
opt in with :attr:`~livegate.venues.base.VenueCapabilities.client_id_unique_for_life`
only where its documentation guarantees that a reused client order id is refused for the
id's whole lifetime; even then an order any report has shown is never resent, nothing is
resent after a halt, and an order is resent at most once.

An order still unresolved ``timeout_secs`` after its submit raises the anomaly
``ambiguous_unresolved`` once (the kill triggers move to REDUCING and alert); it stays in
flight and lookups go on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.clock import Clock
from livegate.domain.enums import Liquidity, OrderStatus
from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.domain.snapshots import VenueOrderSnapshot
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.venues.base import Report, VenueAdapter

__all__ = ["AmbiguousOrders", "InFlight"]

AnomalyHandler = Callable[[str, str], None]

#: First lookup delay after a failed lookup, and the cap of the exponential backoff, in ms.
LOOKUP_BACKOFF_MS = 1_000
LOOKUP_BACKOFF_MAX_MS = 30_000


@dataclass(slots=True)
class InFlight:
    """Lookup bookkeeping of one ambiguous order (times in ms since the epoch, session clock)."""

    since_ms: int
    next_lookup_ms: int
    lookups: int = 0
    timed_out: bool = False


class AmbiguousOrders:
    """The in-flight orders of unknown outcome, by client order id, and their resolution.

    Parameters
    ----------
    venues:
        Venue adapters by name.
    ledger:
        Where an opt-in resend is recorded (an ``anomaly`` of kind ``resend_after_lookup``) before it happens.
    clock:
        Session clock (backoff and timeout).
    apply:
        The engine's report sink (records and applies a report).
    anomaly:
        The engine's anomaly sink.
    timeout_secs:
        ``[execution] ambiguous_timeout_secs``: after this long unresolved, the anomaly
        ``ambiguous_unresolved`` is raised (once per order).
    """

    __slots__ = (
        "_anomaly",
        "_apply",
        "_calling",
        "_clock",
        "_ledger",
        "_resent",
        "_shown",
        "_timeout_ms",
        "_venues",
        "flight",
        "orders",
    )

    def __init__(
        self,
        *,
        venues: Mapping[str, VenueAdapter],
        ledger: Ledger,
        clock: Clock,
        apply: Callable[[Report], None],
        anomaly: AnomalyHandler,
        timeout_secs: float = 60.0,
    ) -> None:
        self._venues = venues
        self._ledger = ledger
        self._clock = clock
        self._apply = apply
        self._anomaly = anomaly
        self._timeout_ms = int(timeout_secs * 1000)
        self._resent: set[str] = set()
        #: Client order ids a report showed while their submit call was in the air (:meth:`add` skips them).
        self._shown: set[str] = set()
        #: Client order ids whose submit call is in the air.
        self._calling: set[str] = set()
        self.orders: dict[str, Order] = {}
        self.flight: dict[str, InFlight] = {}

    def add(self, order: Order) -> None:
        """Hold ``order`` in flight; its first lookup is due at once.

        An order a report has already shown (the private stream can beat the REST
        answer) is settled by that report and is not held.
        """
        if order.client_order_id in self._shown:
            return
        now = self._clock.now_ms()
        self.orders[order.client_order_id] = order
        self.flight.setdefault(order.client_order_id, InFlight(since_ms=now, next_lookup_ms=now))

    def calling(self, client_order_id: str) -> None:
        """Note that the submit call of this order is in the air (until :meth:`call_done`)."""
        self._calling.add(client_order_id)

    def in_the_air(self) -> set[str]:
        """Return the client order ids whose submit call is in the air now (do not mutate)."""
        return self._calling

    def call_done(self, client_order_id: str) -> None:
        """Note that the submit call of this order returned (after :meth:`add`, when it was ambiguous).

        What a report showed meanwhile is forgotten: only :meth:`add`, right after the call,
        asks for it, so the ids kept stay those of calls in the air, not every order of the run.
        """
        self._calling.discard(client_order_id)
        self._shown.discard(client_order_id)

    def shown(self, client_order_id: str) -> None:
        """Note that a venue report showed this order: it is settled by that report and never resent."""
        if client_order_id in self._calling:
            self._shown.add(client_order_id)
        self.orders.pop(client_order_id, None)
        self.flight.pop(client_order_id, None)

    async def resolve(self, *, halted: bool, force: bool = False) -> None:
        """Look up every in-flight order whose backoff has run out, by client order id, and settle it.

        Parameters
        ----------
        halted:
            True after a halt: nothing is resent whatever the venue allows.
        force:
            Look up every order now, ignoring the backoff (the halt routine).
        """
        for cid, order in list(self.orders.items()):
            now = self._clock.now_ms()
            state = self.flight.setdefault(cid, InFlight(since_ms=now, next_lookup_ms=now))
            self._check_timeout(cid, state, now)
            if not force and now < state.next_lookup_ms:
                continue
            state.lookups += 1
            state.next_lookup_ms = now + min(LOOKUP_BACKOFF_MS * 2 ** (state.lookups - 1), LOOKUP_BACKOFF_MAX_MS)
            venue = self._venues[order.venue]
            try:
                snapshot = await venue.fetch_order(cid, order.symbol)
            except (Ambiguous, Fatal, Rejected, Retryable) as exc:
                self._anomaly("lookup_failed", f"{cid}: {exc.message}")
                continue
            if cid not in self.orders:
                continue  # a report settled it while the lookup was in the air
            if snapshot is not None:
                self.shown(cid)
                self._adopt_missing_fills(order, snapshot)
                self._apply(
                    OrderReport(
                        cid,
                        snapshot.status,
                        snapshot.ts_ms,
                        venue_order_id=snapshot.venue_order_id,
                        filled_quantity=snapshot.filled_quantity,
                    )
                )
            elif self._may_resend(venue, cid, halted):
                await self._resend(venue, order, now)

    def _check_timeout(self, cid: str, state: InFlight, now: int) -> None:
        if state.timed_out or now - state.since_ms < self._timeout_ms:
            return
        state.timed_out = True
        self._anomaly(
            "ambiguous_unresolved",
            f"{cid}: outcome unknown {(now - state.since_ms) / 1000:.1f} s after submit "
            f"(ambiguous_timeout_secs {self._timeout_ms / 1000:g}); still in flight, not resent",
        )

    def _may_resend(self, venue: VenueAdapter, cid: str, halted: bool) -> bool:
        """Return True only where the venue's own documentation makes a resend safe (see the module doc)."""
        return (
            venue.capabilities.client_id_unique_for_life
            and not halted
            and cid not in self._shown
            and cid not in self._resent
        )

    async def _resend(self, venue: VenueAdapter, order: Order, now: int) -> None:
        cid = order.client_order_id
        self._resent.add(cid)
        self._ledger.append(ev.ANOMALY, now, {"kind": "resend_after_lookup", "detail": cid})
        try:
            report = await venue.submit(order)
        except Rejected as exc:
            report = OrderReport(cid, OrderStatus.REJECTED, now, code=exc.code, reason=exc.message)
        except (Ambiguous, Fatal, Retryable) as exc:
            self._anomaly("ambiguous_resend", f"{cid}: {exc.message}")
            return
        self.shown(cid)
        self._apply(report)

    def _adopt_missing_fills(self, order: Order, snapshot: VenueOrderSnapshot) -> None:
        """Record the part of ``snapshot``'s filled quantity that no fill report brought.

        The venue's average fill price stands in for the unseen executions; the fee is
        unknown here (0) and is trued up by balance reconciliation.
        """
        missing = snapshot.filled_quantity - order.filled_quantity
        if missing <= 0:
            return
        price = snapshot.average_fill_price or order.price
        if price is None:
            self._anomaly("fills_unknown", f"{order.client_order_id}: venue filled {missing} at an unknown price")
            return
        self._anomaly("fills_adopted", f"{order.client_order_id}: {missing} filled at the venue, no fill report seen")
        self._apply(
            Fill(
                client_order_id=order.client_order_id,
                fill_id=f"{order.client_order_id}-adopted-{order.filled_quantity}",
                symbol=order.symbol,
                side=order.side,
                price=price,
                quantity=missing,
                fee=Decimal(0),
                liquidity=Liquidity.TAKER,
                ts_ms=snapshot.ts_ms,
                venue=order.venue,
            )
        )
