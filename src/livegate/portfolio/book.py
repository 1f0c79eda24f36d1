"""Orders and positions as livegate knows them; the risk gates read this, the engine writes it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.errors import InvariantViolation
from livegate.domain.orders import Fill, Order
from livegate.domain.positions import Position

_ZERO = Decimal(0)
MarkSource = Callable[[str], Decimal | None]


@dataclass(frozen=True, slots=True)
class PositionView:
    """Read-only position for strategies: signed quantity (base units), prices and PnL (quote currency)."""

    symbol: str
    quantity: Decimal
    average_price: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None
    fees: Decimal


class Portfolio:
    """Every order of the session, the working ones by symbol, and net positions.

    Only the execution engine mutates it; gates and strategies read it.
    """

    __slots__ = ("_orders", "_positions", "_working")

    def __init__(self) -> None:
        self._orders: dict[str, Order] = {}
        self._working: dict[str, dict[str, Order]] = {}
        self._positions: dict[str, Position] = {}

    # orders -----------------------------------------------------------------
    def add_order(self, order: Order) -> None:
        """Track a new order (status ``new``) as working.

        Raises
        ------
        InvariantViolation
            If the client order id was used before (ids are never reused).
        """
        if order.client_order_id in self._orders:
            raise InvariantViolation(f"client order id {order.client_order_id} reused")
        self._orders[order.client_order_id] = order
        self._working.setdefault(order.symbol, {})[order.client_order_id] = order

    def order(self, client_order_id: str) -> Order | None:
        """Return the order with this client order id, or None."""
        return self._orders.get(client_order_id)

    def refresh(self, order: Order) -> None:
        """Drop ``order`` from the working set once it reached a terminal status."""
        if order.status.is_terminal:
            self._working.get(order.symbol, {}).pop(order.client_order_id, None)

    def working_orders(self, symbol: str | None = None) -> list[Order]:
        """Return orders not yet terminal (including ``new`` ones awaiting dispatch)."""
        if symbol is not None:
            return list(self._working.get(symbol, {}).values())
        return [o for per in self._working.values() for o in per.values()]

    def working_count(self) -> int:
        """Return the number of working orders across symbols."""
        return sum(len(per) for per in self._working.values())

    def all_orders(self) -> Iterable[Order]:
        """Return every order of the session in creation order."""
        return self._orders.values()

    # positions --------------------------------------------------------------
    def position(self, symbol: str) -> Position:
        """Return the (possibly flat) position in ``symbol``."""
        pos = self._positions.get(symbol)
        if pos is None:
            pos = Position(symbol)
            self._positions[symbol] = pos
        return pos

    def position_quantity(self, symbol: str) -> Decimal:
        """Return the signed quantity held in ``symbol`` (base units), 0 when never traded; read-only."""
        pos = self._positions.get(symbol)
        return _ZERO if pos is None else pos.quantity

    def positions(self) -> list[Position]:
        """Return every position ever touched, sorted by symbol."""
        return [self._positions[s] for s in sorted(self._positions)]

    def apply_fill(self, fill: Fill) -> Position:
        """Apply ``fill`` to its order and position.

        Raises
        ------
        InvariantViolation
            If the fill belongs to no known order or overfills it.
        """
        order = self._orders.get(fill.client_order_id)
        if order is None:
            raise InvariantViolation(f"fill {fill.fill_id} for unknown order {fill.client_order_id}")
        order.apply_fill(fill)
        self.refresh(order)
        pos = self.position(fill.symbol)
        pos.apply_fill(fill)
        return pos

    def view(self, symbol: str, mark: Decimal | None) -> PositionView:
        """Return a read-only view of the position in ``symbol``."""
        pos = self.position(symbol)
        return PositionView(
            symbol=symbol,
            quantity=pos.quantity,
            average_price=pos.average_price,
            realized_pnl=pos.realized_pnl,
            unrealized_pnl=None if mark is None else pos.unrealized_pnl(mark),
            fees=pos.fees,
        )

    # aggregates -------------------------------------------------------------
    def realized_pnl(self) -> Decimal:
        """Return realized PnL across symbols in quote currency (gross of fees)."""
        return sum((p.realized_pnl for p in self._positions.values()), _ZERO)

    def fees(self) -> Decimal:
        """Return fees paid across symbols in quote currency."""
        return sum((p.fees for p in self._positions.values()), _ZERO)

    def turnover(self) -> Decimal:
        """Return traded notional across symbols in quote currency."""
        return sum((p.turnover for p in self._positions.values()), _ZERO)

    def unrealized_pnl(self, marks: MarkSource) -> Decimal | None:
        """Return unrealized PnL at ``marks``; None when an open position has no mark (unknown)."""
        total = _ZERO
        for pos in self._positions.values():
            if pos.quantity == 0:
                continue
            mark = marks(pos.symbol)
            if mark is None:
                return None
            total += pos.unrealized_pnl(mark)
        return total

    def equity_pnl(self, marks: MarkSource) -> Decimal | None:
        """Return realized + unrealized - fees in quote currency; None when unknown."""
        unrealized = self.unrealized_pnl(marks)
        if unrealized is None:
            return None
        return self.realized_pnl() + unrealized - self.fees()

    def working_notional(self, symbol: str | None, reference: MarkSource) -> Decimal | None:
        """Return the notional of working orders' remaining quantity (limit price or reference)."""
        total = _ZERO
        for order in self.working_orders(symbol):
            price = order.price if order.price is not None else reference(order.symbol)
            if price is None:
                return None
            total += order.remaining_quantity * price
        return total

    def signed_working_quantity(self, symbol: str, side: Side) -> Decimal:
        """Return the remaining quantity of working orders on ``side`` of ``symbol`` (base units)."""
        return sum(
            (o.remaining_quantity for o in self._working.get(symbol, {}).values() if o.side is side),
            _ZERO,
        )
