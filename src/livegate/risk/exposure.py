"""Conservative prices and exposure arithmetic shared by the notional limits.

Rules (issue 3, docs/architecture.md §3.4):

* A market order is valued at the far side of the book (ask for a buy, bid for a sell)
  times ``1 + pad_bps / 10,000`` where the pad is ``[risk] price_band_bps``; with no
  quote its price is unknown and the order is denied — never skipped.
* A limit order is valued at the higher of its limit price and the far side: a
  marketable sell below the bid trades at about the bid, not at its limit.
* Exposure of a symbol is the larger of ``|position + working buys|`` and
  ``|position - working sells|`` (base units): as if every working order on one side
  filled. It is valued at the ask plus the pad, or at a higher limit price of a working
  order or of the intent, so valuing longs and shorts errs on the high side.

Working quantities and limit-price ranges come from the portfolio's incremental
aggregates (:class:`~livegate.portfolio.working.WorkingTotals`), so each function here is
O(symbols with exposure) per intent, not O(orders); the per-intent results are computed
once and shared by the limit gates through :class:`~livegate.risk.memo.ExposureMemo` (the
same arithmetic written out inline for the hot path; these functions are the reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.orders import OrderIntent
from livegate.portfolio import Portfolio
from livegate.portfolio.working import WorkingSide
from livegate.risk.gate import RiskContext

_ZERO = Decimal(0)
_ONE = Decimal(1)
_BPS = Decimal(10_000)
_BUY = Side.BUY


def pad_factor(pad_bps: Decimal | None) -> Decimal:
    """Return ``1 + pad_bps / 10,000`` (1 when no pad is configured)."""
    return _ONE if pad_bps is None else _ONE + pad_bps / _BPS


def intent_price(intent: OrderIntent, ctx: RiskContext, pad: Decimal) -> Decimal | None:
    """Return the conservative price of ``intent`` in quote currency, None when unknown."""
    quote = ctx.quotes.last(intent.symbol)
    limit = intent.price
    if quote is None:
        return limit
    far = quote.ask_price if intent.side is _BUY else quote.bid_price
    if limit is None:
        return far * pad
    return limit if limit > far else far


@dataclass(frozen=True, slots=True)
class SymbolExposure:
    """Exposure of one symbol before and after an intent, and its valuation price.

    ``before_quantity`` is ``max(|position + working buys|, |position - working sells|)``
    (base units). ``after_quantity`` is the projection on the intent's own side after
    adding it (``position + working buys + quantity`` for a buy); ``grows`` says whether
    the intent pushes that side further from zero. ``price`` is in quote currency.
    """

    before_quantity: Decimal
    after_quantity: Decimal
    grows: bool
    price: Decimal

    @property
    def before_notional(self) -> Decimal:
        """Return exposure before the intent in quote currency."""
        return self.before_quantity * self.price

    @property
    def after_notional(self) -> Decimal:
        """Return the intent side's exposure after the intent in quote currency."""
        return self.after_quantity * self.price


def symbol_exposure(
    symbol: str, ctx: RiskContext, pad: Decimal, intent: OrderIntent | None = None
) -> SymbolExposure | None:
    """Return the exposure of ``symbol`` with ``intent`` added (when it is on that symbol).

    Judging the intent's own side (not the net of both sides) keeps the cap sound: a
    buy that only offsets working sells would still leave a long position if the sells
    were cancelled. Returns None when the exposure is not zero and no price is known.
    """
    portfolio = ctx.portfolio
    position = portfolio.position_quantity(symbol)
    totals = portfolio.working_totals(symbol)
    high = totals.high
    long_side = position + totals.buy.quantity
    short_side = position - totals.sell.quantity
    before = max(abs(long_side), abs(short_side))
    after = before
    grows = False
    own = intent is not None and intent.symbol == symbol
    if intent is not None and own:
        if intent.side is _BUY:
            side_before, side_after = long_side, long_side + intent.quantity
        else:
            side_before, side_after = short_side, short_side - intent.quantity
        after = abs(side_after)
        grows = after > abs(side_before)
        if intent.price is not None and intent.price > high:
            high = intent.price
    quote = ctx.quotes.last(symbol)
    if quote is None:
        if before == _ZERO and after == _ZERO:
            return SymbolExposure(before, after, grows, _ZERO)
        if high == _ZERO or (intent is not None and own and intent.price is None):
            return None
        return SymbolExposure(before, after, grows, high)
    mark = quote.ask_price * pad
    return SymbolExposure(before, after, grows, mark if mark > high else high)


def other_exposure(exclude: str, ctx: RiskContext, pad: Decimal) -> tuple[Decimal, str | None]:
    """Return the exposure notional summed over every exposed symbol but ``exclude``.

    The second item names a symbol whose exposure has no price (the sum is then
    meaningless and the caller must fail closed), else None.
    """
    total = _ZERO
    for symbol in ctx.portfolio.exposed_symbols():
        if symbol == exclude:
            continue
        other = symbol_exposure(symbol, ctx, pad)
        if other is None:
            return total, symbol
        total += other.before_quantity * other.price
    return total, None


def exposed_symbols(ctx: RiskContext) -> set[str]:
    """Return symbols with a non-zero position or a working order."""
    return set(ctx.portfolio.exposed_symbols())


def side_notional(
    side: WorkingSide, far: Decimal | None, portfolio: Portfolio, symbol: str, which: Side
) -> Decimal | None:
    """Return the notional of one side's working orders, each at ``max(limit, far)`` (far alone for market orders).

    O(1) when every limit is on one side of ``far``; otherwise sums over the orders.
    None when a market order has no far price.
    """
    if far is None:
        return None if side.markets else side.limit_notional
    high, low = side.high, side.low
    if high is None or high <= far:
        return side.quantity * far
    if low is not None and low >= far:
        return side.limit_notional + side.market_quantity * far
    total = _ZERO
    for order in portfolio.working_orders(symbol):
        if order.side is which:
            price = order.price
            total += order.remaining_quantity * (far if price is None or far > price else price)
    return total


def working_notional(ctx: RiskContext, pad: Decimal) -> Decimal | None:
    """Return the notional of every working order's remaining quantity at a conservative price.

    Each order is valued at the higher of its limit and the far side of the book times
    ``pad`` (a market order at the far side); None when an order has no price at all.
    """
    total = _ZERO
    quotes = ctx.quotes
    portfolio = ctx.portfolio
    for symbol, totals in portfolio.working_totals_by_symbol().items():
        quote = quotes.last(symbol)
        buy_far = sell_far = None
        if quote is not None:
            buy_far = quote.ask_price * pad
            sell_far = quote.bid_price * pad
        buys = side_notional(totals.buy, buy_far, portfolio, symbol, Side.BUY)
        sells = side_notional(totals.sell, sell_far, portfolio, symbol, Side.SELL)
        if buys is None or sells is None:
            return None
        total += buys + sells
    return total
