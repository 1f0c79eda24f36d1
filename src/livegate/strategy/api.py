"""The strategy API: subclass :class:`Strategy`; talk to the market only through the context."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Protocol

from livegate.domain.decisions import Approved, Denied
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, Order
from livegate.portfolio import PositionView

Number = Decimal | int | str


class StrategyContext(Protocol):
    """What a strategy may do and see. Every order goes through the risk pipeline."""

    def submit_order(
        self,
        *,
        symbol: str,
        side: Literal["buy", "sell"],
        quantity: Number,
        order_type: Literal["limit", "market"] = "limit",
        price: Number | None = None,
        time_in_force: Literal["gtc", "ioc"] = "gtc",
        post_only: bool = False,
        reduce_only: bool = False,
        outside_rth: bool = False,
    ) -> Approved | Denied:
        """Submit an order intent and return the decision.

        ``outside_rth`` explicitly asks for an equity order outside regular trading hours
        (pre-market, after-hours); without it the regular-hours gate denies such an order.

        ``quantity`` is in base units and ``price`` in quote currency; pass Decimal, int or
        a decimal string (floats are refused: money is exact). The decision is
        ``Approved`` (``.client_order_id``) or ``Denied`` (``.code``, ``.detail``); an
        approved order is sent to the venue right after the callback returns.

        Raises
        ------
        TypeError
            If ``quantity`` or ``price`` is a float.
        ValueError
            If ``side``, ``order_type`` or ``time_in_force`` is not one of the listed values.
        """
        ...

    def cancel_order(self, client_order_id: str) -> bool:
        """Request a cancel; return False when the order is unknown or already finished."""
        ...

    def position(self, symbol: str) -> PositionView:
        """Return the current position in ``symbol`` (flat when never traded)."""
        ...

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Return working orders, optionally for one symbol (treat them as read-only)."""
        ...

    def quote(self, symbol: str) -> Quote | None:
        """Return the last valid quote of ``symbol``, or None."""
        ...

    def instrument(self, symbol: str) -> Instrument | None:
        """Return the instrument (tick, lot, min notional) of ``symbol``, or None when unknown."""
        ...

    def now_ms(self) -> int:
        """Return the session clock in ms since the epoch (replay time in replays)."""
        ...


class Strategy:
    """Base class for user strategies; override the hooks you need.

    The constructor receives the ``[strategy] params`` of the profile as keyword
    arguments (strings, numbers, booleans).
    """

    name: str = "strategy"

    def __init__(self, **params: object) -> None:
        self.params = dict(params)

    def on_start(self, ctx: StrategyContext) -> None:
        """Run once before the first market event."""

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Handle a new best bid/ask (``quote.bid_price`` ... ``quote.ts_event_ms``)."""

    def on_trade(self, ctx: StrategyContext, trade: Trade) -> None:
        """Handle a public trade print."""

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        """Handle a fill of one of this strategy's orders."""

    def on_stop(self, ctx: StrategyContext) -> None:
        """Run once after the last market event."""
