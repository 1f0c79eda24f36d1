"""Convert ccxt's unified structures (plain dicts, floats) into livegate domain values.

Every ``Any`` from ccxt stops here: numbers become :class:`~decimal.Decimal` through
``str()`` (ccxt floats print exactly as the venue's decimal strings in the usual range),
statuses become :class:`~livegate.domain.enums.OrderStatus`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot

__all__ = [
    "DECIMAL_PLACES",
    "TICK_SIZE",
    "dec",
    "map_status",
    "market_contract_size",
    "to_balances",
    "to_fill",
    "to_instrument",
    "to_order_report",
    "to_order_snapshot",
    "to_position",
    "to_quote",
    "to_trade",
]

#: ccxt precision modes (``ccxt.base.decimal_to_precision``): 2 counts decimal places,
#: 4 gives the tick size itself. Mode 3 (significant digits) has no fixed tick.
DECIMAL_PLACES = 2
TICK_SIZE = 4

#: ccxt unified order status -> ours. ccxt has ``open``, ``closed`` (fully filled),
#: ``canceled``, ``expired``, ``rejected``; ``open`` with ``filled > 0`` is partial.
_STATUS: dict[str, OrderStatus] = {
    "open": OrderStatus.ACCEPTED,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def dec(value: Any) -> Decimal | None:
    """Return ``value`` as a finite Decimal, or None for None, empty or non-numeric input."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return out if out.is_finite() else None


def map_status(order: Mapping[str, Any], default: OrderStatus = OrderStatus.ACCEPTED) -> OrderStatus:
    """Map a unified order's ``status`` (and ``filled``) to an :class:`OrderStatus`.

    A missing status (e.g. Kraken's AddOrder answer) is ``default``: the venue took the
    request without saying more.
    """
    raw = order.get("status")
    status = _STATUS.get(str(raw).lower(), default) if raw is not None else default
    filled = dec(order.get("filled")) or Decimal(0)
    if status is OrderStatus.ACCEPTED and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def to_order_report(
    order: Mapping[str, Any], client_order_id: str, ts_ms: int, default: OrderStatus = OrderStatus.ACCEPTED
) -> OrderReport:
    """Build an :class:`OrderReport` for ``client_order_id`` from a unified order."""
    return OrderReport(
        client_order_id=client_order_id,
        status=map_status(order, default),
        ts_ms=_int(order.get("lastUpdateTimestamp")) or _int(order.get("timestamp")) or ts_ms,
        venue_order_id=str(order.get("id") or ""),
        filled_quantity=dec(order.get("filled")),
    )


def to_order_snapshot(order: Mapping[str, Any], client_order_id: str, contract_size: Decimal) -> VenueOrderSnapshot:
    """Build a :class:`VenueOrderSnapshot` (quantities in base units) from a unified order."""
    amount = (dec(order.get("amount")) or Decimal(0)) * contract_size
    filled = (dec(order.get("filled")) or Decimal(0)) * contract_size
    return VenueOrderSnapshot(
        client_order_id=client_order_id,
        venue_order_id=str(order.get("id") or ""),
        symbol=str(order.get("symbol") or ""),
        side=Side(str(order.get("side")).lower()),
        order_type=OrderType.MARKET if str(order.get("type")).lower() == "market" else OrderType.LIMIT,
        quantity=amount,
        price=dec(order.get("price")),
        filled_quantity=filled,
        status=map_status(order),
        ts_ms=_int(order.get("lastUpdateTimestamp")) or _int(order.get("timestamp")) or 0,
        average_fill_price=dec(order.get("average")),
    )


def to_position(position: Mapping[str, Any]) -> PositionSnapshot | None:
    """Build a signed :class:`PositionSnapshot` in base units; None when flat."""
    contracts = dec(position.get("contracts"))
    if contracts is None or contracts == 0:
        return None
    size = contracts * (dec(position.get("contractSize")) or Decimal(1))
    side = str(position.get("side") or "").lower()
    if side == "short" and size > 0:
        size = -size
    return PositionSnapshot(
        symbol=str(position.get("symbol") or ""), quantity=size, average_price=dec(position.get("entryPrice"))
    )


def to_balances(balance: Mapping[str, Any]) -> list[BalanceSnapshot]:
    """Return one :class:`BalanceSnapshot` per currency with a known total, sorted by currency."""
    totals = balance.get("total") or {}
    frees = balance.get("free") or {}
    out = []
    for currency in sorted(totals):
        total = dec(totals.get(currency))
        if total is None:
            continue
        out.append(BalanceSnapshot(currency=str(currency), total=total, free=dec(frees.get(currency)) or Decimal(0)))
    return out


