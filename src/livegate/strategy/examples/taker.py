"""Example taker: crosses the spread when recent trade flow is one-sided.

It exists to exercise market and IOC orders through the pipeline; it need not make money.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.market import Quote, Trade
from livegate.strategy.api import Strategy, StrategyContext


class Taker(Strategy):
    """Buy (sell) at market when aggressor buy (sell) volume dominates the recent window.

    Parameters (profile ``[strategy.params]``)
    ----------
    quantity:
        Order size in base units (default ``"0.005"``).
    window_ms:
        Trade-flow window in ms (default 2000).
    threshold:
        Imbalance (buy - sell) / (buy + sell) that triggers an order, 0..1 (default 0.6).
    cooldown_ms:
        Minimum time between orders in ms (default 1000).
    max_position:
        Absolute inventory target cap in base units (default ``"0.05"``); beyond it the
        strategy only reduces.
    order_type:
        ``"market"`` (default) or ``"ioc"`` for an IOC limit at the far side.
    """

    name = "taker"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.quantity = Decimal(str(params.get("quantity", "0.005")))
        self.window_ms = int(str(params.get("window_ms", 2000)))
        self.threshold = Decimal(str(params.get("threshold", "0.6")))
        self.cooldown_ms = int(str(params.get("cooldown_ms", 1000)))
        self.max_position = Decimal(str(params.get("max_position", "0.05")))
        self.order_type = str(params.get("order_type", "market"))
        self._flow: deque[tuple[int, Decimal]] = deque()
        self._buy = Decimal(0)
        self._sell = Decimal(0)
        self._last_order_ms = -(10**15)

    def on_trade(self, ctx: StrategyContext, trade: Trade) -> None:
        """Update the flow window and trade on a strong imbalance."""
        signed = trade.size if trade.aggressor_side is Side.BUY else -trade.size
        self._flow.append((trade.ts_event_ms, signed))
        if signed > 0:
            self._buy += signed
        else:
            self._sell -= signed
        horizon = trade.ts_event_ms - self.window_ms
        while self._flow and self._flow[0][0] < horizon:
            _, old = self._flow.popleft()
            if old > 0:
                self._buy -= old
            else:
                self._sell += old
        total = self._buy + self._sell
        if total <= 0 or trade.ts_event_ms - self._last_order_ms < self.cooldown_ms:
            return
        imbalance = (self._buy - self._sell) / total
        if imbalance >= self.threshold:
            self._trade(ctx, trade.symbol, Side.BUY)
        elif imbalance <= -self.threshold:
            self._trade(ctx, trade.symbol, Side.SELL)

    def _trade(self, ctx: StrategyContext, symbol: str, side: Side) -> None:
        quote: Quote | None = ctx.quote(symbol)
        if quote is None:
            return
        inventory = ctx.position(symbol).quantity
        reduce_only = inventory * side.sign < 0 and abs(inventory) >= self.max_position
        if inventory * side.sign >= self.max_position:
            return
        self._last_order_ms = ctx.now_ms()
        if self.order_type == "ioc":
            price = quote.ask_price if side is Side.BUY else quote.bid_price
            ctx.submit_order(
                symbol=symbol,
                side=side.value,
                quantity=self.quantity,
                price=price,
                time_in_force="ioc",
                reduce_only=reduce_only,
            )
        else:
            ctx.submit_order(
                symbol=symbol,
                side=side.value,
                quantity=self.quantity,
                order_type="market",
                time_in_force="ioc",
                reduce_only=reduce_only,
            )
