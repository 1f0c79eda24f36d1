"""Decide whether a parsed quote or trade may be replayed (the bad-row policy).

A quote that is NaN, infinite, zero, negative or crossed, and a trade whose price or
size is not a finite positive number, is never emitted. A locked quote (bid == ask) is
emitted: the market-data tripwires judge it later.
"""

from __future__ import annotations

from decimal import Decimal

from livegate.domain.market import Quote, quote_problem

_LOCKED = "locked"


def quote_rejection(quote: Quote) -> str | None:
    """Return why ``quote`` must not be replayed, or None when it may be (locked is allowed).

    Uses :func:`livegate.domain.market.quote_problem` for the rule and its wording; the
    common case (finite, positive, bid < ask) is answered first without building a reason.
    """
    bid, ask, bid_size, ask_size = quote.bid_price, quote.ask_price, quote.bid_size, quote.ask_size
    if (
        bid.is_finite()
        and ask.is_finite()
        and bid_size.is_finite()
        and ask_size.is_finite()
        and 0 < bid < ask
        and bid_size > 0
        and ask_size > 0
    ):
        return None
    problem = quote_problem(quote)
    if problem is None or problem == _LOCKED:
        return None
    return problem


def trade_rejection(price: Decimal, size: Decimal) -> str | None:
    """Return why a trade with ``price`` (quote currency) and ``size`` (base units) is bad, or None."""
    if not price.is_finite():
        return f"price is not finite ({price})"
    if not size.is_finite():
        return f"size is not finite ({size})"
    if price <= 0:
        return f"price is not positive ({price})"
    if size <= 0:
        return f"size is not positive ({size})"
    return None