def to_fill(
    trade: Mapping[str, Any],
    client_order_id: str,
    quote_currency: str,
    venue: str,
    now_ms: int,
    contract_size: Decimal = Decimal(1),
    *,
    base_currency: str = "",
    asset_price: Callable[[str], Decimal | None] | None = None,
) -> Fill:
    """Build a :class:`Fill` (quantity in base units: contracts x ``contract_size``) from a unified trade.

    ``fee`` is the trade's fee in ``quote_currency``: a fee charged in the quote currency
    counts as is; one charged in ``base_currency`` (Binance spot charges a buy's
    commission in the asset received: ``commissionAsset`` of ``GET /api/v3/myTrades``) is
    valued at the fill price; one in another asset (BNB) at ``asset_price(asset)`` (quote
    per unit), or 0 when that price is unknown. The charged asset and amount are kept in
    ``fee_asset`` / ``fee_in_asset`` (one non-quote asset per trade; several are summed
    into the quote value only).
    """
    fee = Decimal(0)
    fee_asset, fee_in_asset = "", Decimal(0)
    price = dec(trade.get("price")) or Decimal(0)
    for item in trade.get("fees") or ([trade["fee"]] if trade.get("fee") else []):
        if not item:
            continue
        currency = str(item.get("currency") or "")
        cost = dec(item.get("cost")) or Decimal(0)
        if not currency or currency == quote_currency or cost == 0:
            fee += cost
            continue
        unit_price = price if currency == base_currency else (asset_price(currency) if asset_price else None)
        fee += cost * unit_price if unit_price is not None else Decimal(0)
        if not fee_asset or fee_asset == currency:
            fee_asset, fee_in_asset = currency, fee_in_asset + cost
    maker = str(trade.get("takerOrMaker") or "").lower() == "maker"
    return Fill(
        client_order_id=client_order_id,
        fill_id=str(trade.get("id") or ""),
        symbol=str(trade.get("symbol") or ""),
        side=Side(str(trade.get("side")).lower()),
        price=price,
        quantity=(dec(trade.get("amount")) or Decimal(0)) * contract_size,
        fee=fee,
        liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        ts_ms=_int(trade.get("timestamp")) or now_ms,
        venue=venue,
        fee_asset=fee_asset,
        fee_in_asset=fee_in_asset,
    )


def to_quote(ticker: Mapping[str, Any], venue: str, now_ms: int, recv_ns: int) -> Quote | None:
    """Build a :class:`Quote` from a unified ticker or bid/ask; None without both sides."""
    bid, ask = dec(ticker.get("bid")), dec(ticker.get("ask"))
    if bid is None or ask is None:
        return None
    return Quote(
        symbol=str(ticker.get("symbol") or ""),
        bid_price=bid,
        bid_size=dec(ticker.get("bidVolume")) or Decimal(0),
        ask_price=ask,
        ask_size=dec(ticker.get("askVolume")) or Decimal(0),
        ts_event_ms=_int(ticker.get("timestamp")) or now_ms,
        ts_recv_ns=recv_ns,
        venue=venue,
    )


def to_trade(trade: Mapping[str, Any], venue: str, now_ms: int, recv_ns: int) -> Trade | None:
    """Build a public :class:`Trade` from a unified trade; None without price, size or side."""
    price, size = dec(trade.get("price")), dec(trade.get("amount"))
    side = str(trade.get("side") or "").lower()
    if price is None or size is None or side not in ("buy", "sell"):
        return None
    return Trade(
        symbol=str(trade.get("symbol") or ""),
        price=price,
        size=size,
        aggressor_side=Side(side),
        trade_id=str(trade.get("id") or ""),
        ts_event_ms=_int(trade.get("timestamp")) or now_ms,
        ts_recv_ns=recv_ns,
        venue=venue,
    )


def to_instrument(market: Mapping[str, Any], venue: str, precision_mode: int) -> Instrument | None:
    """Build an :class:`Instrument` from a unified market; None when it cannot be traded in base units.

    Handles both precision modes: ``DECIMAL_PLACES`` (``precision.price == 2`` means a
    0.01 tick) and ``TICK_SIZE`` (``precision.price == 0.01``). Inverse contracts and
    significant-digit precision are skipped (quantities are not base units / no fixed tick).
    Contract markets with ``contractSize`` other than 1 have lot and min quantity scaled
    to base units.
    """
    if market.get("inverse") or market.get("option"):
        return None
    precision = market.get("precision") or {}
    tick = _step(precision.get("price"), precision_mode)
    lot = _step(precision.get("amount"), precision_mode)
    if tick is None or lot is None:
        return None
    contract_size = dec(market.get("contractSize")) or Decimal(1)
    limits = market.get("limits") or {}
    min_qty = dec((limits.get("amount") or {}).get("min")) or Decimal(0)
    min_cost = dec((limits.get("cost") or {}).get("min")) or Decimal(0)
    quote = str(market.get("settle") or market.get("quote") or "")
    return Instrument(
        symbol=str(market["symbol"]),
        venue=venue,
        tick_size=tick,
        lot_size=lot * contract_size,
        min_notional=min_cost,
        quote_currency=quote,
        base_currency=str(market.get("base") or ""),
        min_quantity=min_qty * contract_size,
    )


def _step(value: Any, precision_mode: int) -> Decimal | None:
    step = dec(value)
    if step is None or step < 0:
        return None
    if precision_mode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(step))
    if precision_mode == TICK_SIZE and step > 0:
        return step.normalize()
    return None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def market_contract_size(market: Mapping[str, Any] | None) -> Decimal:
    """Return the base units in one contract of ``market`` (ccxt ``contractSize``); 1 for spot or unknown."""
    if market is None or not market.get("contract"):
        return Decimal(1)
    size = market.get("contractSize")
    return Decimal(str(size)) if size else Decimal(1)
