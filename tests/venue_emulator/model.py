"""Values of the emulated Binance venue: markets and their filters, orders, trades, errors.

Numbers are exact (Decimal); times are venue milliseconds. The rules and texts are
Binance's own (Spot API docs "Filters", "Error codes"; USD-M docs "Error Code").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

__all__ = ["Kind", "Market", "Order", "Trade", "VenueRefusal", "fmt"]


class Kind(StrEnum):
    """Which Binance product the emulator speaks: spot (``/api/v3``) or USD-M futures (``/fapi``)."""

    SPOT = "spot"
    USDM = "usdm"


class VenueRefusal(Exception):
    """A Binance error answer: HTTP status, error code and message (``{"code": ..., "msg": ...}``)."""

    def __init__(self, status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class Market:
    """One symbol with its exchange filters (PRICE_FILTER, LOT_SIZE, NOTIONAL / MIN_NOTIONAL)."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_price: Decimal
    max_price: Decimal
    min_notional: Decimal


@dataclass(slots=True)
class Order:
    """One order as the venue holds it.

    ``status`` is Binance's (NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED, REJECTED);
    ``locked`` is what the order holds of the account (spot: quote for buys, base for
    sells; USD-M: initial margin in USDT). ``visible_at_ms``: lookups do not see the
    order before this venue time (the read-lag fault).
    """

    order_id: int
    symbol: str
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    quantity: Decimal
    price: Decimal
    created_ms: int
    reduce_only: bool = False
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cum_quote: Decimal = Decimal(0)
    updated_ms: int = 0
    locked: Decimal = Decimal(0)
    visible_at_ms: int = 0
    external: bool = False

    @property
    def is_open(self) -> bool:
        """Return True while the order can still fill (NEW or PARTIALLY_FILLED)."""
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def remaining(self) -> Decimal:
        """Return the unfilled quantity (base units)."""
        return self.quantity - self.executed_qty

    @property
    def avg_price(self) -> Decimal:
        """Return the average fill price, 0 before any fill."""
        return self.cum_quote / self.executed_qty if self.executed_qty else Decimal(0)


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of the account: venue trade id, commission in ``commission_asset``."""

    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    maker: bool
    time_ms: int
    realized_pnl: Decimal = Decimal(0)
    client_order_id: str = ""


@dataclass(slots=True)
class Position:
    """A USD-M one-way position: signed quantity (base units) and entry price."""

    symbol: str
    amount: Decimal = Decimal(0)
    entry_price: Decimal = Decimal(0)
    history: list[Decimal] = field(default_factory=list)


def fmt(value: Decimal, places: int = 8) -> str:
    """Return ``value`` as Binance prints numbers: fixed point with ``places`` decimals."""
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"
