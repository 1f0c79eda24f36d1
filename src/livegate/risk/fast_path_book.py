"""The fast path's book gates on floats: symbol and gross exposure, daily turnover, daily loss, drawdown.

:func:`compile_book` binds these gates' caps and state holders once and returns
``prove_book``, the part of the proof (:mod:`livegate.risk.fast_path_compile`) that needs
the book: it runs after the order-notional cap with the intent's amounts already as
floats, and returns how many gates of the run allow (the index of the first gate it
cannot prove, or the run's length). The float arithmetic and its slack are those of
:mod:`livegate.risk.fast_path_floats`; a new equity peak (gate state) is computed exactly
in Decimal (:mod:`livegate.risk.fast_path_sums`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from livegate.domain.market import Quote
from livegate.risk import counters, limits
from livegate.risk.book_figures import BookFigures
from livegate.risk.fast_path_floats import SLACK, FloatBook, at_most, exact_float, float_or_nan, limit_lines
from livegate.risk.fast_path_sums import exact_equity
from livegate.risk.gate import Gate, RiskContext

__all__ = ["BookProof", "compile_book"]

_ZERO = Decimal(0)
_NAN = float("nan")
_INF = float("inf")
_TWICE = 2 * SLACK
#: "Does not grow" is proven only clear of the slack: 2 x the side (a Decimal, rounded) may sit a
#: last digit off the exact figure, and only the wrong "does not grow" would skip a cap.
_BELOW = 1 - _TWICE

#: ``prove_book(symbol, quote, bid, ask, quantity, limit, price, buy, flatten, ts_ms, version)``:
#: the intent's symbol and last quote, bid and ask, quantity, limit (None: market) and
#: conservative price (None: unknown) as floats, its side and flatten flag, its time
#: (ms) and the book version the figures were read at.
BookProof = Callable[[str, Quote | None, float, float, float, float | None, float | None, bool, bool, int, int], int]


def compile_book(
    found: Mapping[type, tuple[int, Gate]],
    done: int,
    ctx: RiskContext,
    figures: BookFigures,
    fbook: FloatBook,
    pad: Decimal,
) -> BookProof:
    """Return ``prove_book`` for the book gates of a run.

    ``found`` maps each standard gate class of the run to its index in the run and the
    gate; ``done`` is the run's length; ``figures`` and ``fbook`` are the book's
    figures (synced by the caller), ``pad`` the notional gates' market-price pad.
    """

    def find(kind: type) -> tuple[int, Gate | None]:
        index, gate = found.get(kind, (done, None))
        return index, gate

    i_symbol, g_symbol = find(limits.SymbolNotionalGate)
    i_gross, g_gross = find(limits.GrossNotionalGate)
    i_turn, g_turn = find(counters.DailyTurnoverGate)
    i_loss, g_loss = find(counters.DailyLossGate)
    i_draw, g_draw = find(counters.DrawdownGate)
    portfolio = ctx.portfolio
    quote_cache = ctx.quotes
    equity_exact = exact_equity(figures, quote_cache.latest.get)
    pad_f = float(pad)
    symbol_cap = g_symbol._cap if isinstance(g_symbol, limits.SymbolNotionalGate) else None
    gross_cap = g_gross._cap if isinstance(g_gross, limits.GrossNotionalGate) else None
    turn_daily = g_turn._daily if isinstance(g_turn, counters.DailyTurnoverGate) else None
    turn_lo = at_most(g_turn._cap) if isinstance(g_turn, counters.DailyTurnoverGate) else _INF
    loss_daily = g_loss._daily if isinstance(g_loss, counters.DailyLossGate) else None
    # -pnl < limit <=> pnl > -limit
    floor_f = float_or_nan(g_loss._limit.copy_negate()) if isinstance(g_loss, counters.DailyLossGate) else _NAN
    peak = g_draw._peak if isinstance(g_draw, counters.DrawdownGate) else None
    draw_limit = g_draw._limit if isinstance(g_draw, counters.DrawdownGate) else _ZERO
    symbol_lo = at_most(symbol_cap) if symbol_cap is not None else _INF
    gross_lo = at_most(gross_cap) if gross_cap is not None else _INF
    draw_lo = at_most(draw_limit)
    i_unpriced = i_symbol if g_symbol is not None else i_gross
    i_equity = i_loss if loss_daily is not None else i_draw
    i_priced = min(i_symbol, i_gross, i_turn, i_loss, i_draw)  # the first book gate of the run
    # DailyBook.turnover_today's operands (by identity: each is replaced, never mutated) and its value
    seen_carried: object = None
    seen_traded: object = None
    seen_start: object = None
    seen_today = _NAN
    # the loss and drawdown limits as lines in the mid price, and what they were drawn from
    lines = (_NAN,) * 6
    lines_version = -1
    lines_symbol = ""
    # the objects they were drawn from, compared by identity (each is replaced, never mutated; a replaced
    # equal value only redraws): the day's carried budgets and start equity, the equity peak and its offset
    seen_loss_carried: object = None
    seen_loss_start: object = None
    seen_peak: object = None
    seen_offset: object = None
    # the last exact day PnL the drawdown check computed, and what it was computed from
    memo_version = -1
    memo_offset: object = None
    memo_symbol = ""
    memo_bid = memo_ask = memo_value = _ZERO

    def prove_book(
        symbol: str,
        quote: Quote | None,
        bid: float,
        ask: float,
        qf: float,
        lf: float | None,
        price: float | None,
        buy: bool,
        flatten: bool,
        ts: int,
        synced: int,
    ) -> int:
        nonlocal seen_carried, seen_traded, seen_start, seen_today
        nonlocal lines, lines_version, lines_symbol
        nonlocal seen_loss_carried, seen_loss_start, seen_peak, seen_offset
        nonlocal memo_version, memo_offset, memo_symbol, memo_bid, memo_ask, memo_value
        own = fbook.owns.get(symbol) or fbook.own(symbol)
        if own is None or quote is None:
            return i_priced
        (
            long_side,
            short_side,
            long_twice,
            short_twice,
            before,
            high,
            buys,
            buy_high,
            sells,
            sell_high,
            equity_rest,
            equity_size,
            held,
            held_size,
            other_working,
            other_open,
            other_exposed,
        ) = own
        if symbol_cap is not None or gross_cap is not None:  # exposure.symbol_exposure with the intent
            # |side + intent| > |side|: always when the side is flat or on the intent's side, else past twice it
            if buy:
                grows = long_side >= 0.0 or qf > long_twice
                after = long_side + qf
                if not grows and not qf < long_twice * _BELOW:
                    return i_unpriced  # a tie: the gates judge
            else:
                grows = short_side <= 0.0 or qf > short_twice
                after = qf - short_side
                if not grows and not qf < short_twice * _BELOW:
                    return i_unpriced
            if grows:
                mark = ask * pad_f
                own_price = mark if mark > high else high
                if lf is not None and lf > own_price:
                    own_price = lf
                if not after * own_price <= symbol_lo:
                    return i_symbol
                if gross_cap is not None:
                    total = (after if after > before else before) * own_price
                    if other_exposed:  # other symbols' exposure to add
                        others = fbook.others(symbol, pad_f)
                        if others is None:
                            return i_gross
                        total += others
                    if not total <= gross_lo:
                        return i_gross
        if turn_daily is not None and not flatten:
            if ts >= turn_daily.next_boundary_ms:
                turn_daily.roll(ts, portfolio, quote_cache)
            if price is None:
                return i_turn
            # ExposureMemo.working, an upper figure: each side at max(highest limit, far x pad)
            far = ask * pad_f
            working = buys * (far if far > buy_high else buy_high)
            far = bid * pad_f
            working += sells * (far if far > sell_high else sell_high)
            if other_working:
                others = fbook.working_notional(symbol, pad_f)
                if others is None:
                    return i_turn
                working += others
            carried, traded, start = turn_daily._carried, figures.turnover, turn_daily.day_start_turnover
            if seen_carried is not carried or seen_traded is not traded or seen_start is not start:
                today = exact_float(carried.turnover_usd + traded - start)  # DailyBook.turnover_today
                seen_today = _NAN if today is None or today < 0.0 else today
                seen_carried, seen_traded, seen_start = carried, traded, start
            if not seen_today + working + qf * price <= turn_lo:
                return i_turn
        if loss_daily is not None or peak is not None:
            if loss_daily is not None:
                if ts >= loss_daily.next_boundary_ms:
                    loss_daily.roll(ts, portfolio, quote_cache)
                if loss_daily.day_start_equity is None:  # the gate takes the baseline now (a side effect): it judges
                    return i_loss
            # Portfolio.equity_pnl at mid is equity_rest + held x mid (magnitude equity_size + held_size x mid)
            # plus the other symbols' share; both limits become "a + b x mid" against 0 (see _limit_lines)
            if (
                other_open
                or lines_version != synced
                or lines_symbol != symbol
                or (
                    loss_daily is not None
                    and (
                        seen_loss_carried is not loss_daily._carried
                        or seen_loss_start is not loss_daily.day_start_equity
                    )
                )
                or (peak is not None and (seen_peak is not peak.peak or seen_offset is not peak.offset))
            ):
                e0, s0 = equity_rest, equity_size
                if other_open:
                    rest = fbook.equity(symbol)
                    if rest is None:
                        return i_equity
                    e0, s0 = e0 + rest[0], s0 + rest[1]
                if loss_daily is not None:
                    seen_loss_carried, seen_loss_start = loss_daily._carried, loss_daily.day_start_equity
                if peak is not None:
                    seen_peak, seen_offset = peak.peak, peak.offset
                loss_from, peak_from = (seen_loss_carried, seen_loss_start), (seen_peak, seen_offset)
                lines = limit_lines(e0, s0, held, held_size, loss_from, peak_from, floor_f, draw_lo)
                lines_version, lines_symbol = synced, symbol
            mid = (bid + ask) * 0.5
            loss_a, loss_b, up_a, up_b, draw_a, draw_b = lines
            if loss_daily is not None and not loss_a + loss_b * mid > 0.0:  # DailyBook.pnl_from > -limit
                return i_loss
            if peak is not None:
                if not (up_a + up_b * mid < 0.0 and draw_a + draw_b * mid <= 0.0):  # EquityPeak.drawdown
                    # a new peak is possible (gate state: the exact Decimal), or the limit is close: exactly.
                    # The book's equity depends only on this quote when it holds no other symbol: the same
                    # book, offset and prices as the last exact figure give that figure again (at a peak, often).
                    if (
                        synced == memo_version
                        and peak.offset is memo_offset
                        and symbol == memo_symbol
                        and not other_open
                        and quote[1] == memo_bid
                        and quote[3] == memo_ask
                    ):
                        exact_value = memo_value
                    else:
                        exact = equity_exact(symbol, quote)
                        if exact is None:
                            return i_draw
                        exact_value = exact + peak.offset
                        memo_version, memo_offset, memo_symbol = synced, peak.offset, symbol
                        memo_bid, memo_ask, memo_value = quote[1], quote[3], exact_value
                    if exact_value > peak.peak:
                        peak.peak = exact_value
                    if not peak.peak - exact_value < draw_limit:
                        return i_draw
        return done

    return prove_book
