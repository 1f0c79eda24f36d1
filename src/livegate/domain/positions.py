"""Net positions with average price, realized and unrealized PnL, and fees."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from livegate.domain.orders import Fill

_ZERO = Decimal(0)
#: A partial close removes a share of the cost basis rounded to this quantum (quote
#: currency), so the subtraction that follows stays exact.
BASIS_QUANTUM = Decimal("1e-12")


class Position:
    """Net position in one instrument, netting mode, average-cost accounting.

    ``quantity`` is signed base units (+ long, - short). ``cost_basis`` is the signed entry
    notional of the open quantity in quote currency (``quantity x average entry price``),
    the convention of netting venues such as Binance USD-M. ``realized_pnl`` and ``fees``
    are in quote currency; fees are kept apart (realized PnL is gross of fees).

    Exactness: opening and full closes are exact Decimal sums. A partial close removes
    ``cost_basis x closed / quantity`` from the basis, rounded half-even to
    :data:`BASIS_QUANTUM` (1e-12 quote currency); the rounding moves value between realized
    and unrealized PnL only, so realized + unrealized always equals the exact cash-flow
    PnL, and a flat position's realized PnL is exact.
    """

    __slots__ = ("cost_basis", "fees", "quantity", "realized_pnl", "symbol", "turnover")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.quantity = _ZERO
        self.cost_basis = _ZERO
        self.realized_pnl = _ZERO
        self.fees = _ZERO
        self.turnover = _ZERO

    @classmethod
    def restore(
        cls,
        symbol: str,
        quantity: Decimal,
        cost_basis: Decimal,
        realized_pnl: Decimal,
        fees: Decimal,
        turnover: Decimal,
    ) -> Position:
        """Rebuild a position from stored values (e.g. the paper venue's own store)."""
        pos = cls(symbol)
        pos.quantity, pos.cost_basis, pos.realized_pnl = quantity, cost_basis, realized_pnl
        pos.fees, pos.turnover = fees, turnover
        return pos

    @property
    def average_price(self) -> Decimal:
        """Return the average entry price in quote currency (0 when flat)."""
        if self.quantity == 0:
            return _ZERO
        return self.cost_basis / self.quantity

    def apply_fill(self, fill: Fill) -> None:
        """Update quantity, cost basis, realized PnL, fees and turnover from ``fill``."""
        signed = fill.quantity * fill.side.sign
        self.fees += fill.fee
        self.turnover += fill.notional
        qty = self.quantity
        if qty == 0 or (qty > 0) == (signed > 0):
            self.cost_basis += fill.price * signed
            self.quantity = qty + signed
            return
        held = abs(qty)
        closing = min(abs(signed), held)
        if closing == held:
            removed = self.cost_basis
        else:
            removed = (self.cost_basis * closing / held).quantize(BASIS_QUANTUM, rounding=ROUND_HALF_EVEN)
        direction = 1 if qty > 0 else -1
        self.realized_pnl += fill.price * closing * direction - removed
        self.cost_basis -= removed
        opening = abs(signed) - closing
        if opening > 0:  # a flip: the rest opens the other side at the fill price
            self.quantity = -direction * opening
            self.cost_basis = fill.price * self.quantity
        else:
            self.quantity = qty - direction * closing
            if self.quantity == 0:
                self.cost_basis = _ZERO

    def unrealized_pnl(self, mark_price: Decimal) -> Decimal:
        """Return quantity x mark - cost basis in quote currency."""
        if self.quantity == 0:
            return _ZERO
        return self.quantity * mark_price - self.cost_basis

    def notional(self, mark_price: Decimal) -> Decimal:
        """Return |quantity| x mark in quote currency."""
        return abs(self.quantity) * mark_price

    def to_record(self, mark_price: Decimal | None) -> dict[str, object]:
        """Return a JSON-ready snapshot; unrealized is None when no mark is known."""
        return {
            "symbol": self.symbol,
            "quantity": str(self.quantity),
            "average_price": str(self.average_price),
            "cost_basis": str(self.cost_basis),
            "realized_pnl": str(self.realized_pnl),
            "unrealized_pnl": None if mark_price is None else str(self.unrealized_pnl(mark_price)),
            "fees": str(self.fees),
            "mark_price": None if mark_price is None else str(mark_price),
        }
