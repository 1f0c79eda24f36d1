"""Small deterministic strategies for the Alpaca end-to-end tests (loaded by path by the CLI)."""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.market import Quote
from livegate.strategy.api import Strategy, StrategyContext


class RestingBuyer(Strategy):
    """Keep one limit buy resting ``offset`` USD under the bid until the position reaches ``max_position``.

    With ``market_first = true`` it first buys ``quantity`` at market once (a fill to hold).
    ``pause_ms`` spaces its orders (session clock): none within that long of the last.
    """

    name = "resting_buyer"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.quantity = Decimal(str(params.get("quantity", "1")))
        self.offset = Decimal(str(params.get("offset", "0.50")))
        self.max_position = Decimal(str(params.get("max_position", "5")))
        self.market_first = bool(params.get("market_first", False))
        self.pause_ms = int(str(params.get("pause_ms", "0")))
        self._bought = False
        self._last_ms: int | None = None

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Buy at market once (optional), then keep one resting limit buy."""
        now = ctx.now_ms()
        if self._last_ms is not None and now - self._last_ms < self.pause_ms:
            return
        if self.market_first and not self._bought:
            self._bought = True
            self._last_ms = now
            ctx.submit_order(symbol=quote.symbol, side="buy", quantity=self.quantity, order_type="market")
            return
        if ctx.open_orders(quote.symbol) or ctx.position(quote.symbol).quantity >= self.max_position:
            return
        self._last_ms = now
        price = (quote.bid_price - self.offset).quantize(Decimal("0.01"))
        ctx.submit_order(symbol=quote.symbol, side="buy", quantity=self.quantity, price=price)
