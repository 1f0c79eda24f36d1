"""What a venue reports as its truth: order, position and balance snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.enums import OrderStatus, OrderType, Side


@dataclass(frozen=True, slots=True)
class VenueOrderSnapshot:
    """An order as the venue knows it (quantities in base units, price in quote currency)."""

    client_order_id: str
    venue_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    filled_quantity: Decimal
    status: OrderStatus
    ts_ms: int
    average_fill_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """A venue position: signed quantity in base units, entry price in quote currency."""

    symbol: str
    quantity: Decimal
    average_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BalanceSnapshot:
    """A venue balance in ``currency`` units: total and free (available)."""

    currency: str
    total: Decimal
    free: Decimal
