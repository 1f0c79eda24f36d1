"""Fractional share quantities only where both the venue and the symbol allow them.

Alpaca marks each asset ``fractionable`` and takes fractional quantities (up to 9
decimals) on market and limit DAY orders (Alpaca "Fractional Trading"); IBKR takes none
through the API. livegate sends them only when ``[equities] allow_fractional`` is on and
the venue reported the symbol fractionable.
"""

from __future__ import annotations

from collections.abc import Iterable

from livegate.domain.enums import DenialCode
from livegate.domain.orders import OrderIntent
from livegate.risk.equity_log import DenialLog
from livegate.risk.gate import Deny, RiskContext

__all__ = ["FractionalGate"]


class FractionalGate:
    """Deny ``FRACTIONAL_NOT_ALLOWED`` for a quantity that is not a whole number of shares, unless allowed.

    Parameters
    ----------
    allow_fractional:
        ``[equities] allow_fractional``.
    fractionable:
        Symbols the venue takes fractional quantities for (empty: none).
    """

    name = "fractional"
    __slots__ = ("_allow", "_fractionable", "_log")

    def __init__(self, allow_fractional: bool, fractionable: Iterable[str]) -> None:
        self._allow = allow_fractional
        self._fractionable = frozenset(fractionable)
        self._log = DenialLog()

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Allow whole shares; a fractional quantity only when allowed and the symbol is fractionable."""
        quantity = intent.quantity
        if quantity == quantity.to_integral_value():
            return None
        if not self._allow:
            why = "[equities] allow_fractional is off"
        elif intent.symbol not in self._fractionable:
            why = f"the venue does not take fractional {intent.symbol}"
        else:
            return None
        detail = f"quantity {quantity} is not a whole number of shares: {why}"
        return self._log(Deny(DenialCode.FRACTIONAL_NOT_ALLOWED, detail), intent.symbol, ctx.clock.now_ms())
