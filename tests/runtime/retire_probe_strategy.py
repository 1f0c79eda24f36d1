"""A deterministic strategy that gets one finished order retired, then keeps trading (loaded by path).

Used by :mod:`tests.runtime.test_rebuild_read_failure`. In four steps:

1. ``pad`` intents the risk pipeline denies (``oversize`` over ``[risk] max_order_notional_usd``):
   each writes an ``intent`` and a ``decision`` and is one order entry of the session
   reader's fold, so the real order comes after the entries that fold always keeps
   (:data:`livegate.ops.rollup_read.REPORT_TABLE_ROWS`);
2. one limit buy of ``quantity`` resting ``offset`` under the bid, cancelled once the venue took it;
3. ``after`` more denied intents once the cancel is confirmed: over
   :data:`~livegate.ledger.fold_retire.RETIRE_AFTER_EVENTS` ledger events, so the next
   reconciliation lets the order go;
4. then, on every quote, a resting buy when none is open, cancelled on the next quote: orders
   placed for as long as the session trades. With ``cancel_first_at`` the ``cancel_first_at``-th
   quote of this step cancels the long finished first buy again, swallowing any error (as a
   careless strategy's ``except Exception`` does).
"""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.market import Quote
from livegate.strategy.api import Strategy, StrategyContext


class RetireProbe(Strategy):
    """Deny ``pad`` intents, rest and cancel one buy, deny ``after`` intents, then rest and cancel buys.

    Parameters (profile ``[strategy.params]``)
    ----------
    quantity:
        A resting buy's size (base units).
    offset:
        How far under the bid a buy rests (quote currency).
    oversize:
        Size of a denied intent (base units; its notional must exceed the order cap).
    pad, after:
        Denied intents before the first buy and after its cancel.
    per_quote:
        Denied intents sent per quote.
    cancel_first_at:
        Quote of step 4 that cancels the first buy again (0: never).
    """

    name = "retire_probe"

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
        self.cancel_first_at = int(str(params.get("cancel_first_at", 0)))
        self._first = ""
        self._cancelled = False
        self._resting_quotes = 0
        #: What cancelling the first buy again raised (the strategy carries on), if anything.
        self.swallowed: list[Exception] = []

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Send the next step's intents."""
        if self._denied_before < self.pad:
            self._denied_before += self._deny(ctx, quote, self.pad - self._denied_before)
            return
        open_orders = ctx.open_orders(quote.symbol)
        if not self._first:
            self._first = self._rest(ctx, quote)
        elif not self._cancelled:
            if any(o.client_order_id == self._first and o.status.value == "accepted" for o in open_orders):
                self._cancelled = ctx.cancel_order(self._first)
        elif open_orders:
            for order in open_orders:
                if order.status.value == "accepted":
                    ctx.cancel_order(order.client_order_id)
        elif self._denied_after < self.after:
            self._denied_after += self._deny(ctx, quote, self.after - self._denied_after)
        else:
            self._resting_quotes += 1
            if self._resting_quotes == self.cancel_first_at:
                try:
                    ctx.cancel_order(self._first)
                except Exception as exc:
                    self.swallowed.append(exc)
            self._rest(ctx, quote)

    def _rest(self, ctx: StrategyContext, quote: Quote) -> str:
        price = (quote.bid_price - self.offset).quantize(Decimal("0.1"))
        decision = ctx.submit_order(symbol=quote.symbol, side="buy", quantity=self.quantity, price=price)
        return decision.client_order_id if decision.approved else ""

    def _deny(self, ctx: StrategyContext, quote: Quote, left: int) -> int:
        sent = min(left, self.per_quote)
        for _ in range(sent):
            ctx.submit_order(symbol=quote.symbol, side="buy", quantity=self.oversize, price=quote.bid_price)
        return sent
