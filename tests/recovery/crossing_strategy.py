"""A test strategy whose orders the venue rejects: a post-only buy at the ask, every ``every_ms`` of event time."""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.market import Quote
from livegate.strategy.api import Strategy, StrategyContext


class Crossing(Strategy):
    """Each order would take liquidity, so a post-only venue rejects it (paper: ``POST_ONLY_WOULD_CROSS``)."""

    name = "crossing"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.every_ms = int(str(params.get("every_ms", 10_000)))
        self._next_ms = -1

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Send one crossing post-only buy when its time has come."""
        if quote.ts_event_ms < self._next_ms:
            return
        self._next_ms = quote.ts_event_ms + self.every_ms
        ask = quote.ask_price
        ctx.submit_order(symbol=quote.symbol, side="buy", quantity=Decimal("0.001"), price=ask, post_only=True)
