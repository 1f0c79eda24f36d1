"""Rows of the paper venue store: orders, fills and positions as the SQLite rows of :mod:`~livegate.venues.paper_store`.

Decimals are stored as their text (``str``), so every value reads back exactly, exponent
included; enums as their values.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.orders import Fill
from livegate.domain.positions import Position
from livegate.venues.paper_matching import PaperOrder

__all__ = ["fill_from_row", "fill_row", "order_from_row", "order_row", "position_row"]


def order_row(order: PaperOrder) -> tuple[object, ...]:
    """Return the ``orders`` row of ``order`` (columns as ``paper_store._ORDER_COLUMNS``)."""
    return (
        order.seq,
        order.client_order_id,
        order.venue_order_id,
        order.symbol,
        order.side.value,
        order.order_type.value,
        None if order.price is None else str(order.price),
        str(order.quantity),
        order.time_in_force.value,
        int(order.post_only),
        order.ts_ms,
        str(order.filled_quantity),
        str(order.notional_filled),
        order.status.value,
    )


def order_from_row(row: Iterable[object]) -> PaperOrder:
    """Return the order of an ``orders`` row.

    Raises
    ------
    ValueError, ArithmeticError
        If a column does not parse (the store translates them to ``DataError``).
    """
    (seq, cid, void, symbol, side, otype, price, qty, tif, post_only, ts_ms, filled, notional, status) = tuple(row)
    order = PaperOrder(
        seq=int(str(seq)),
        client_order_id=str(cid),
        venue_order_id=str(void),
        symbol=str(symbol),
        side=Side(str(side)),
        order_type=OrderType(str(otype)),
        price=None if price is None else Decimal(str(price)),
        quantity=Decimal(str(qty)),
        time_in_force=TimeInForce(str(tif)),
        post_only=bool(post_only),
        ts_ms=int(str(ts_ms)),
    )
    order.filled_quantity = Decimal(str(filled))
    order.notional_filled = Decimal(str(notional))
    order.status = OrderStatus(str(status))
    return order


def fill_row(fill: Fill) -> tuple[object, ...]:
    """Return the ``fills`` row of ``fill`` without its leading ``seq``."""
    return (
        fill.fill_id,
        fill.client_order_id,
        fill.symbol,
        fill.side.value,
        str(fill.price),
        str(fill.quantity),
        str(fill.fee),
        fill.liquidity.value,
        fill.ts_ms,
        fill.venue,
    )


def fill_from_row(row: Iterable[object]) -> Fill:
    """Return the fill of a ``fills`` row read without its ``seq``."""
    fill_id, cid, symbol, side, price, qty, fee, liquidity, ts_ms, venue = tuple(row)
    return Fill(
        client_order_id=str(cid),
        fill_id=str(fill_id),
        symbol=str(symbol),
        side=Side(str(side)),
        price=Decimal(str(price)),
        quantity=Decimal(str(qty)),
        fee=Decimal(str(fee)),
        liquidity=Liquidity(str(liquidity)),
        ts_ms=int(str(ts_ms)),
        venue=str(venue),
    )


def position_row(position: Position) -> tuple[object, ...]:
    """Return the ``positions`` row of ``position``."""
    return (
        position.symbol,
        str(position.quantity),
        str(position.cost_basis),
        str(position.realized_pnl),
        str(position.fees),
        str(position.turnover),
    )
