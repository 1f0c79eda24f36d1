"""The fast path's sums over the whole book: other symbols' exposure, working notional, equity at mid.

:func:`book_sums` binds the book figures, the quote lookup and the pad once; the closures
it returns are what :mod:`livegate.risk.fast_path_compile`'s proof calls when an intent
needs a sum over every symbol. Each computes the value the gates compute
(:class:`~livegate.risk.exposure.ExposureMemo`, ``Portfolio.equity_pnl``), with the same
Decimal operations in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.market import Quote
from livegate.portfolio import Portfolio
from livegate.risk.book_figures import BookFigures
from livegate.risk.exposure import side_notional

__all__ = ["book_sums"]

_ZERO = Decimal(0)
_TWO = Decimal(2)
_BUY = Side.BUY
_SELL = Side.SELL


def book_sums(
    figures: BookFigures, last_quote: Callable[[str], Quote | None], pad: Decimal, portfolio: Portfolio
) -> tuple[
    Callable[[str], Decimal | None],
    Callable[[str, Quote | None, Decimal | None], Decimal | None],
    Callable[[str, Quote | None, Decimal | None], Decimal | None],
]:
    """Return ``(others, working, equity)``: the book-wide sums the fast path needs, bound to this book.

    ``figures`` are the book's figures, ``last_quote`` the session's quote lookup by symbol,
    ``pad`` the notional gates' market-price pad, ``portfolio`` the book (for
    :func:`~livegate.risk.exposure.side_notional`). Every sum is in USD; None means unknown.
    """

    def _others(exclude: str) -> Decimal | None:
        """Return ``other_exposure`` (ExposureMemo.others): None when a symbol has no price."""
        total = _ZERO
        for symbol in figures.exposed:
            if symbol == exclude:
                continue
            _, _, _, _, before, high = figures.symbol(symbol)
            quote = last_quote(symbol)
            if quote is not None:
                mark = quote.ask_price * pad
                price = mark if mark > high else high
            elif before == _ZERO:
                price = _ZERO
            elif high == _ZERO:
                return None
            else:
                price = high
            total += before * price
        return total

    def _working(own: str, own_quote: Quote | None, own_mark: Decimal | None) -> Decimal | None:
        """Return ``working_notional`` (ExposureMemo.working), None when unknown."""
        total = None
        for symbol, buy, sell in figures.working:
            quote = own_quote if symbol == own else last_quote(symbol)
            if quote is None:
                buys = None if buy.markets else buy.limit_notional
                sells = None if sell.markets else sell.limit_notional
            else:
                far = own_mark if own_mark is not None and symbol == own else quote.ask_price * pad
                high = buy.high
                buys = (
                    buy.quantity * far
                    if high is None or high <= far
                    else side_notional(buy, far, portfolio, symbol, _BUY)
                )
                far = quote.bid_price * pad
                high = sell.high
                sells = (
                    sell.quantity * far
                    if high is None or high <= far
                    else side_notional(sell, far, portfolio, symbol, _SELL)
                )
            if buys is None or sells is None:
                return None
            both_sides = buys + sells
            total = both_sides if total is None else total + both_sides
        return _ZERO if total is None else total

    def _equity(own: str, own_quote: Quote | None, own_both: Decimal | None) -> Decimal | None:
        """Return the equity PnL at mid prices (``Portfolio.equity_pnl(QuoteCache.mid)``), None when unknown."""
        unrealized = _ZERO
        for symbol, quantity, cost in figures.open:
            if symbol == own and own_both is not None:
                mid = own_both / _TWO
            else:
                quote = own_quote if symbol == own else last_quote(symbol)
                if quote is None:
                    return None
                mid = (quote.bid_price + quote.ask_price) / _TWO
            unrealized += quantity * mid - cost  # Position.unrealized_pnl (open: quantity != 0)
        return figures.realized + unrealized - figures.fees

    return _others, _working, _equity
