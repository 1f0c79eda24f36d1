"""Refuse opening or growing a short equity position unless ``[risk] allow_short = true``.

No locate logic: a broker refuses a short of a hard-to-borrow symbol itself (Alpaca
answers 403 / 42210000 "asset ... is not shortable"), and livegate only decides whether
the strategy may short at all. Working sell orders count as if they filled first, so two
sells that together cross zero are refused like one.
"""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.enums import DenialCode, Side
from livegate.domain.orders import OrderIntent
from livegate.risk.equity_log import DenialLog
from livegate.risk.gate import Deny, RiskContext

__all__ = ["ShortSaleGate"]

_ZERO = Decimal(0)


class ShortSaleGate:
    """Deny ``SHORT_NOT_ALLOWED`` for a sell that would leave the position below zero.

    The position after the order is ``position - working sells - quantity`` (base units,
    shares); working buys are not counted, since they may never fill.
    """

    name = "short_sale"
    __slots__ = ("_log",)

    def __init__(self) -> None:
        self._log = DenialLog()

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Allow buys, and sells that keep the position at or above zero."""
        if intent.side is Side.BUY:
            return None
        position = ctx.portfolio.position_quantity(intent.symbol)
        working = ctx.portfolio.signed_working_quantity(intent.symbol, Side.SELL)
        after = position - working - intent.quantity
        if after >= _ZERO:
            return None
        detail = (
            f"sell {intent.quantity} with position {position} and {working} working to sell "
            f"would leave {after}: [risk] allow_short is off"
        )
        return self._log(Deny(DenialCode.SHORT_NOT_ALLOWED, detail), intent.symbol, ctx.clock.now_ms())
