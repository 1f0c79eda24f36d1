"""Matching rules of the paper venue (docs/architecture.md §5): order records, per-symbol books, fill prices.

Everything here is plain data plus small pure functions so that a later change can persist
the paper venue's state. :class:`PaperMatcher` decides *what* fills (order, price,
quantity, liquidity); the venue (:mod:`livegate.venues.paper`) turns each decision into a
:class:`~livegate.domain.orders.Fill`, updates its positions and pushes the report.
"""

from __future__ import annotations

import random
from bisect import insort
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade, quote_problem
from livegate.domain.orders import OrderReport
from livegate.domain.snapshots import VenueOrderSnapshot

FillMode = Literal["none", "marketable", "mid", "always"]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_BPS = Decimal(10_000)
_TOUCH_RESOLUTION = 1 << 32


class PaperOrder:
    """The paper venue's own record of one accepted order (plain data, never the engine's Order).

    Quantities are in base units, prices and notional in quote currency, ``ts_ms`` is the
    clock time of the last change in ms. ``seq`` is the venue's arrival sequence (time
    priority).
    """

    __slots__ = (
        "client_order_id",
        "filled_quantity",
        "notional_filled",
        "order_type",
        "post_only",
        "price",
        "quantity",
        "seq",
        "side",
        "status",
        "symbol",
        "time_in_force",
        "ts_ms",
        "venue_order_id",
    )

    def __init__(
        self,
        *,
        seq: int,
        client_order_id: str,
        venue_order_id: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        price: Decimal | None,
        quantity: Decimal,
        time_in_force: TimeInForce,
        post_only: bool,
        ts_ms: int,
    ) -> None:
        self.seq = seq
        self.client_order_id = client_order_id
        self.venue_order_id = venue_order_id
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.price = price
        self.quantity = quantity
        self.time_in_force = time_in_force
        self.post_only = post_only
        self.ts_ms = ts_ms
        self.filled_quantity = _ZERO
        self.notional_filled = _ZERO
        self.status = OrderStatus.ACCEPTED

    @property
    def remaining(self) -> Decimal:
        """Return the unfilled quantity in base units."""
        return self.quantity - self.filled_quantity

    def snapshot(self) -> VenueOrderSnapshot:
        """Return the order as the venue reports it."""
        avg = None if self.filled_quantity == 0 else self.notional_filled / self.filled_quantity
        return VenueOrderSnapshot(
            client_order_id=self.client_order_id,
            venue_order_id=self.venue_order_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            price=self.price,
            filled_quantity=self.filled_quantity,
            status=self.status,
            ts_ms=self.ts_ms,
            average_fill_price=avg,
        )

    def report(self) -> OrderReport:
        """Return the venue's answer to a submit or cancel of this order."""
        return OrderReport(
            client_order_id=self.client_order_id,
            status=self.status,
            ts_ms=self.ts_ms,
            venue_order_id=self.venue_order_id,
            filled_quantity=self.filled_quantity,
        )


def _buy_priority(order: PaperOrder) -> tuple[Decimal, int]:
    # Highest price first, then earliest arrival. Resting buys always have a price.
    return (-(order.price or _ZERO), order.seq)


def _sell_priority(order: PaperOrder) -> tuple[Decimal, int]:
    return (order.price or _ZERO, order.seq)


