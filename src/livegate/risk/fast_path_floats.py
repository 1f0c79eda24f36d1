"""The fast path's cheap arithmetic: amounts as binary floats, and the slack that turns a float comparison into a proof.

The fast path (:mod:`livegate.risk.fast_path`) only has to prove that a gate allows; a
denial always comes from the gate's own Decimal arithmetic. A Decimal operation costs
~550-750 CPU instructions, a float operation a few dozen, so the proof runs on floats and
hands an intent to the gates whenever the float figure is too close to the limit to be
sure (callgrind, stop 28).

Why a float comparison proves (the rule every check in the proof follows):

* ``float(d)`` of a Decimal is correctly rounded from its value (CPython formats the
  Decimal and parses the text with a correctly rounded ``strtod``), so it is within a
  relative ``u = 2**-53`` of ``d`` and monotone: ``float(a) < float(b)`` implies
  ``a < b``. Comparing two converted values is therefore exact except on a tie, which
  the proof never takes as proven.
* Every amount the proof converts is checked to be 0 exactly or within ``[LOW, HIGH]``
  (``1e-100`` to ``1e100``), so no float it computes overflows, underflows or is a NaN.
* A sum or product of ``n`` such floats is within ``n * u`` (relative) of the exact value
  of the same expression when every term is non-negative, and within ``n * u`` of its
  *magnitude* (the same expression over absolute values) otherwise. The gates evaluate
  the same expressions in Decimal, rounding each result to the context precision
  (``prec`` digits: 28 by default; the proof stands down below :data:`MIN_PRECISION`), so
  their values are within ``n * 10**(1 - prec)`` of the exact value too.
* A float figure proves ``x <= cap`` when it clears the cap by twice :data:`SLACK`
  (2**-29, about 1.9e-9) of the magnitudes involved. For fewer than a million terms the
  float error (at most ``n * u``, 1.1e-10) and the Decimal error (``n * 10**-19``) stay
  under a tenth of that. Within the slack, or on a tie, the gate judges.

So the proof may hand to the gates an intent that they then allow (one within about 1e-9
of a cap, or on a tie), never approve an intent a gate would deny.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from livegate.domain.market import Quote
from livegate.risk.book_figures import BookFigures

__all__ = [
    "HIGH",
    "LOW",
    "MIN_PRECISION",
    "SLACK",
    "FloatBook",
    "at_least",
    "at_most",
    "exact_float",
    "float_or_nan",
    "limit_lines",
]

#: Relative slack (of the magnitudes compared) a float figure must clear a limit by.
SLACK = 2.0**-30
#: Smallest and largest magnitude (besides an exact 0) of an amount the proof converts.
LOW, HIGH = 1e-100, 1e100
#: The least Decimal context precision (digits) under which the gates' rounding is far inside :data:`SLACK`.
MIN_PRECISION = 20
_TWICE = 2 * SLACK
_NAN = float("nan")

#: Per symbol, ``(position + working buys, position - working sells, -2 x the first, 2 x the second,
#: max(|first|, |second|), highest limit)`` as floats (:class:`~livegate.risk.book_figures.BookFigures` ``symbol``).
SymbolFloats = tuple[float, float, float, float, float, float]
#: Per symbol, what the proof needs of the book when the intent is on that symbol: its
#: :data:`SymbolFloats`, then its working buys (quantity, highest limit or 0) and sells, the
#: equity PnL without its position's value (realized - fees - its cost) and that sum's
#: magnitude, its position (quantity, |quantity|), and whether other symbols have working
#: orders, open positions, or exposure.
OwnFloats = tuple[
    float, float, float, float, float, float, float, float, float, float, float, float, float, float, bool, bool, bool
]


def exact_float(value: Decimal) -> float | None:
    """Return ``float(value)`` when it is 0 exactly or within ``[LOW, HIGH]`` in magnitude, else None."""
    f = float(value)
    if LOW < abs(f) < HIGH or (f == 0 and value == 0):
        return f
    return None


def at_most(cap: Decimal) -> float:
    """Return the float a non-negative figure must not exceed to prove ``figure <= cap``.

    ``cap - 2 x SLACK x |cap|`` in floats; ``-inf`` (never proven) for a cap out of range.
    """
    f = exact_float(cap)
    return float("-inf") if f is None else f - abs(f) * _TWICE


def at_least(floor: Decimal) -> float:
    """Return the float a non-negative figure must reach to prove ``figure >= floor`` (``inf``: never)."""
    f = exact_float(floor)
    return float("inf") if f is None else f + abs(f) * _TWICE


def float_or_nan(value: Decimal) -> float:
    """Return :func:`exact_float` of ``value``, NaN when out of range (no comparison with NaN holds: nothing proven)."""
    f = exact_float(value)
    return _NAN if f is None else f


def limit_lines(
    e0: float,
    s0: float,
    e1: float,
    s1: float,
    loss: tuple[object, object],
    peak: tuple[object, object],
    floor: float,
    draw_lo: float,
) -> tuple[float, float, float, float, float, float]:
    """Return the daily loss and drawdown limits as lines ``a + b x mid`` (USD) the proof compares with 0.

    The equity PnL at the intent's mid is ``e0 + e1 x mid``, its magnitude ``s0 + s1 x mid``
    (:mod:`livegate.risk.fast_path_floats`); ``loss`` is the daily book's ``(carried
    budget, day-start equity)``, ``peak`` the equity peak's ``(peak, offset)``, ``floor``
    the loss floor (-limit) and ``draw_lo`` the drawdown limit less its slack, as floats.
    Returned: the loss line (> 0 proves ``pnl > -limit``), the new-peak line (< 0 proves
    the day PnL is below the peak, no new peak) and the drawdown line (<= 0 proves
    ``peak - day PnL < limit``), each clear of ``2 x SLACK`` of every magnitude involved.
    A NaN (an amount out of range) proves nothing.
    """
    loss_a = loss_b = _NAN
    carried, day_start = loss
    if carried is not None and isinstance(day_start, Decimal):
        pnl, start = exact_float(carried.pnl_usd), exact_float(day_start)  # type: ignore[attr-defined]
        if pnl is not None and start is not None:
            size = abs(pnl) + abs(start) + abs(floor) + s0
            loss_a = pnl - start + e0 - size * _TWICE - floor
            loss_b = e1 - s1 * _TWICE
    up_a = up_b = draw_a = draw_b = _NAN
    top, offset = peak
    if isinstance(top, Decimal) and isinstance(offset, Decimal):
        top_f, offset_f = float_or_nan(top), float_or_nan(offset)
        slack = (s0 + abs(offset_f) + abs(top_f)) * _TWICE
        up_a, up_b = e0 + offset_f + slack - top_f, e1 + s1 * _TWICE
        draw_a, draw_b = top_f - e0 - offset_f + slack - draw_lo, s1 * _TWICE - e1
    return loss_a, loss_b, up_a, up_b, draw_a, draw_b


class FloatBook:
    """Float views of one book's figures (per ``BookFigures.version``) and of the last quotes (per quote).

    ``ok`` is False when some book amount is out of range (the proof then leaves the book's
    gates to the gates). ``working`` lists, per symbol with working orders, ``(symbol,
    buy quantity, highest buy limit or 0, buy limit notional or None with market buys,
    the same three for sells)``; ``open`` lists ``(symbol, quantity, |quantity|, cost,
    |cost|)`` of the open positions; ``equity_base`` is realized PnL - fees and
    ``equity_size`` its magnitude. Amounts in base units and quote currency (USD).
    """

    __slots__ = (
        "_figures",
        "_last_quote",
        "equity_base",
        "equity_size",
        "ok",
        "open",
        "owns",
        "quotes",
        "symbols",
        "version",
        "working",
    )

    def __init__(self, figures: BookFigures, last_quote: Callable[[str], Quote | None]) -> None:
        self._figures = figures
        self._last_quote = last_quote
        self.version = -1
        self.ok = False
        self.symbols: dict[str, SymbolFloats | None] = {}
        self.owns: dict[str, OwnFloats] = {}
        self.quotes: dict[str, tuple[Quote, float, float] | None] = {}
        self.working: tuple[tuple[str, float, float, float | None, float, float, float | None], ...] = ()
        self.open: tuple[tuple[str, float, float, float, float], ...] = ()
        self.equity_base = self.equity_size = 0.0

    def sync(self) -> None:
        """Re-read the figures (call after ``BookFigures.sync``; O(1) when the version did not move)."""
        figures = self._figures
        if figures.version == self.version:
            return
        self.symbols = {}
        self.owns = {}
        ok = True
        working = []
        for symbol, buy, sell in figures.working:
            row: list[object] = [symbol]
            for side in (buy, sell):
                quantity = exact_float(side.quantity)
                high = 0.0 if side.high is None else exact_float(side.high)
                limits = None if side.markets else exact_float(side.limit_notional)
                ok = ok and quantity is not None and high is not None and (side.markets > 0 or limits is not None)
                row += [quantity or 0.0, high or 0.0, limits]
            working.append(tuple(row))
        self.working = tuple(working)  # type: ignore[arg-type]
        held = []
        for symbol, amount, cost in figures.open:
            q, c = exact_float(amount), exact_float(cost)
            ok = ok and q is not None and c is not None
            held.append((symbol, q or 0.0, abs(q or 0.0), c or 0.0, abs(c or 0.0)))
        self.open = tuple(held)
        realized, fees = exact_float(figures.realized), exact_float(figures.fees)
        ok = ok and realized is not None and fees is not None
        self.equity_base = (realized or 0.0) - (fees or 0.0)
        self.equity_size = abs(realized or 0.0) + abs(fees or 0.0)
        self.ok = ok
        self.version = figures.version

    def symbol(self, symbol: str) -> SymbolFloats | None:
        """Return ``symbol``'s exposure figures as floats (None when one is out of range)."""
        if symbol in self.symbols:
            return self.symbols[symbol]
        long_side, short_side, _, _, before, high = self._figures.symbols.get(symbol) or self._figures.symbol(symbol)
        values = [exact_float(v) for v in (long_side, short_side, -2 * long_side, 2 * short_side, before, high)]
        floats = None if None in values else tuple(values)
        self.symbols[symbol] = floats  # type: ignore[assignment]
        return floats  # type: ignore[return-value]

    def quote(self, symbol: str, quote: Quote) -> tuple[Quote, float, float] | None:
        """Return ``(quote, bid, ask)`` with the prices as floats, None when one is out of range; cached per quote."""
        entry = self.quotes.get(symbol)
        if entry is not None and entry[0] is quote:
            return entry
        bid, ask = exact_float(quote.bid_price), exact_float(quote.ask_price)
        entry = None if bid is None or ask is None else (quote, bid, ask)
        self.quotes[symbol] = entry
        return entry

    def own(self, symbol: str) -> OwnFloats | None:
        """Return ``symbol``'s :data:`OwnFloats` (None when the book is out of range); cached per version."""
        floats = self.symbol(symbol)
        if floats is None or not self.ok:
            return None
        buys = buy_high = sells = sell_high = quantity = cost = 0.0
        for row in self.working:
            if row[0] == symbol:
                buys, buy_high, sells, sell_high = row[1], row[2], row[4], row[5]
        for held in self.open:
            if held[0] == symbol:
                quantity, cost = held[1], held[3]
        own = (
            *floats,
            buys,
            buy_high,
            sells,
            sell_high,
            self.equity_base - cost,
            self.equity_size + abs(cost),
            quantity,
            abs(quantity),
            any(row[0] != symbol for row in self.working),
            any(held[0] != symbol for held in self.open),
            any(other != symbol for other in self._figures.exposed),
        )
        self.owns[symbol] = own
        return own

    def others(self, exclude: str, pad: float) -> float | None:
        """Return the other symbols' exposure at ``max(ask x pad, highest limit)`` (``ExposureMemo.others``)."""
        total = 0.0
        for symbol in self._figures.exposed:
            if symbol == exclude:
                continue
            floats = self.symbol(symbol)
            if floats is None:
                return None
            before, high = floats[4], floats[5]
            quote = self._last_quote(symbol)
            if quote is not None:
                entry = self.quote(symbol, quote)
                if entry is None:
                    return None
                mark = entry[2] * pad
                total += before * (mark if mark > high else high)
            elif before != 0:
                if high == 0:
                    return None
                total += before * high
        return total

    def working_notional(self, exclude: str, pad: float) -> float | None:
        """Return an upper figure of the other symbols' share of ``ExposureMemo.working``.

        Each side's quantity at ``max(highest limit, far x pad)``: the gates value each
        order at the higher of its limit and the far price, and the highest limit bounds
        every order's, so this is the gates' value (all limits below the far price) or
        more. None when a symbol has no usable quote and market orders.
        """
        total = 0.0
        for symbol, buys, buy_high, buy_limits, sells, sell_high, sell_limits in self.working:
            if symbol == exclude:
                continue
            quote = self._last_quote(symbol)
            entry = None if quote is None else self.quote(symbol, quote)
            if entry is None:
                if buy_limits is None or sell_limits is None:
                    return None
                total += buy_limits + sell_limits
                continue
            far = entry[2] * pad
            total += buys * (far if far > buy_high else buy_high)
            far = entry[1] * pad
            total += sells * (far if far > sell_high else sell_high)
        return total

    def equity(self, exclude: str) -> tuple[float, float] | None:
        """Return the other symbols' positions' value at mid - cost, and its magnitude; None when one has no quote."""
        value = size = 0.0
        for symbol, quantity, size_q, cost, size_c in self.open:
            if symbol == exclude:
                continue
            quote = self._last_quote(symbol)
            entry = None if quote is None else self.quote(symbol, quote)
            if entry is None:
                return None
            mid = (entry[1] + entry[2]) * 0.5
            value += quantity * mid - cost
            size += size_q * mid + size_c
        return value, size
