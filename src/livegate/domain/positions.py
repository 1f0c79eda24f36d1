"""Net positions with average price, realized and unrealized PnL, and fees."""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.orders import Fill

_ZERO = Decimal(0)


class Position:
    """Net position in one instrument, netting mode (one signed quantity).

    ``quantity`` is signed base units (+ long, - short); ``average_price`` is the
    volume-weighted entry price in quote currency; ``realized_pnl`` and ``fees`` are in
    quote currency. Fees are kept apart: realized PnL is gross of fees.
    """

    __slots__ = ("average_price", "fees", "quantity", "realized_pnl", "symbol", "turnover")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.quantity = _ZERO
        self.average_price = _ZERO
        self.realized_pnl = _ZERO
        self.fees = _ZERO
        self.turnover = _ZERO

    def apply_fill(self, fill: Fill) -> None:
        """Update quantity, average price, realized PnL, fees and turnover from ``fill``."""
        signed = fill.quantity * fill.side.sign
        self.fees += fill.fee
        self.turnover += fill.notional
        qty = self.quantity
        if qty == 0 or (qty > 0) == (signed > 0):
            new_qty = qty + signed
            self.average_price = (self.average_price * abs(qty) + fill.price * fill.quantity) / abs(new_qty)
            self.quantity = new_qty
            return
        closing = min(abs(signed), abs(qty))
        direction = 1 if qty > 0 else -1
        self.realized_pnl += (fill.price - self.average_price) * closing * direction
        new_qty = qty + signed
        if new_qty == 0:
            self.average_price = _ZERO
        elif (new_qty > 0) != (qty > 0):
            self.average_price = fill.price
        self.quantity = new_qty

    def unrealized_pnl(self, mark_price: Decimal) -> Decimal:
        """Return (mark - average) x quantity in quote currency."""
        if self.quantity == 0:
            return _ZERO
        return (mark_price - self.average_price) * self.quantity

    def notional(self, mark_price: Decimal) -> Decimal:
        """Return |quantity| x mark in quote currency."""
        return abs(self.quantity) * mark_price

    def to_record(self, mark_price: Decimal | None) -> dict[str, object]:
        """Return a JSON-ready snapshot; unrealized is None when no mark is known."""
        return {
            "symbol": self.symbol,
            "quantity": str(self.quantity),
            "average_price": str(self.average_price),
            "realized_pnl": str(self.realized_pnl),
            "unrealized_pnl": None if mark_price is None else str(self.unrealized_pnl(mark_price)),
            "fees": str(self.fees),
            "mark_price": None if mark_price is None else str(mark_price),
        }
