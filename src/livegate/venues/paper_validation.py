"""What the paper venue refuses on submit: its reject codes and the order checks against instrument filters.

The checks of :func:`validate_order` are the filters a venue applies before it accepts an
order (unknown symbol, duplicate client order id, lot, tick, min notional, market order
without a quote, post-only that would cross); :class:`~livegate.venues.paper.PaperVenue`
runs them on every submit.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from enum import StrEnum

from livegate.domain.enums import OrderType, Side
from livegate.domain.errors import Rejected
from livegate.domain.orders import Order
from livegate.venues.paper_matching import SymbolBook

__all__ = ["PaperRejectCode", "validate_order"]


class PaperRejectCode(StrEnum):
    """Codes carried by :class:`~livegate.domain.errors.Rejected` from the paper venue.

    The structural ones match :class:`~livegate.domain.enums.DenialCode` values.
    """

    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    INVALID_ORDER = "INVALID_ORDER"
    INVALID_PRICE = "INVALID_PRICE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    TICK_SIZE = "TICK_SIZE"
    LOT_SIZE = "LOT_SIZE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    NO_MARKET = "NO_MARKET"
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"


def validate_order(order: Order, books: Mapping[str, SymbolBook], orders: Container[str]) -> SymbolBook:
    """Return the order's book, or raise Rejected with the first broken rule.

    ``books`` are the venue's books by symbol, ``orders`` the client order ids it has seen.

    Raises
    ------
    Rejected
        With the :class:`PaperRejectCode` of the first rule the order breaks.
    """
    intent = order.intent
    book = books.get(intent.symbol)
    if book is None:
        raise Rejected(f"unknown symbol {intent.symbol!r}", PaperRejectCode.UNKNOWN_SYMBOL)
    if order.client_order_id in orders:
        raise Rejected(
            f"duplicate client order id {order.client_order_id!r} (cf. Binance -4015)",
            PaperRejectCode.DUPLICATE_CLIENT_ORDER_ID,
        )
    inst = book.instrument
    qty = intent.quantity
    if not qty.is_finite() or qty <= 0:
        raise Rejected(f"quantity must be positive, got {qty}", PaperRejectCode.INVALID_QUANTITY)
    if not inst.quantity_on_lot(qty) or qty < inst.min_quantity:
        raise Rejected(
            f"quantity {qty} is not a multiple of lot {inst.lot_size} >= min {inst.min_quantity}",
            PaperRejectCode.LOT_SIZE,
        )
    quote = book.usable_quote()
    if intent.order_type is OrderType.MARKET:
        if intent.price is not None or intent.post_only:
            raise Rejected("market orders take no price and cannot be post-only", PaperRejectCode.INVALID_ORDER)
        if quote is None:
            raise Rejected(f"no usable quote for {intent.symbol}", PaperRejectCode.NO_MARKET)
        reference = quote.ask_price if intent.side is Side.BUY else quote.bid_price
    else:
        price = intent.price
        if price is None or not price.is_finite() or price <= 0:
            raise Rejected(f"limit price must be positive, got {price}", PaperRejectCode.INVALID_PRICE)
        if not inst.price_on_tick(price):
            raise Rejected(f"price {price} is not a multiple of tick {inst.tick_size}", PaperRejectCode.TICK_SIZE)
        reference = price
    notional = reference * qty
    if notional < inst.min_notional:
        raise Rejected(
            f"notional {notional} {inst.quote_currency} < min {inst.min_notional}", PaperRejectCode.MIN_NOTIONAL
        )
    if intent.post_only and quote is not None and intent.price is not None:
        crosses = intent.price >= quote.ask_price if intent.side is Side.BUY else intent.price <= quote.bid_price
        if crosses:
            raise Rejected(
                f"post-only {intent.side.value} at {intent.price} would cross {quote.bid_price}/{quote.ask_price}",
                PaperRejectCode.POST_ONLY_WOULD_CROSS,
            )
    return book
