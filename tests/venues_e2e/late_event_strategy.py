"""A deterministic strategy for the late-event end-to-end test (loaded by path by the CLI).

It writes many ledger events around one real order, in three steps:

1. ``pad`` intents the risk pipeline denies (``quantity`` far over ``[risk]
   max_order_notional_usd``): each writes an ``intent`` and a ``decision`` and is one order
   entry of the report's ledger fold, so the real order comes after the entries the fold
   always keeps (:data:`livegate.ops.rollup_read.REPORT_TABLE_ROWS`);
2. one limit buy of ``quantity`` resting ``offset`` USD under the bid, cancelled as soon as
   a public trade prints at or through its price (a maker pulling a quote that was hit);
3. ``after`` more denied intents once the cancel is confirmed, then nothing.

Denied intents fill the ledger without venue calls: Binance (and the emulator) allow 100
orders per 10 s on spot, so a thousand events of real orders would take over a minute.
"""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.market import Quote, Trade
from livegate.strategy.api import Strategy, StrategyContext


class LateEventProbe(Strategy):
    """Deny ``pad`` intents, rest one buy until a print reaches it, cancel it, deny ``after`` intents.

    Parameters (profile ``[strategy.params]``)
    ----------
    quantity:
        The resting buy's size (base units).
    offset:
        How far under the bid the buy rests (USD).
    oversize:
        Size of a denied intent (base units; its notional must exceed the order cap).
    pad, after:
        Denied intents before the buy and after its cancel.
    per_quote:
        Denied intents sent per quote (spreads the work over the feed).
    """

    name = "late_event_probe"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.quantity = Decimal(str(params.get("quantity", "0.002")))
        self.offset = Decimal(str(params.get("offset", "200")))
        self.oversize = Decimal(str(params.get("oversize", "1")))
        self.pad = int(str(params.get("pad", 500)))
        self.after = int(str(params.get("after", 540)))
        self.per_quote = int(str(params.get("per_quote", 50)))
        self._denied_before = 0
        self._denied_after = 0
        self._resting: str = ""
        self._price = Decimal(0)
        self._cancelled = False

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Send the next step's intents."""
        if self._denied_before < self.pad:
            self._denied_before += self._deny(ctx, quote, self.pad - self._denied_before)
        elif not self._resting:
            price = (quote.bid_price - self.offset).quantize(Decimal("0.01"))
            decision = ctx.submit_order(symbol=quote.symbol, side="buy", quantity=self.quantity, price=price)
            if decision.approved:  # else (a tripwire, the startup reconciliation) the next quote tries again
                self._resting, self._price = decision.client_order_id, price
        elif self._cancelled and not ctx.open_orders(quote.symbol) and self._denied_after < self.after:
            self._denied_after += self._deny(ctx, quote, self.after - self._denied_after)

    def on_trade(self, ctx: StrategyContext, trade: Trade) -> None:
        """Cancel the resting buy once a print reaches its price."""
        if self._resting and not self._cancelled and trade.price <= self._price:
            self._cancelled = ctx.cancel_order(self._resting)

    def _deny(self, ctx: StrategyContext, quote: Quote, left: int) -> int:
        sent = min(left, self.per_quote)
        for _ in range(sent):
            ctx.submit_order(symbol=quote.symbol, side="buy", quantity=self.oversize, price=quote.bid_price)
        return sent
