"""Tradable instruments and their exchange filters."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument on one venue.

    Parameters
    ----------
    symbol:
        Venue symbol, e.g. ``"BTCUSDT"``.
    venue:
        Venue name, e.g. ``"binanceusdm"``.
    tick_size:
        Price increment in quote currency (Binance ``PRICE_FILTER.tickSize``).
    lot_size:
        Quantity increment in base units (Binance ``LOT_SIZE.stepSize``).
    min_notional:
        Minimum price x quantity in quote currency (Binance ``MIN_NOTIONAL``/``NOTIONAL``).
    quote_currency:
        Currency of prices and notional, e.g. ``"USDT"``; treated as USD for limits.
    base_currency:
        Currency of quantities, e.g. ``"BTC"``.
    min_quantity:
        Smallest order quantity in base units (Binance ``LOT_SIZE.minQty``).
    """

    symbol: str
    venue: str
    tick_size: Decimal
    lot_size: Decimal
    min_notional: Decimal
    quote_currency: str = "USDT"
    base_currency: str = ""
    min_quantity: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size"):
            value = getattr(self, name)
            if not value.is_finite() or value <= 0:
                raise ValueError(f"instrument {self.symbol}: {name} must be a positive number, got {value}")
        if not self.min_notional.is_finite() or self.min_notional < 0:
            raise ValueError(f"instrument {self.symbol}: min_notional must be >= 0, got {self.min_notional}")

    def price_on_tick(self, price: Decimal) -> bool:
        """Return True when ``price`` is a whole multiple of the tick size."""
        return (price % self.tick_size) == 0

    def quantity_on_lot(self, quantity: Decimal) -> bool:
        """Return True when ``quantity`` is a whole multiple of the lot size."""
        return (quantity % self.lot_size) == 0

    def round_price(self, price: Decimal, *, up: bool) -> Decimal:
        """Round ``price`` to the tick grid, up (ceiling) or down (floor)."""
        steps = (price / self.tick_size).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
        return steps * self.tick_size

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """Round ``quantity`` down to the lot grid (never above what was asked)."""
        steps = (quantity / self.lot_size).to_integral_value(rounding=ROUND_FLOOR)
        return steps * self.lot_size
