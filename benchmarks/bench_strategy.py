"""Benchmark strategy: looks at every quote, submits an IOC order every 1,000 quotes."""

from __future__ import annotations

from decimal import Decimal

from livegate import Quote, Strategy, StrategyContext


class EveryThousandQuotes(Strategy):
    """Touch every quote (mid computed), alternate buy/sell IOC at the far side every 1,000 quotes."""

    name = "bench_every_1000"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.every = int(str(params.get("every", 1000)))
        self.quantity = Decimal(str(params.get("quantity", "0.002")))
        self.seen = 0
        self.last_mid = Decimal(0)

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        self.seen += 1
        self.last_mid = quote.mid_price
        if self.seen % self.every:
            return
        buy = (self.seen // self.every) % 2 == 1
        price = quote.ask_price if buy else quote.bid_price
        ctx.submit_order(
            symbol=quote.symbol,
            side="buy" if buy else "sell",
            quantity=self.quantity,
            price=price,
            time_in_force="ioc",
        )