class SymbolBook:
    """Per-symbol state: last quote, displayed size already used on it, and resting orders.

    ``bid_used``/``ask_used`` (base units) are the parts of the last quote's displayed
    sizes consumed by earlier fills; they reset when a new quote arrives. ``buys`` and
    ``sells`` hold resting limit orders in price-time priority; ``markets`` holds GTC market
    orders still taking liquidity, in arrival order.
    """

    __slots__ = ("ask_used", "bid_used", "buys", "instrument", "markets", "quote", "sells")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.quote: Quote | None = None
        self.bid_used = _ZERO
        self.ask_used = _ZERO
        self.buys: list[PaperOrder] = []
        self.sells: list[PaperOrder] = []
        self.markets: list[PaperOrder] = []

    @property
    def has_orders(self) -> bool:
        """Return True when any order of this symbol is working."""
        return bool(self.buys or self.sells or self.markets)

    def usable_quote(self) -> Quote | None:
        """Return the last quote when it can be traded against (locked books allowed), else None."""
        quote = self.quote
        if quote is None:
            return None
        problem = quote_problem(quote)
        return quote if problem is None or problem == "locked" else None

    def add(self, order: PaperOrder) -> None:
        """Rest ``order`` in its queue."""
        if order.order_type is OrderType.MARKET:
            self.markets.append(order)
        elif order.side is Side.BUY:
            insort(self.buys, order, key=_buy_priority)
        else:
            insort(self.sells, order, key=_sell_priority)

    def remove(self, order: PaperOrder) -> None:
        """Take ``order`` out of its queue; no-op when it is not resting."""
        queue = (
            self.markets
            if order.order_type is OrderType.MARKET
            else self.buys
            if order.side is Side.BUY
            else self.sells
        )
        if order in queue:
            queue.remove(order)


def is_marketable(order: PaperOrder, quote: Quote | None) -> bool:
    """Return True when ``order`` would take liquidity from ``quote`` (market, or limit at/through the far side)."""
    if order.order_type is OrderType.MARKET:
        return True
    if quote is None or order.price is None:
        return False
    if order.side is Side.BUY:
        return order.price >= quote.ask_price
    return order.price <= quote.bid_price


def taker_price(
    instrument: Instrument,
    side: Side,
    reference: Decimal,
    limit: Decimal | None,
    slippage_bps: Decimal,
    *,
    round_to_tick: bool,
) -> Decimal:
    """Return a taker's fill price: ``reference`` moved ``slippage_bps`` against the taker.

    The result is rounded to the tick grid against the taker (buy up, sell down) when
    ``round_to_tick`` is set, and is never beyond ``limit`` (buy: at most, sell: at least).
    """
    price = reference
    if slippage_bps:
        shift = slippage_bps / _BPS
        price = reference * (_ONE + shift if side is Side.BUY else _ONE - shift)
    if round_to_tick:
        price = instrument.round_price(price, up=side is Side.BUY)
    if limit is not None:
        price = min(price, limit) if side is Side.BUY else max(price, limit)
    return price


def fee_for(price: Decimal, quantity: Decimal, fee_bps: Decimal) -> Decimal:
    """Return ``price x quantity x fee_bps / 10,000`` in quote currency (positive = paid)."""
    return price * quantity * fee_bps / _BPS


FillDecision = Callable[[PaperOrder, Decimal, Decimal, Liquidity], None]
"""Callback ``(order, price, quantity, liquidity)`` that executes one fill."""


