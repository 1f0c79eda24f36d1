"""Per-intent memo of the exposure figures the notional and loss limits share (the gate chain's hot path).

The order, symbol, gross, turnover, loss and drawdown gates all need the same
conservative price, exposure, working notional and equity of one intent.
:class:`ExposureMemo` computes each once per intent, with the arithmetic of
:mod:`livegate.risk.exposure` written out inline (no intermediate objects, no call per
working side), and gives the gates plain attributes to read. Every figure equals the
reference function's result exactly, operation for operation (same Decimal operations
in the same order): ``tests/risk/test_risk_exposure_memo.py`` checks that property on
random books and quotes.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.market import Quote
from livegate.domain.orders import OrderIntent
from livegate.risk.exposure import side_notional
from livegate.risk.gate import RiskContext

_ZERO = Decimal(0)
_BUY = Side.BUY
_SELL = Side.SELL


class ExposureMemo:
    """The shared per-intent figures of the limit gates, each computed at most once per intent.

    A gate calls :meth:`load` unless ``intent`` already is the intent it was loaded for
    (``memo.intent is intent``), then reads ``price`` (:func:`~livegate.risk.exposure.intent_price`,
    None when unknown) and, when ``known``, the intent symbol's exposure with the intent
    added: ``before_quantity``, ``after_quantity`` and ``grows`` (base units, as
    :class:`~livegate.risk.exposure.SymbolExposure`) valued at ``own_price`` (quote
    currency). The working notional, the other symbols' exposure and the equity are
    computed on first use (:meth:`working`, :meth:`others`, :meth:`equity`). Entries are
    keyed by the intent object itself (identity), so they are valid for one evaluation:
    the pipeline never re-evaluates an intent object.

    Parameters
    ----------
    pad:
        Market-order pad factor (:func:`~livegate.risk.exposure.pad_factor`).
    """

    __slots__ = (
        "_equity",
        "_equity_for",
        "_others",
        "_others_for",
        "_own_ask",
        "_own_quote",
        "_unpriced",
        "_working",
        "_working_for",
        "after_quantity",
        "before_quantity",
        "grows",
        "intent",
        "known",
        "own_price",
        "pad",
        "price",
    )

    def __init__(self, pad: Decimal) -> None:
        self.pad = pad
        self.intent: OrderIntent | None = None
        self.price: Decimal | None = None
        self.known = False
        self.before_quantity = _ZERO
        self.after_quantity = _ZERO
        self.grows = False
        self.own_price = _ZERO
        self._own_quote: Quote | None = None  # the loaded intent's quote, and its ask x pad
        self._own_ask = _ZERO
        self._others_for: object = None
        self._others = _ZERO
        self._unpriced: str | None = None
        self._working_for: object = None
        self._working: Decimal | None = None
        self._equity_for: object = None
        self._equity: Decimal | None = None

    def load(self, intent: OrderIntent, ctx: RiskContext) -> None:
        """Compute the intent's conservative price and its symbol's exposure with the intent added.

        Same figures as :func:`~livegate.risk.exposure.intent_price` and
        :func:`~livegate.risk.exposure.symbol_exposure` (``known`` is False where the
        latter returns None).
        """
        symbol = intent.symbol
        quote = ctx.quotes.last(symbol)
        limit = intent.price
        pad = self.pad
        buy = intent.side is _BUY
        # intent_price
        price = limit
        if quote is not None:
            far = quote.ask_price if buy else quote.bid_price
            if limit is None:
                price = far * pad
            elif not limit > far:
                price = far
        # symbol_exposure with the intent
        portfolio = ctx.portfolio
        position = portfolio.position_quantity(symbol)
        totals = portfolio.working_totals(symbol)
        high = totals.high
        long_side = position + totals.buy.quantity
        short_side = position - totals.sell.quantity
        long_abs, short_abs = abs(long_side), abs(short_side)
        before = short_abs if short_abs > long_abs else long_abs  # max(): the first on a tie
        if buy:
            after = abs(long_side + intent.quantity)
            grows = after > long_abs
        else:
            after = abs(short_side - intent.quantity)
            grows = after > short_abs
        if limit is not None and limit > high:
            high = limit
        known = True
        if quote is not None:
            mark = self._own_ask = quote.ask_price * pad
            own_price = mark if mark > high else high
        elif before == _ZERO and after == _ZERO:
            own_price = _ZERO
        elif high == _ZERO or limit is None:
            known, own_price = False, _ZERO
        else:
            own_price = high
        self.price, self.known, self.grows = price, known, grows
        self.before_quantity, self.after_quantity, self.own_price = before, after, own_price
        self._own_quote = quote
        self.intent = intent

    def others(self, intent: OrderIntent, ctx: RiskContext) -> tuple[Decimal, str | None]:
        """Return :func:`~livegate.risk.exposure.other_exposure` of the intent (USD; a symbol with no price)."""
        if self._others_for is not intent:
            exclude = intent.symbol
            portfolio = ctx.portfolio
            quotes = ctx.quotes
            pad = self.pad
            total = _ZERO
            unpriced = None
            exposed: Collection[str] = portfolio.exposed_symbols()
            if len(exposed) == 1 and exclude in exposed:  # one symbol traded: no other exposure
                exposed = ()
            for symbol in exposed:
                if symbol == exclude:
                    continue
                position = portfolio.position_quantity(symbol)
                totals = portfolio.working_totals(symbol)
                high = totals.high
                long_abs = abs(position + totals.buy.quantity)
                short_abs = abs(position - totals.sell.quantity)
                before = short_abs if short_abs > long_abs else long_abs
                quote = quotes.last(symbol)
                if quote is not None:
                    mark = quote.ask_price * pad
                    price = mark if mark > high else high
                elif before == _ZERO:
                    price = _ZERO
                elif high == _ZERO:
                    unpriced = symbol
                    break
                else:
                    price = high
                total += before * price
            self._others, self._unpriced, self._others_for = total, unpriced, intent
        return self._others, self._unpriced

    def working(self, intent: OrderIntent, ctx: RiskContext) -> Decimal | None:
        """Return :func:`~livegate.risk.exposure.working_notional` as of this intent (None when unknown)."""
        if self._working_for is intent:
            return self._working
        total = _ZERO
        quotes = ctx.quotes
        portfolio = ctx.portfolio
        pad = self.pad
        own = intent.symbol if self.intent is intent else None  # its quote and ask x pad are loaded
        for symbol, totals in portfolio.working_totals_by_symbol().items():
            quote = self._own_quote if symbol == own else quotes.last(symbol)
            buy, sell = totals.buy, totals.sell
            if quote is None:
                buys = None if buy.markets else buy.limit_notional
                sells = None if sell.markets else sell.limit_notional
            else:
                far = self._own_ask if symbol == own else quote.ask_price * pad
                high = buy.high
                if high is None or high <= far:
                    buys = buy.quantity * far
                else:
                    buys = side_notional(buy, far, portfolio, symbol, _BUY)
                far = quote.bid_price * pad
                high = sell.high
                if high is None or high <= far:
                    sells = sell.quantity * far
                else:
                    sells = side_notional(sell, far, portfolio, symbol, _SELL)
            if buys is None or sells is None:
                self._working, self._working_for = None, intent
                return None
            total += buys + sells
        self._working, self._working_for = total, intent
        return total

    def equity(self, intent: OrderIntent, ctx: RiskContext) -> Decimal | None:
        """Return the portfolio's equity PnL at mid prices as of this intent (quote currency; None when unknown).

        Same figure as ``Portfolio.equity_pnl(QuoteCache.mid)``: realized + the sum of
        each open position's unrealized PnL at its quote's mid - fees.
        """
        if self._equity_for is intent:
            return self._equity
        portfolio = ctx.portfolio
        quotes = ctx.quotes
        unrealized = _ZERO
        equity: Decimal | None = None
        for position in portfolio.open_positions():
            quote = quotes.last(position.symbol)
            if quote is None:
                break
            unrealized += position.unrealized_pnl(quote.mid_price)
        else:
            equity = portfolio.realized_pnl() + unrealized - portfolio.fees()
        self._equity, self._equity_for = equity, intent
        return equity
