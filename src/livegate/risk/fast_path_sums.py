"""The fast path's exact equity: ``Portfolio.equity_pnl`` at mid prices from the book figures, in Decimal.

The proof (:mod:`livegate.risk.fast_path_compile`) judges the loss and drawdown limits on
floats (:mod:`livegate.risk.fast_path_floats`); the drawdown gate also moves the equity
peak, which is gate state and must hold the Decimal value the gate would store. When the
float figure cannot rule out a new peak, the proof computes the equity here with the
same Decimal operations in the same order as ``Portfolio.equity_pnl(QuoteCache.mid)``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from livegate.domain.market import Quote
from livegate.risk.book_figures import BookFigures

__all__ = ["exact_equity"]

_ZERO = Decimal(0)
_TWO = Decimal(2)


def exact_equity(
    figures: BookFigures, last_quote: Callable[[str], Quote | None]
) -> Callable[[str, Quote | None], Decimal | None]:
    """Return ``equity(own, own_quote)``: the book's equity PnL at mid prices (USD), None when a position has no quote.

    ``figures`` are the book's figures (synced by the caller), ``last_quote`` the
    session's quote lookup by symbol; ``own_quote`` is the last quote of ``own``.
    """

    def equity(own: str, own_quote: Quote | None) -> Decimal | None:
        unrealized = _ZERO
        for symbol, quantity, cost in figures.open:
            quote = own_quote if symbol == own else last_quote(symbol)
            if quote is None:
                return None
            mid = (quote.bid_price + quote.ask_price) / _TWO
            unrealized += quantity * mid - cost  # Position.unrealized_pnl (open: quantity != 0)
        return figures.realized + unrealized - figures.fees

    return equity