class PaperMatcher:
    """Decide fills of marketable and resting orders; deterministic given ``seed``.

    Parameters
    ----------
    fill_mode:
        ``marketable`` fills takers at the far side, ``mid`` at the mid price.
    slippage_bps:
        Taker slippage in bps, against the taker.
    touch_fill_probability:
        Chance in [0, 1] that a resting order fills when a trade prints exactly at its price.
    seed:
        Seed of the ``random.Random`` used for touch fills.
    execute:
        Called once per fill; it must add the quantity to ``order.filled_quantity``.
    """

    __slots__ = ("_execute", "_mid", "_slippage_bps", "_touch_threshold", "rng")

    def __init__(
        self,
        *,
        fill_mode: FillMode,
        slippage_bps: Decimal,
        touch_fill_probability: Decimal,
        seed: int,
        execute: FillDecision,
    ) -> None:
        self._mid = fill_mode == "mid"
        self._slippage_bps = slippage_bps
        self._touch_threshold = int(touch_fill_probability * _TOUCH_RESOLUTION)
        self._execute = execute
        self.rng = random.Random(seed)

    def take(self, book: SymbolBook, order: PaperOrder, quote: Quote) -> None:
        """Fill ``order`` as taker against the unused displayed size of ``quote``."""
        if order.side is Side.BUY:
            available, far = quote.ask_size - book.ask_used, quote.ask_price
        else:
            available, far = quote.bid_size - book.bid_used, quote.bid_price
        quantity = book.instrument.round_quantity(min(order.remaining, available))
        if quantity <= 0:
            return
        reference = quote.mid_price if self._mid else far
        limit = order.price if order.order_type is OrderType.LIMIT else None
        price = taker_price(
            book.instrument, order.side, reference, limit, self._slippage_bps, round_to_tick=not self._mid
        )
        if order.side is Side.BUY:
            book.ask_used += quantity
        else:
            book.bid_used += quantity
        self._execute(order, price, quantity, Liquidity.TAKER)

    def match_quote(self, book: SymbolBook) -> None:
        """Fill working orders of ``book`` against its (new) last quote.

        The cheap price comparisons run first; the quote is checked for sanity (NaN, zero,
        crossed) only when something could fill.
        """
        quote = book.quote
        if quote is None:
            return
        buys, sells = book.buys, book.sells
        cross_buys = bool(buys) and (buys[0].price or _ZERO) >= quote.ask_price
        cross_sells = bool(sells) and (sells[0].price or _ZERO) <= quote.bid_price
        if not (book.markets or cross_buys or cross_sells) or book.usable_quote() is None:
            return
        if book.markets:
            for order in book.markets:
                self.take(book, order, quote)
            book.markets[:] = [o for o in book.markets if o.remaining > 0]
        if cross_buys:
            book.ask_used = self._cross(book, buys, quote.ask_size, book.ask_used, quote.ask_price, Side.BUY)
        if cross_sells:
            book.bid_used = self._cross(book, sells, quote.bid_size, book.bid_used, quote.bid_price, Side.SELL)

    def _cross(
        self, book: SymbolBook, queue: list[PaperOrder], size: Decimal, used: Decimal, far: Decimal, side: Side
    ) -> Decimal:
        """Fill the crossed head of ``queue`` as maker at each limit price; return the new used size."""
        filled = 0
        for order in queue:
            price = order.price or _ZERO
            if (price < far) if side is Side.BUY else (price > far):
                break
            quantity = book.instrument.round_quantity(min(order.remaining, size - used))
            if quantity <= 0:
                break
            used += quantity
            self._execute(order, price, quantity, Liquidity.MAKER)
            if order.remaining > 0:
                break
            filled += 1
        del queue[:filled]
        return used

    def match_trade(self, book: SymbolBook, trade: Trade) -> None:
        """Fill resting orders that ``trade`` traded through (or touched, by chance)."""
        if book.buys and (book.buys[0].price or _ZERO) >= trade.price:
            self._through(book, book.buys, trade, Side.BUY)
        if book.sells and (book.sells[0].price or _ZERO) <= trade.price:
            self._through(book, book.sells, trade, Side.SELL)

    def _through(self, book: SymbolBook, queue: list[PaperOrder], trade: Trade, side: Side) -> None:
        """Fill orders of ``queue`` (one side) against ``trade``, up to the trade size."""
        budget = trade.size
        touch_hits = trade.aggressor_side is side.opposite
        any_done = False
        for order in queue:
            if budget <= 0:
                break
            price = order.price or _ZERO
            if price == trade.price:
                if not touch_hits or self.rng.getrandbits(32) >= self._touch_threshold:
                    continue
            elif (price < trade.price) if side is Side.BUY else (price > trade.price):
                break
            quantity = book.instrument.round_quantity(min(order.remaining, budget))
            if quantity <= 0:
                break
            budget -= quantity
            self._execute(order, price, quantity, Liquidity.MAKER)
            any_done = any_done or order.remaining == 0
        if any_done:
            queue[:] = [o for o in queue if o.remaining > 0]
