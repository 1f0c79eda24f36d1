"""Conservative prices and exposure arithmetic shared by the notional limits.

Rules (issue 3, DESIGN.md §3.4):

* A market order is valued at the far side of the book (ask for a buy, bid for a sell)
  times ``1 + pad_bps / 10,000`` where the pad is ``[risk] price_band_bps``; with no
  quote its price is unknown and the order is denied — never skipped.
* A limit order is valued at the higher of its limit price and the far side: a
  marketable sell below the bid trades at about the bid, not at its limit.
* Exposure of a symbol is the larger of ``|position + working buys|`` and
  ``|position - working sells|`` (base units): as if every working order on one side
  filled. It is valued at the ask plus the pad, or at a higher limit price of a working
  order or of the intent, so valuing longs and shorts errs on the high side.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.orders import OrderIntent
from livegate.risk.gate import RiskContext

_ZERO = Decimal(0)
_BPS = Decimal(10_000)


def pad_factor(pad_bps: Decimal | None) -> Decimal:
    """Return ``1 + pad_bps / 10,000`` (1 when no pad is configured)."""
    return Decimal(1) if pad_bps is None else Decimal(1) + pad_bps / _BPS


def intent_price(intent: OrderIntent, ctx: RiskContext, pad: Decimal) -> Decimal | None:
    """Return the conservative price of ``intent`` in quote currency, None when unknown."""
    quote = ctx.quotes.last(intent.symbol)
    limit = intent.price
    if quote is None:
        return limit
    if intent.side is Side.BUY:
        far = quote.ask_price
    else:
        far = quote.bid_price
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
    buys = sells = high = _ZERO
    for order in portfolio.working_orders(symbol):
        remaining = order.remaining_quantity
        if order.side is Side.BUY:
            buys += remaining
        else:
            sells += remaining
        price = order.price
        if price is not None and price > high:
            high = price
    long_side = position + buys
    short_side = position - sells
    before = max(abs(long_side), abs(short_side))
    after = before
    grows = False
    own = intent is not None and intent.symbol == symbol
    if intent is not None and own:
        if intent.side is Side.BUY:
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


def exposed_symbols(ctx: RiskContext) -> set[str]:
    """Return symbols with a non-zero position or a working order."""
    portfolio = ctx.portfolio
    symbols = {p.symbol for p in portfolio.positions() if p.quantity != _ZERO}
    symbols.update(o.symbol for o in portfolio.working_orders())
    return symbols


def working_notional(ctx: RiskContext, pad: Decimal) -> Decimal | None:
    """Return the notional of every working order's remaining quantity at a conservative price."""
    total = _ZERO
    quotes = ctx.quotes
    for order in ctx.portfolio.working_orders():
        price = order.price
        quote = quotes.last(order.symbol)
        if quote is not None:
            far = (quote.ask_price if order.side is Side.BUY else quote.bid_price) * pad
            price = far if price is None or far > price else price
        if price is None:
            return None
        total += order.remaining_quantity * price
    return total


class ExposureMemo:
    """Per-intent memo of the expensive reads shared by several limit gates.

    The symbol, gross, turnover, loss and drawdown gates all need the same exposure,
    working notional and equity; computing them once per intent keeps the chain O(1) in
    the number of gates. Entries are keyed by the intent object itself (identity), so
    they are valid for one evaluation: the pipeline never re-evaluates an intent object.

    Parameters
    ----------
    pad:
        Market-order pad factor (:func:`pad_factor`).
    """

    __slots__ = ("_equity", "_equity_for", "_own", "_own_for", "_working", "_working_for", "pad")

    def __init__(self, pad: Decimal) -> None:
        self.pad = pad
        self._own_for: object = None
        self._own: SymbolExposure | None = None
        self._working_for: object = None
        self._working: Decimal | None = None
        self._equity_for: object = None
        self._equity: Decimal | None = None

    def own(self, intent: OrderIntent, ctx: RiskContext) -> SymbolExposure | None:
        """Return :func:`symbol_exposure` of the intent's symbol with the intent added."""
        if self._own_for is not intent:
            self._own = symbol_exposure(intent.symbol, ctx, self.pad, intent)
            self._own_for = intent
        return self._own

    def working(self, intent: OrderIntent, ctx: RiskContext) -> Decimal | None:
        """Return :func:`working_notional` as of this intent."""
        if self._working_for is not intent:
            self._working = working_notional(ctx, self.pad)
            self._working_for = intent
        return self._working

    def equity(self, intent: OrderIntent, ctx: RiskContext) -> Decimal | None:
        """Return the portfolio's equity PnL at mid prices as of this intent (None when unknown)."""
        if self._equity_for is not intent:
            self._equity = ctx.portfolio.equity_pnl(ctx.quotes.mid)
            self._equity_for = intent
        return self._equity
