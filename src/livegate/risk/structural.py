"""Structural checks every intent passes first: known symbol, sane numbers, exchange filters."""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.enums import DenialCode, OrderType, Side, TimeInForce
from livegate.domain.orders import OrderIntent
from livegate.risk.gate import Deny, RiskContext

_ZERO = Decimal(0)  # Decimal vs Decimal: no int conversion per comparison
_LIMIT = OrderType.LIMIT
_BUY = Side.BUY


class StructuralGate:
    """Deny unknown symbols, non-finite or non-positive quantity/price, off-tick or off-lot values.

    Rules follow the Binance filters (``PRICE_FILTER.tickSize``, ``LOT_SIZE.stepSize``,
    ``LOT_SIZE.minQty``, ``MIN_NOTIONAL``); a market order's notional is judged at the far
    side of the last quote, and with no quote it is denied (unknown price fails closed).
    """

    name = "structural"

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Return a Deny for the first structural problem, else None."""
        instrument = ctx.instruments.get(intent.symbol)
        if instrument is None:
            return Deny(DenialCode.UNKNOWN_SYMBOL, f"symbol {intent.symbol!r} is not configured")
        qty = intent.quantity
        if not qty.is_finite() or qty <= _ZERO:
            return Deny(DenialCode.INVALID_QUANTITY, f"quantity must be a positive finite number, got {qty}")
        if intent.order_type is _LIMIT:
            price = intent.price
            if price is None:
                return Deny(DenialCode.INVALID_PRICE, "limit order needs a price")
            if not price.is_finite() or price <= _ZERO:
                return Deny(DenialCode.INVALID_PRICE, f"price must be a positive finite number, got {price}")
            if price % instrument.tick_size:  # Instrument.price_on_tick, inline: the chain runs on every intent
                return Deny(DenialCode.TICK_SIZE, f"price {price} is not a multiple of tick {instrument.tick_size}")
        else:
            if intent.price is not None:
                return Deny(DenialCode.INVALID_ORDER, "market order must not carry a price")
            if intent.post_only:
                return Deny(DenialCode.INVALID_ORDER, "post-only needs a limit order")
        if intent.post_only and intent.time_in_force is TimeInForce.IOC:
            return Deny(DenialCode.INVALID_ORDER, "post-only and IOC contradict each other")
        if qty % instrument.lot_size:  # Instrument.quantity_on_lot, inline
            return Deny(DenialCode.LOT_SIZE, f"quantity {qty} is not a multiple of lot {instrument.lot_size}")
        if qty < instrument.min_quantity:
            return Deny(DenialCode.LOT_SIZE, f"quantity {qty} < minimum {instrument.min_quantity}")
        reference = intent.price
        if reference is None:
            quote = ctx.quotes.last(intent.symbol)
            if quote is None:
                return Deny(DenialCode.UNKNOWN_PRICE, f"market order on {intent.symbol} with no quote")
            reference = quote.ask_price if intent.side is _BUY else quote.bid_price
        notional = reference * qty
        if notional < instrument.min_notional:
            return Deny(
                DenialCode.MIN_NOTIONAL,
                f"notional {notional:,.2f} < minimum {instrument.min_notional:,.2f} {instrument.quote_currency}",
            )
        return None
