"""Compile a run of standard gates into the fast path's proof and record (:mod:`livegate.risk.fast_path`).

:func:`compile_run` binds each gate's parameters and state holders once and returns two
closures: ``prove`` (how many gates of the run allow an intent, judged with each gate's
own arithmetic and side effects) and ``record`` (the run's ``record_approved``). The
exactness argument is in :mod:`livegate.risk.fast_path`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar

from livegate.domain.enums import OrderType, Side, TimeInForce, TradingState, VenueHealth
from livegate.domain.orders import OrderIntent
from livegate.risk import counters, limits
from livegate.risk.book_figures import BookFigures
from livegate.risk.fast_path_sums import book_sums
from livegate.risk.gate import Gate, RiskContext
from livegate.risk.killswitch import TradingStateGate, reduces_position
from livegate.risk.structural import StructuralGate
from livegate.risk.tripwires import MarketHoursGate, QuoteTripwireGate, VenueHealthGate

__all__ = ["compile_run", "pad_of"]

_ZERO = Decimal(0)
_TWO = Decimal(2)
_BPS = Decimal(10_000)
_TWO_BPS = Decimal(20_000)
_BUY = Side.BUY
_LIMIT = OrderType.LIMIT
_IOC = TimeInForce.IOC
_ACTIVE = TradingState.ACTIVE
_HEALTHY = VenueHealth.HEALTHY

#: The gates priced with a market-price pad; a fast path run holds one pad.
_PADDED = (limits.OrderNotionalGate, limits.SymbolNotionalGate, limits.GrossNotionalGate, counters.DailyTurnoverGate)

_G = TypeVar("_G")


def pad_of(gate: Gate) -> Decimal | None:
    """Return the market-price pad ``gate`` prices with, None for a gate without one."""
    return gate._memo.pad if isinstance(gate, _PADDED) else None


def compile_run(
    run: Sequence[Gate], ctx: RiskContext
) -> tuple[Callable[[OrderIntent], int], Callable[[OrderIntent], None]]:
    """Return the proof and the record of ``run``.

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
    i_symbol, g_symbol = find(limits.SymbolNotionalGate)
    i_gross, g_gross = find(limits.GrossNotionalGate)
    i_turn, g_turn = find(counters.DailyTurnoverGate)
    i_loss, g_loss = find(counters.DailyLossGate)
    i_draw, g_draw = find(counters.DrawdownGate)

    instruments = ctx.instruments
    quote_cache = ctx.quotes
    last_quote = quote_cache.last
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
    symbol_cap = g_symbol._cap if g_symbol is not None else None
    gross_cap = g_gross._cap if g_gross is not None else None
    turn_daily = g_turn._daily if g_turn is not None else None
    turn_cap = g_turn._cap if g_turn is not None else _ZERO
    loss_daily = g_loss._daily if g_loss is not None else None
    loss_floor = g_loss._limit.copy_negate() if g_loss is not None else _ZERO  # -pnl < limit <=> pnl > -limit
    peak = g_draw._peak if g_draw is not None else None
    draw_limit = g_draw._limit if g_draw is not None else _ZERO
    i_unpriced = i_symbol if g_symbol is not None else i_gross
    exposure = order_cap is not None or symbol_cap is not None or gross_cap is not None or turn_daily is not None
    book = exposure or open_cap is not None or held_cap is not None or loss_daily is not None or peak is not None
    # DailyBook.turnover_today's operands (by identity: each is replaced, never mutated) and its value
    seen_carried: object = None
    seen_traded: object = None
    seen_start: object = None
    seen_today = _ZERO

    _others, _working, _equity = book_sums(figures, last_quote, pad, portfolio)

    def prove(intent: OrderIntent) -> int:
        nonlocal seen_carried, seen_traded, seen_start, seen_today
        if kill is not None and kill.state is not _ACTIVE:
            return i_state
        symbol = intent.symbol
        quote = last_quote(symbol)
        qty = intent.quantity
        limit = intent.price
        buy = intent.side is _BUY
        flatten = intent.flatten and intent.reduce_only
        both = None  # bid + ask of ``quote``, once computed
        if structural:  # StructuralGate
            instrument = instruments.get(symbol)
            if instrument is None or not qty.is_finite() or qty <= _ZERO:
                return i_struct
            if intent.order_type is _LIMIT:
                if limit is None or not limit.is_finite() or limit <= _ZERO or limit % instrument.tick_size:
                    return i_struct
            elif limit is not None or intent.post_only:
                return i_struct
            if intent.post_only and intent.time_in_force is _IOC:
                return i_struct
            if qty % instrument.lot_size or qty < instrument.min_quantity:
                return i_struct
            reference = limit
            if reference is None:
                if quote is None:
                    return i_struct
                reference = quote.ask_price if buy else quote.bid_price
            if reference * qty < instrument.min_notional:
                return i_struct
        if tripwire:  # QuoteTripwireGate
            if quote is None:
                return i_quote
            known_good = passed.get(symbol) is quote
            if not known_good:
                bid, ask = quote.bid_price, quote.ask_price
                if not (
                    bid.is_finite()
                    and ask.is_finite()
                    and _ZERO < bid < ask
                    and quote.bid_size > _ZERO
                    and quote.ask_size > _ZERO
                ):
                    return i_quote
            if max_age is not None:
                age = now_ms() - quote.ts_event_ms
                if age > max_age or age < -max_age:
                    return i_quote
            if not known_good:
                if max_spread is not None:
                    both = ask + bid
                    if (ask - bid) * _TWO_BPS > max_spread * both:
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
        if band is not None and limit is not None:
            if quote is None:
                return i_band
            if both is None:
                both = quote.bid_price + quote.ask_price
            if not abs(limit * _TWO - both) * _BPS <= band * both:
                return i_band
        ts = intent.ts_ms
        if g_dup is not None and not flatten:
            key = (symbol, intent.side, qty, limit)  # counters.duplicate_key, inline
            g_dup._key, g_dup._key_for = key, intent
            last = g_dup._last.get(key)
            if last is not None and not ts - last >= dup_window:
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
        if portfolio.version != figures.version:
            figures.sync()
        if open_cap is not None and not figures.working_count < open_cap:
            return i_open
        if held_cap is not None:
            exposed = figures.exposed
            if symbol not in exposed and not len(exposed) < held_cap:
                return i_held
        mark = None  # ask x pad of ``quote``, once computed
        if exposure:
            price = limit  # exposure.intent_price
            if quote is not None:
                far = quote.ask_price if buy else quote.bid_price
                if limit is None:
                    price = far * pad
                elif not limit > far:
                    price = far
            notional = None
            if order_cap is not None:
                if price is None:
                    return i_order
                notional = qty * price
                if not notional <= order_cap:
                    return i_order
            if symbol_cap is not None or gross_cap is not None:  # exposure.symbol_exposure with the intent
                long_side, short_side, long_abs, short_abs, before, high = figures.symbols.get(
                    symbol
                ) or figures.symbol(symbol)
                if buy:
                    after = abs(long_side + qty)
                    grows = after > long_abs
                else:
                    after = abs(short_side - qty)
                    grows = after > short_abs
                if limit is not None and limit > high:
                    high = limit
                if quote is not None:
                    mark = quote.ask_price * pad
                    own_price = mark if mark > high else high
                elif before == _ZERO and after == _ZERO:
                    own_price = _ZERO
                elif high == _ZERO or limit is None:
                    return i_unpriced
                else:
                    own_price = high
                if grows:
                    if symbol_cap is not None and not after * own_price <= symbol_cap:
                        return i_symbol
                    if gross_cap is not None:
                        total = (after if after > before else before) * own_price
                        exposed = figures.exposed
                        if len(exposed) > 1 or symbol not in exposed:  # other symbols' exposure to add
                            others = _others(symbol)
                            if others is None:
                                return i_gross
                            if others:
                                total = total + others
                        if not total <= gross_cap:
                            return i_gross
            if turn_daily is not None and not flatten:
                if ts >= turn_daily.next_boundary_ms:
                    turn_daily.roll(ts, portfolio, quote_cache)
                working = _working(symbol, quote, mark)
                if price is None or working is None:
                    return i_turn
                carried, traded, start = turn_daily._carried, figures.turnover, turn_daily.day_start_turnover
                if seen_carried is not carried or seen_traded is not traded or seen_start is not start:
                    seen_today = carried.turnover_usd + traded - start  # DailyBook.turnover_today
                    seen_carried, seen_traded, seen_start = carried, traded, start
                total = seen_today + working + (notional if notional is not None else qty * price)
                if not total <= turn_cap:
                    return i_turn
        if loss_daily is not None or peak is not None:
            equity = _equity(symbol, quote, both)
            if loss_daily is not None:
                if ts >= loss_daily.next_boundary_ms:
                    loss_daily.roll(ts, portfolio, quote_cache)
                if equity is None:
                    return i_loss
                day_start = loss_daily.day_start_equity
                pnl: Decimal | None
                if day_start is None:
                    pnl = loss_daily.pnl_from(equity)
                else:
                    pnl = loss_daily._carried.pnl_usd + equity - day_start  # DailyBook.pnl_from
                if pnl is None or not pnl > loss_floor:
                    return i_loss
            if peak is not None:
                if equity is None:
                    return i_draw
                value = equity + peak.offset  # EquityPeak.drawdown
                if value > peak.peak:
                    peak.peak = value
                if not peak.peak - value < draw_limit:
                    return i_draw
        return done

    def record(intent: OrderIntent) -> None:
        ts = intent.ts_ms
        if g_dup is not None:  # DuplicateIntentGate.record_approved
            key = g_dup._key
            if key is None or g_dup._key_for is not intent:  # a flatten passed without building its key
                key = counters.duplicate_key(intent)
            g_dup.remember(key, ts)
        if rate_times is not None:  # OrderRateGate.record_approved
            rate_times.append(ts)
        if count_daily is not None:  # DailyOrderCountGate.record_approved
            count_daily.count_order()

    return prove, record
