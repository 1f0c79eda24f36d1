"""The shadow venue: records every approved order, answers ACCEPTED, never fills.

Shadow mode (docs/architecture.md §3.2) runs the whole pipeline against live or replayed data
without any exchange side effect; this adapter is where approved orders end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from livegate.domain.clock import Clock
from livegate.domain.enums import OrderStatus, TimeInForce
from livegate.domain.errors import Rejected
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Order, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.venues.base import ReportSink, VenueCapabilities

__all__ = ["ShadowVenue"]


class ShadowVenue:
    """A venue that records orders and never fills them.

    Parameters
    ----------
    instruments:
        Known instruments by symbol; an order on any other symbol is rejected.
    clock:
        Source of report timestamps (ms since the epoch).
    name:
        Venue name; prefixes venue order ids (``<name>-o<n>``).

    Notes
    -----
    GTC orders stay open until cancelled. IOC orders are answered ``CANCELLED`` with
    nothing filled, as a venue would answer an IOC that found no liquidity, so they never
    linger in :meth:`open_orders`. Nothing is ever pushed to the bound sink.
    """

    def __init__(self, instruments: Mapping[str, Instrument], clock: Clock, name: str = "shadow") -> None:
        self.name = name
        self.capabilities = VenueCapabilities(native_cancel_all=True, fetch_by_client_order_id=True, simulated=True)
        self._instruments = dict(instruments)
        self._clock = clock
        self._sink: ReportSink | None = None
        self._recorded: list[Order] = []
        self._orders: dict[str, VenueOrderSnapshot] = {}
        self._last_quotes: dict[str, Quote] = {}

    @property
    def recorded_orders(self) -> list[Order]:
        """Return the orders received by :meth:`submit`, in arrival order (a copy)."""
        return list(self._recorded)

    def last_quote(self, symbol: str) -> Quote | None:
        """Return the last quote seen for ``symbol``, or None."""
        return self._last_quotes.get(symbol)

    def bind(self, sink: ReportSink) -> None:
        """Register the report sink (the shadow venue never pushes to it)."""
        self._sink = sink

    async def connect(self) -> None:
        """Do nothing."""

    async def close(self) -> None:
        """Do nothing; idempotent."""

    def instruments(self) -> dict[str, Instrument]:
        """Return the venue's instruments by symbol."""
        return dict(self._instruments)

    def on_quote(self, quote: Quote) -> None:
        """Keep ``quote`` as the last quote of its symbol."""
        self._last_quotes[quote.symbol] = quote

    def on_trade(self, trade: Trade) -> None:
        """Ignore public trades."""

    async def submit(self, order: Order) -> OrderReport:
        """Record ``order`` and answer ACCEPTED (IOC: CANCELLED, nothing filled).

        Raises
        ------
        Rejected
            ``UNKNOWN_SYMBOL`` or ``DUPLICATE_CLIENT_ORDER_ID``.
        """
        if order.symbol not in self._instruments:
            raise Rejected(f"unknown symbol {order.symbol!r}", "UNKNOWN_SYMBOL")
        if order.client_order_id in self._orders:
            raise Rejected(f"duplicate client order id {order.client_order_id!r}", "DUPLICATE_CLIENT_ORDER_ID")
        self._recorded.append(order)
        ioc = order.intent.time_in_force is TimeInForce.IOC
        snapshot = VenueOrderSnapshot(
            client_order_id=order.client_order_id,
            venue_order_id=f"{self.name}-o{len(self._recorded)}",
            symbol=order.symbol,
            side=order.side,
            order_type=order.intent.order_type,
            quantity=order.quantity,
            price=order.price,
            filled_quantity=Decimal(0),
            status=OrderStatus.CANCELLED if ioc else OrderStatus.ACCEPTED,
            ts_ms=self._clock.now_ms(),
        )
        self._orders[order.client_order_id] = snapshot
        return self._report(snapshot)

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel one open order.

        Raises
        ------
        Rejected
            ``UNKNOWN_ORDER`` when no open order has this id on ``symbol``.
        """
        snapshot = self._orders.get(client_order_id)
        if snapshot is None or snapshot.symbol != symbol or not snapshot.status.is_working:
            raise Rejected(f"no open order {client_order_id!r} on {symbol}", "UNKNOWN_ORDER")
        return self._cancel(snapshot)

    async def cancel_all(self, symbol: str | None = None, *, everything: bool = False) -> list[OrderReport]:
        """Cancel every open order (of ``symbol`` when given), oldest first (all livegate's: ``everything`` is moot)."""
        return [self._cancel(s) for s in self._open(symbol)]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Return a recorded order by client order id; None when never seen."""
        snapshot = self._orders.get(client_order_id)
        return snapshot if snapshot is not None and snapshot.symbol == symbol else None

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return open orders (of ``symbol`` when given), oldest first."""
        return self._open(symbol)

    async def positions(self) -> list[PositionSnapshot]:
        """Return no positions: shadow never fills."""
        return []

    async def balances(self) -> list[BalanceSnapshot]:
        """Return no balances: shadow holds no account."""
        return []

    def _open(self, symbol: str | None) -> list[VenueOrderSnapshot]:
        return [s for s in self._orders.values() if s.status.is_working and (symbol is None or s.symbol == symbol)]

    def _cancel(self, snapshot: VenueOrderSnapshot) -> OrderReport:
        cancelled = replace(snapshot, status=OrderStatus.CANCELLED, ts_ms=self._clock.now_ms())
        self._orders[snapshot.client_order_id] = cancelled
        return self._report(cancelled)

    @staticmethod
    def _report(snapshot: VenueOrderSnapshot) -> OrderReport:
        return OrderReport(
            client_order_id=snapshot.client_order_id,
            status=snapshot.status,
            ts_ms=snapshot.ts_ms,
            venue_order_id=snapshot.venue_order_id,
            filled_quantity=snapshot.filled_quantity,
        )
