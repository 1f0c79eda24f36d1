"""Compile a run of standard gates into the fast path's proof and record (:mod:`livegate.risk.fast_path`).

:func:`compile_run` binds each gate's parameters and state holders once and returns two
closures: ``prove`` (how many gates of the run allow an intent, judged with each gate's
own arithmetic and side effects) and ``record`` (the run's ``record_approved``). The
exactness argument is in :mod:`livegate.risk.fast_path`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from decimal import getcontext as precision
from typing import TypeVar

from livegate.domain.enums import OrderType, Side, TimeInForce, TradingState, VenueHealth
from livegate.domain.orders import OrderIntent
from livegate.risk import counters, limits
from livegate.risk.book_figures import BookFigures
from livegate.risk.fast_path_book import compile_book
from livegate.risk.fast_path_floats import (
    HIGH,
    LOW,
    MIN_PRECISION,
    SLACK,
    FloatBook,
    at_least,
    at_most,
    exact_float,
)
from livegate.risk.gate import Gate, RiskContext
from livegate.risk.killswitch import TradingStateGate, reduces_position
from livegate.risk.structural import StructuralGate
from livegate.risk.tripwires import MarketHoursGate, QuoteTripwireGate, VenueHealthGate

__all__ = ["compile_run", "pad_of"]

_ZERO = Decimal(0)
_LOW, _HIGH = LOW, HIGH
_TWICE = 2 * SLACK
_INF = float("inf")
_NAN = float("nan")
_BPS_F = 10_000.0
_BPS_2F = 20_000.0
#: |2 x limit - (bid + ask)| x 10,000 errs by at most a few ulps of (2 x limit + bid + ask) x 10,000.
_BAND_SLACK = _BPS_F * _TWICE
_BUY = Side.BUY
_LIMIT = OrderType.LIMIT
_IOC = TimeInForce.IOC
_ACTIVE = TradingState.ACTIVE
_HEALTHY = VenueHealth.HEALTHY

#: The gates judged by :mod:`livegate.risk.fast_path_book`, in chain order.
_BOOK_GATES = (
    limits.SymbolNotionalGate,
    limits.GrossNotionalGate,
    counters.DailyTurnoverGate,
    counters.DailyLossGate,
    counters.DrawdownGate,
)

#: The gates priced with a market-price pad; a fast path run holds one pad.
_PADDED = (limits.OrderNotionalGate, limits.SymbolNotionalGate, limits.GrossNotionalGate, counters.DailyTurnoverGate)

_G = TypeVar("_G")


def pad_of(gate: Gate) -> Decimal | None:
    """Return the market-price pad ``gate`` prices with, None for a gate without one."""
    return gate._memo.pad if isinstance(gate, _PADDED) else None


def compile_run(run: Sequence[Gate], ctx: RiskContext) -> Callable[[OrderIntent], int]:
    """Return the proof of ``run``: how many of its gates, counted from the first, allow an intent.

    ``run`` holds standard gates in chain order (see
    :func:`~livegate.risk.fast_path.find_fast_path`).

    The gates' parameters and state holders are bound once here; reading a gate's
    private fields is deliberate: the fast path is the same package's compiled form of
    those gates and must see exactly what they see.
    """
    index: dict[type, int] = {type(g): i for i, g in enumerate(run)}
    by_kind: dict[type, Gate] = {type(g): g for g in run}
    done = len(run)

    def find(kind: type[_G]) -> tuple[int, _G | None]:
        gate = by_kind.get(kind)
        return index.get(kind, done), gate if isinstance(gate, kind) else None

    i_state, g_state = find(TradingStateGate)
    i_struct, g_struct = find(StructuralGate)
    i_quote, g_quote = find(QuoteTripwireGate)
    i_hours, g_hours = find(MarketHoursGate)
    i_health, g_health = find(VenueHealthGate)
    i_allow, g_allow = find(limits.AllowlistGate)
    i_reduce, g_reduce = find(limits.ReduceOnlyGate)
    i_band, g_band = find(limits.PriceBandGate)
    i_dup, g_dup = find(counters.DuplicateIntentGate)
    i_rate, g_rate = find(counters.OrderRateGate)
    i_count, g_count = find(counters.DailyOrderCountGate)
    i_open, g_open = find(limits.OpenOrdersGate)
    i_held, g_held = find(limits.PositionsCountGate)
    i_order, g_order = find(limits.OrderNotionalGate)
    found = {kind: (i, gate) for kind, (i, gate) in ((type(g), (i, g)) for i, g in enumerate(run))}

    instruments = ctx.instruments
    quote_cache = ctx.quotes
    last_quote = quote_cache.latest.get  # QuoteCache.last without its call (the live map)
    portfolio = ctx.portfolio
    now_ms = ctx.clock.now_ms
    figures = BookFigures(portfolio)
    pads = [p for p in map(pad_of, run) if p is not None]
    pad = pads[0] if pads else Decimal(1)

    kill = g_state._kill if g_state is not None else None
    structural = g_struct is not None
    tripwire = g_quote is not None
    passed = g_quote._passed if g_quote is not None else {}
    max_age = g_quote._max_age_ms if g_quote is not None else None
    max_spread = g_quote._max_spread_bps if g_quote is not None else None
    hours_open = g_hours.is_open if g_hours is not None else None
    health = g_health._board.health if g_health is not None else None
    allowed = g_allow._allowed if g_allow is not None else None
    reduce_gate = g_reduce is not None
    band = g_band._band_bps if g_band is not None else None
    dup_window = g_dup._window_ms if g_dup is not None else 0
    rate_times = g_rate._times if g_rate is not None else None
    rate_cap = g_rate._cap if g_rate is not None else 0
    count_daily = g_count._daily if g_count is not None else None
    count_cap = g_count._cap if g_count is not None else 0
    open_cap = g_open._cap if g_open is not None else None
    held_cap = g_held._cap if g_held is not None else None
    order_cap = g_order._cap if g_order is not None else None
    # the gates after the order cap, which need the book and a quote (fast_path_book): the first of them
    i_priced = min(index.get(kind, done) for kind in _BOOK_GATES)
    priced = i_priced < done
    book = priced or order_cap is not None or open_cap is not None or held_cap is not None
    fbook = FloatBook(figures, last_quote)
    synced = -1  # the book version both figures were read at
    seen_quote: object = None  # the last quote seen and its prices as floats
    seen_bid = seen_ask = 0.0
    # the last bid and ask price objects converted and their floats: a feed reuses a price's object while
    # the price holds (a Decimal is immutable, so the same object has the same float)
    bid_obj: object = None
    ask_obj: object = None
    bid_f = ask_f = 0.0
    pad_f = float(pad)
    inst_floats: dict[str, tuple[object, float, float]] = {}
    spread_f = exact_float(max_spread) if max_spread is not None else None
    spread_lo = -_INF if spread_f is None else spread_f - _TWICE * (_BPS_2F + abs(spread_f))
    band_f = exact_float(band) if band is not None else None
    band_lo = -_INF if band_f is None else band_f - _TWICE * abs(band_f)
    order_lo = at_most(order_cap) if order_cap is not None else _INF
    prove_book = compile_book(found, done, ctx, figures, fbook, pad)

    def prove(intent: OrderIntent) -> int:
        nonlocal seen_quote, seen_bid, seen_ask, synced, bid_obj, ask_obj, bid_f, ask_f
        if kill is not None and kill.state is not _ACTIVE:
            return i_state
        if precision().prec < MIN_PRECISION:
            return 0
        symbol = intent.symbol
        quote = last_quote(symbol)
        qty = intent.quantity
        limit = intent.price
        buy = intent.side is _BUY
        flatten = intent.flatten and intent.reduce_only
        qf = float(qty)
        if not _LOW < qf < _HIGH:
            return 0
        bid = ask = 0.0
        if quote is not None:
            if quote is seen_quote:  # another intent on the same quote
                bid, ask = seen_bid, seen_ask
            else:
                q_bid, q_ask = quote[1], quote[3]  # bid and ask prices (a Quote is a named tuple)
                if q_bid is not bid_obj:
                    bid_obj, bid_f = q_bid, float(q_bid)
                if q_ask is not ask_obj:
                    ask_obj, ask_f = q_ask, float(q_ask)
                bid, ask = bid_f, ask_f
                if not _LOW < bid < ask < _HIGH:  # an unusable or locked quote: the gates judge
                    return 0
                seen_quote, seen_bid, seen_ask = quote, bid, ask
        lf = None  # float(limit)
        if limit is not None:
            if quote is not None and limit is quote[3]:  # the ask itself
                lf = ask
            elif quote is not None and limit is quote[1]:
                lf = bid
            else:
                lf = float(limit)
                if not _LOW < lf < _HIGH:
                    return 0
        if structural:  # StructuralGate
            instrument = instruments.get(symbol)
            if instrument is None:
                return i_struct
            if intent.order_type is _LIMIT:
                if limit is None or limit % instrument.tick_size:
                    return i_struct
            elif limit is not None or intent.post_only:
                return i_struct
            if intent.post_only and intent.time_in_force is _IOC:
                return i_struct
            if qty % instrument.lot_size:
                return i_struct
            floats = inst_floats.get(symbol)
            if floats is None or floats[0] is not instrument:
                floats = (instrument, float(instrument.min_quantity), at_least(instrument.min_notional))
                inst_floats[symbol] = floats
            if not qf > floats[1] and qty < instrument.min_quantity:
                return i_struct
            reference = lf
            if reference is None:
                if quote is None:
                    return i_struct
                reference = ask if buy else bid
            if not reference * qf >= floats[2]:
                exact_reference = limit if limit is not None else (quote[3] if buy else quote[1])  # type: ignore[index]
                if exact_reference * qty < instrument.min_notional:
                    return i_struct
        if tripwire:  # QuoteTripwireGate
            if quote is None:
                return i_quote
            known_good = passed.get(symbol) is quote
            if not known_good:
                if not (quote[2] > _ZERO and quote[4] > _ZERO):  # sizes; prices: finite, 0 < bid < ask above
                    return i_quote
            if max_age is not None:
                age = now_ms() - quote.ts_event_ms
                if age > max_age or age < -max_age:
                    return i_quote
            if not known_good:
                if max_spread is not None and not (ask - bid) * _BPS_2F <= spread_lo * (ask + bid):
                    return i_quote
                passed[symbol] = quote
        if hours_open is not None and not hours_open(now_ms()):
            return i_hours
        if health:
            instrument = instruments.get(symbol)
            if health.get(instrument.venue if instrument is not None else "", _HEALTHY) is not _HEALTHY:
                return i_health
        if allowed is not None and symbol not in allowed:
            return i_allow
        if reduce_gate and intent.reduce_only and not reduces_position(intent, ctx):
            return i_reduce
        if band is not None and lf is not None:
            if quote is None:
                return i_band
            both = bid + ask
            twice = lf * 2.0
            if not abs(twice - both) * _BPS_F + (twice + both) * _BAND_SLACK <= band_lo * both:
                return i_band
        ts = intent.ts_ms
        if g_dup is not None and not flatten:
            key = (symbol, buy, qf, lf)  # counters.duplicate_key, inline
            approvals = g_dup._last.get(key)
            g_dup._key, g_dup._key_for, g_dup._found = key, intent, approvals
            if approvals is not None:
                for q, p, at in approvals:  # counters.approved_at, the window first (no Decimal compare when passed)
                    if ts - at < dup_window and q == qty and p == limit:
                        return i_dup
        if rate_times is not None and not flatten:
            horizon = ts - 1000  # counters: the sliding 1,000 ms window
            while rate_times and rate_times[0] <= horizon:
                rate_times.popleft()
            if not len(rate_times) < rate_cap:
                return i_rate
        if count_daily is not None:
            if ts >= count_daily.next_boundary_ms:
                count_daily.roll(ts, portfolio, quote_cache)
            if not (count_daily.orders_today < count_cap or flatten):
                return i_count
        if not book:
            return done
        if portfolio.version != synced:
            figures.sync()
            fbook.sync()
            synced = figures.version
        if open_cap is not None and not figures.working_count < open_cap:
            return i_open
        if held_cap is not None:
            exposed = figures.exposed
            if symbol not in exposed and not len(exposed) < held_cap:
                return i_held
        price = lf  # exposure.intent_price: max(limit, far), far x pad for a market order
        if quote is not None:
            far = ask if buy else bid
            if lf is None:
                price = far * pad_f
            elif not lf > far:
                price = far
        if order_cap is not None:
            if price is None or not qf * price <= order_lo:
                return i_order
        if not priced:
            return done
        return prove_book(symbol, quote, bid, ask, qf, lf, price, buy, flatten, ts, synced)

    return prove
