"""Test strategies for IBKR sessions: a resting buy and a marketable buy every N quotes; a requoting buy.

Loaded by path (``[strategy] spec = "<this file>:RestAndTake"``) by the subprocess
sessions of the IBKR end-to-end tests. It exists to leave a working order at the venue
(kill, cancel-all, resume) and to build a position (flatten) with real fills.
"""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.decisions import Approved
from livegate.domain.market import Quote
from livegate.strategy.api import Strategy, StrategyContext


class RestAndTake(Strategy):
    """Parameters: ``quantity`` (shares), ``rest_ticks`` below the bid, ``take_every`` quotes, ``max_position``.

    A take is an IOC limit ``take_ticks`` above the ask (marketable even if the book moved).
    """

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.quantity = Decimal(str(params.get("quantity", "1")))
        self.rest_ticks = int(str(params.get("rest_ticks", 100)))
        self.take_every = int(str(params.get("take_every", 25)))
        self.max_position = Decimal(str(params.get("max_position", "3")))
        self.take_ticks = int(str(params.get("take_ticks", 5)))
        self._quotes = 0
        self._resting: str | None = None

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Keep one resting buy; take the ask every ``take_every`` quotes up to ``max_position``."""
        self._quotes += 1
        instrument = ctx.instrument(quote.symbol)
        if instrument is None:
            return
        working = {o.client_order_id for o in ctx.open_orders(quote.symbol)}
        if self._resting is None or self._resting not in working:
            price = quote.bid_price - instrument.tick_size * self.rest_ticks
            decision = ctx.submit_order(symbol=quote.symbol, side="buy", quantity=self.quantity, price=price)
            self._resting = decision.client_order_id if isinstance(decision, Approved) else None
        if self._quotes % self.take_every == 0 and ctx.position(quote.symbol).quantity < self.max_position:
            ctx.submit_order(
                symbol=quote.symbol,
                side="buy",
                quantity=self.quantity,
                price=quote.ask_price + instrument.tick_size * self.take_ticks,
                time_in_force="ioc",
            )


class Requote(Strategy):
    """Parameters: ``quantity`` (shares), ``rest_ticks`` below the bid, ``requote_every`` quotes.

    Keeps one resting buy and replaces it every ``requote_every`` quotes (cancel, then a new
    buy once the cancel is confirmed): a steady stream of place and cancel messages.
    """

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.quantity = Decimal(str(params.get("quantity", "1")))
        self.rest_ticks = int(str(params.get("rest_ticks", 100)))
        self.requote_every = int(str(params.get("requote_every", 10)))
        self._quotes = 0
        self._resting: str | None = None

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Cancel the resting buy every ``requote_every`` quotes; place one when none works."""
        self._quotes += 1
        instrument = ctx.instrument(quote.symbol)
        if instrument is None:
            return
        working = {o.client_order_id for o in ctx.open_orders(quote.symbol)}
        if self._resting is not None and self._resting in working:
            if self._quotes % self.requote_every == 0:
                ctx.cancel_order(self._resting)
            return
        if working:
            return  # a cancel is still pending
        price = quote.bid_price - instrument.tick_size * self.rest_ticks
        decision = ctx.submit_order(symbol=quote.symbol, side="buy", quantity=self.quantity, price=price)
        self._resting = decision.client_order_id if isinstance(decision, Approved) else None
