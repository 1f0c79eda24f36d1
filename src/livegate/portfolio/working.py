"""Working-order aggregates of one symbol: remaining quantity, limit notional and price range per side.

:class:`~livegate.portfolio.book.Portfolio` rebuilds a symbol's :class:`WorkingTotals` from
its working orders on each change of that symbol; the risk gates read them in O(1).
"""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.orders import Order

__all__ = ["NO_WORKING", "WorkingSide", "WorkingTotals"]

_ZERO = Decimal(0)


class WorkingSide:
    """Working orders of one symbol on one side, summed (read-only for gates).

    ``quantity`` is the remaining quantity of every working order (base units),
    ``market_quantity`` the part of it in ``markets`` market orders (no limit price),
    ``limit_notional`` the sum of remaining quantity x limit price over limit orders
    (quote currency), and ``low`` / ``high`` the lowest and highest limit price (None
    without limit orders).
    """

    __slots__ = ("high", "limit_notional", "low", "market_quantity", "markets", "quantity")

    def __init__(self) -> None:
        self.quantity = _ZERO
        self.markets = 0
        self.market_quantity = _ZERO
        self.limit_notional = _ZERO
        self.low: Decimal | None = None
        self.high: Decimal | None = None

    def add(self, remaining: Decimal, price: Decimal | None) -> None:
        """Add one working order's remaining quantity at its limit ``price`` (None: market)."""
        self.quantity += remaining
        if price is None:
            self.markets += 1
            self.market_quantity += remaining
            return
        self.limit_notional += remaining * price
        if self.low is None or price < self.low:
            self.low = price
        if self.high is None or price > self.high:
            self.high = price


class WorkingTotals:
    """Both sides of one symbol's working orders, and the highest limit price on either side (0 if none)."""

    __slots__ = ("buy", "high", "sell")

    def __init__(self) -> None:
        self.buy = WorkingSide()
        self.sell = WorkingSide()
        self.high = _ZERO

    def add(self, order: Order) -> None:
        """Add one working order's remaining quantity on its side."""
        price = order.price
        (self.buy if order.side is Side.BUY else self.sell).add(order.remaining_quantity, price)
        if price is not None and price > self.high:
            self.high = price


#: The totals of a symbol without working orders (shared, never mutated).
NO_WORKING = WorkingTotals()
