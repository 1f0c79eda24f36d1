"""Orders whose submit outcome is unknown, settled from venue truth (DESIGN.md §3.6).

A submit that timed out, lost its connection, hit a 5xx or a rate limit, or failed
fatally leaves the order in flight here. :meth:`AmbiguousOrders.resolve` looks each one
up by client order id: found, the venue's state (and any fills no report brought) is
applied; not found, the order is resent once under the same client order id — never
after a halt, when it is marked rejected instead, since nothing may open while HALTED
(DESIGN.md §3.1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from livegate.domain.clock import Clock
from livegate.domain.enums import Liquidity, OrderStatus
from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.domain.snapshots import VenueOrderSnapshot
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.venues.base import Report, VenueAdapter

__all__ = ["AmbiguousOrders"]

AnomalyHandler = Callable[[str, str], None]


class AmbiguousOrders:
    """The in-flight orders of unknown outcome, by client order id, and their resolution.

    Parameters
    ----------
    venues:
        Venue adapters by name.
    ledger:
        Where a resend is recorded (an ``anomaly`` of kind ``resend_after_lookup``) before it happens.
    clock:
        Session clock.
    apply:
        The engine's report sink (records and applies a report).
    anomaly:
        The engine's anomaly sink.
    """

    __slots__ = ("_anomaly", "_apply", "_clock", "_ledger", "_resent", "_venues", "orders")

    def __init__(
        self,
        *,
        venues: Mapping[str, VenueAdapter],
        ledger: Ledger,
        clock: Clock,
        apply: Callable[[Report], None],
        anomaly: AnomalyHandler,
    ) -> None:
        self._venues = venues
        self._ledger = ledger
        self._clock = clock
        self._apply = apply
        self._anomaly = anomaly
        self._resent: set[str] = set()
        self.orders: dict[str, Order] = {}

    async def resolve(self, *, resend: bool) -> None:
        """Look every in-flight order up by client order id and settle it.

        ``resend`` False (after a halt) marks an order the venue never saw as rejected
        with code ``HALTED`` instead of resending it.
        """
        for cid, order in list(self.orders.items()):
            venue = self._venues[order.venue]
            try:
                snapshot = await venue.fetch_order(cid, order.symbol)
            except (Ambiguous, Fatal, Rejected, Retryable) as exc:
                self._anomaly("lookup_failed", f"{cid}: {exc.message}")
                continue
            now = self._clock.now_ms()
            if snapshot is None and cid in self._resent:
                # resent once already and still unknown: never a second resend (DESIGN.md §3.6)
                self._anomaly("unresolved_after_resend", cid)
                continue
            del self.orders[cid]
            if snapshot is not None:
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
            elif not resend:
                reason = "the venue never saw it; not resent while trading is halted"
                self._apply(OrderReport(cid, OrderStatus.REJECTED, now, code="HALTED", reason=reason))
            else:
                await self._resend(venue, order, now)

    async def _resend(self, venue: VenueAdapter, order: Order, now: int) -> None:
        cid = order.client_order_id
        self._resent.add(cid)
        self._ledger.append(ev.ANOMALY, now, {"kind": "resend_after_lookup", "detail": cid})
        try:
            report = await venue.submit(order)
        except Rejected as exc:
            report = OrderReport(cid, OrderStatus.REJECTED, now, code=exc.code, reason=exc.message)
        except (Ambiguous, Fatal, Retryable) as exc:
            self.orders[cid] = order
            self._anomaly("ambiguous_resend", f"{cid}: {exc.message}")
            return
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
