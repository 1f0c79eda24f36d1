"""Example market maker: quotes both sides around mid and skews by inventory.

It exists to exercise the whole order path (post-only limits, cancels, fills); it is
not meant to make money.
"""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.decisions import Approved
from livegate.domain.enums import Side
from livegate.domain.market import Quote
from livegate.domain.orders import Fill
from livegate.strategy.api import Strategy, StrategyContext

_BPS = Decimal(10_000)


class MarketMaker(Strategy):
    """Quote ``quantity`` on both sides at ``half_spread_bps`` around mid, skewed by inventory.

    Parameters (profile ``[strategy.params]``)
    ----------
    quantity:
        Order size in base units (default ``"0.002"``).
    half_spread_bps:
        Distance of each quote from mid in bps (default 1.5).
    skew_bps:
        Extra shift at full inventory in bps; long inventory lowers both quotes (default 2).
    max_position:
        Absolute inventory limit in base units; the side that would exceed it is not quoted
        (default ``"0.02"``).
    requote_interval_ms:
        Minimum time between re-quotes of one side in ms (default 500).
    """

    name = "market_maker"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.quantity = Decimal(str(params.get("quantity", "0.002")))
        self.half_spread_bps = Decimal(str(params.get("half_spread_bps", "1.5")))
        self.skew_bps = Decimal(str(params.get("skew_bps", "2")))
        self.max_position = Decimal(str(params.get("max_position", "0.02")))
        self.requote_interval_ms = int(str(params.get("requote_interval_ms", 500)))
        self._working: dict[Side, tuple[str, Decimal]] = {}
        self._last_quote_ms: dict[Side, int] = {Side.BUY: 0, Side.SELL: 0}

    def on_quote(self, ctx: StrategyContext, quote: Quote) -> None:
        """Re-price each side when its target moved and the re-quote interval passed."""
        now = quote.ts_event_ms
        last, interval = self._last_quote_ms, self.requote_interval_ms
        if now - last[Side.BUY] < interval and now - last[Side.SELL] < interval:
            return  # neither side may be re-quoted yet: the targets below would change nothing
        instrument = ctx.instrument(quote.symbol)
        if instrument is None:
            return
        inventory = ctx.position(quote.symbol).quantity
        mid = quote.mid_price
        skew = self.skew_bps * inventory / self.max_position if self.max_position else Decimal(0)
        targets = {
            Side.BUY: instrument.round_price(mid * (1 - (self.half_spread_bps + skew) / _BPS), up=False),
            Side.SELL: instrument.round_price(mid * (1 + (self.half_spread_bps - skew) / _BPS), up=True),
        }
        targets[Side.BUY] = min(targets[Side.BUY], quote.bid_price)
        targets[Side.SELL] = max(targets[Side.SELL], quote.ask_price)
        for side, price in targets.items():
            working = self._working.get(side)
            if working is not None and working[1] == price:
                continue
            if now - self._last_quote_ms[side] < self.requote_interval_ms:
                continue
            if working is not None:
                ctx.cancel_order(working[0])
                del self._working[side]
            allowed = self.max_position - inventory * side.sign
            if allowed < self.quantity:
                continue
            decision = ctx.submit_order(
                symbol=quote.symbol, side=side.value, quantity=self.quantity, price=price, post_only=True
            )
            self._last_quote_ms[side] = now
            if isinstance(decision, Approved):
                self._working[side] = (decision.client_order_id, price)

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        """Forget a side once its order is completely filled so it is re-quoted."""
        for side, (cid, _) in list(self._working.items()):
            if cid == fill.client_order_id and not any(o.client_order_id == cid for o in ctx.open_orders(fill.symbol)):
                del self._working[side]
