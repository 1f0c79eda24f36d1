"""Every limit gate at its boundary: just under (or at) the cap allows, just over denies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from livegate.domain.enums import DenialCode
from livegate.risk import counters, limits
from livegate.risk.daily import DailyBook, EquityPeak, next_day_boundary_ms
from livegate.risk.exposure import pad_factor
from tests.risk.helpers import ETH, T0, add_position, add_working, context, intent, quote

D = Decimal
NO_PAD = pad_factor(None)


def code(deny: object) -> DenialCode | None:
    return None if deny is None else deny.code  # type: ignore[attr-defined]


# ---------------------------------------------------------------- order notional
@pytest.mark.parametrize(("cap", "expected"), [("600.00", None), ("599.99", DenialCode.ORDER_NOTIONAL_CAP)])
def test_order_notional_when_limit_order_at_or_over_cap_then_allows_or_denies(cap: str, expected: object) -> None:
    ctx = context(quote(bid="59999.9", ask="60000.0"))
    gate = limits.OrderNotionalGate(D(cap), NO_PAD)
    assert code(gate.check(intent("buy", "0.010", "60000.0"), ctx)) == expected


def test_order_notional_when_denied_then_detail_carries_the_numbers() -> None:
    ctx = context(quote(bid="61999.9", ask="62000.0"))
    deny = limits.OrderNotionalGate(D("10000"), NO_PAD).check(intent("buy", "0.200", "62000.0"), ctx)
    assert deny is not None
    assert deny.detail == "would be 12,400.00 USD > cap 10,000.00 USD"


@pytest.mark.parametrize(("cap", "expected"), [("600.60", None), ("600.59", DenialCode.ORDER_NOTIONAL_CAP)])
def test_order_notional_when_market_buy_then_checked_at_ask_plus_band(cap: str, expected: object) -> None:
    ctx = context(quote(bid="59999.9", ask="60000.0"))
    gate = limits.OrderNotionalGate(D(cap), pad_factor(D(10)))  # 60,000 x 1.001 x 0.010 = 600.60
    assert code(gate.check(intent("buy", "0.010"), ctx)) == expected


def test_order_notional_when_marketable_sell_limit_below_bid_then_valued_at_bid() -> None:
    ctx = context(quote(bid="60000.0", ask="60000.1"))
    gate = limits.OrderNotionalGate(D("599.99"), NO_PAD)
    assert code(gate.check(intent("sell", "0.010", "1.0"), ctx)) == DenialCode.ORDER_NOTIONAL_CAP


def test_order_notional_when_market_order_and_no_quote_then_denied_unknown_price() -> None:
    ctx = context()
    deny = limits.OrderNotionalGate(D("1000000"), NO_PAD).check(intent("buy", "0.010"), ctx)
    assert code(deny) == DenialCode.UNKNOWN_PRICE


# ---------------------------------------------------------------- symbol notional
@pytest.mark.parametrize(("cap", "expected"), [("1200.00", None), ("1199.99", DenialCode.SYMBOL_NOTIONAL_CAP)])
def test_symbol_notional_when_position_plus_working_plus_order_at_or_over_cap(cap: str, expected: object) -> None:
    ctx = context(quote(bid="59999.9", ask="60000.0"))
    add_position(ctx, "buy", "0.010", "59000.0")
    add_working(ctx, "buy", "0.005", "59990.0")
    gate = limits.SymbolNotionalGate(D(cap), NO_PAD)
    # (0.010 + 0.005 + 0.005) x 60,000.0 = 1,200.00
    assert code(gate.check(intent("buy", "0.005", "59995.0"), ctx)) == expected


def test_symbol_notional_when_order_reduces_then_allowed_even_above_cap() -> None:
    ctx = context(quote(bid="59999.9", ask="60000.0"))
    add_position(ctx, "buy", "0.100", "60000.0")
    gate = limits.SymbolNotionalGate(D("1000"), NO_PAD)
    assert gate.check(intent("sell", "0.010"), ctx) is None
    assert code(gate.check(intent("buy", "0.001"), ctx)) == DenialCode.SYMBOL_NOTIONAL_CAP


def test_symbol_notional_when_buy_only_offsets_working_sells_then_still_counts_its_own_side() -> None:
    ctx = context(quote(bid="59999.9", ask="60000.0"))
    add_working(ctx, "sell", "0.050", "60100.0")
    gate = limits.SymbolNotionalGate(D("1000"), NO_PAD)
    assert code(gate.check(intent("buy", "0.020", "60000.0"), ctx)) == DenialCode.SYMBOL_NOTIONAL_CAP


def test_symbol_notional_when_market_order_and_no_quote_then_denied_unknown_price() -> None:
    ctx = context()
    assert code(limits.SymbolNotionalGate(D("1e9"), NO_PAD).check(intent("sell", "0.010"), ctx)) == (
        DenialCode.UNKNOWN_PRICE
    )


# ---------------------------------------------------------------- gross notional
@pytest.mark.parametrize(("cap", "expected"), [("900.00", None), ("899.99", DenialCode.GROSS_NOTIONAL_CAP)])
def test_gross_notional_when_all_symbols_at_or_over_cap(cap: str, expected: object) -> None:
    ctx = context(quote(bid="59999.9", ask="60000.0"), quote(ETH, bid="2999.99", ask="3000.00"))
    add_position(ctx, "sell", "0.100", "3000.00", symbol=ETH)  # 300.00
    add_working(ctx, "buy", "0.005", "59000.0")  # 0.005 x 60,000 = 300.00
    gate = limits.GrossNotionalGate(D(cap), NO_PAD)
    assert code(gate.check(intent("buy", "0.005", "60000.0"), ctx)) == expected  # + 300.00


def test_gross_notional_when_other_symbol_has_no_quote_then_denied_unknown_price() -> None:
    ctx = context(quote())
    add_position(ctx, "buy", "0.100", "3000.00", symbol=ETH)
    deny = limits.GrossNotionalGate(D("1e9"), NO_PAD).check(intent("buy", "0.005"), ctx)
    assert code(deny) == DenialCode.UNKNOWN_PRICE


# ---------------------------------------------------------------- counts
def test_open_orders_when_at_cap_then_next_denied() -> None:
    ctx = context(quote())
    gate = limits.OpenOrdersGate(2)
    add_working(ctx, "buy", "0.001", "59000.0")
    assert gate.check(intent(), ctx) is None
    add_working(ctx, "buy", "0.001", "59000.0")
    assert code(gate.check(intent(), ctx)) == DenialCode.OPEN_ORDERS_CAP


def test_positions_count_when_cap_reached_then_new_symbol_denied_held_symbol_allowed() -> None:
    ctx = context(quote(), quote(ETH, bid="3000.00", ask="3000.01"))
    gate = limits.PositionsCountGate(1)
    assert gate.check(intent(symbol=ETH), ctx) is None
    add_position(ctx, "buy", "0.010", "60000.0")
    assert gate.check(intent(), ctx) is None
    assert code(gate.check(intent(symbol=ETH), ctx)) == DenialCode.POSITIONS_CAP


def test_allowlist_when_symbol_missing_then_denied() -> None:
    gate = limits.AllowlistGate(["btcusdt"])
    ctx = context(quote())
    assert gate.check(intent(), ctx) is None
    assert code(gate.check(intent(symbol=ETH), ctx)) == DenialCode.NOT_ALLOWLISTED


@pytest.mark.parametrize(("price", "expected"), [("60060.0", None), ("60060.1", DenialCode.PRICE_BAND)])
def test_price_band_when_limit_at_or_beyond_band_then_allows_or_denies(price: str, expected: object) -> None:
    ctx = context(quote(bid="59999.9", ask="60000.1"))  # mid 60,000.0; 10 bps = 60.0
    assert code(limits.PriceBandGate(D(10)).check(intent("buy", "0.001", price), ctx)) == expected


def test_reduce_only_when_it_would_flip_then_denied() -> None:
    ctx = context(quote())
    add_position(ctx, "buy", "0.010", "60000.0")
    gate = limits.ReduceOnlyGate()
    assert gate.check(intent("sell", "0.010", reduce_only=True), ctx) is None
    assert code(gate.check(intent("sell", "0.011", reduce_only=True), ctx)) == DenialCode.REDUCE_ONLY_VIOLATION
    assert code(gate.check(intent("buy", "0.001", reduce_only=True), ctx)) == DenialCode.REDUCE_ONLY_VIOLATION


# ---------------------------------------------------------------- counters with memory
def test_daily_order_count_when_cap_reached_then_denied_until_day_rolls() -> None:
    ctx = context(quote())
    daily = DailyBook("UTC")
    gate = counters.DailyOrderCountGate(2, daily)
    for _ in range(2):
        first = intent()
        assert gate.check(first, ctx) is None
        gate.record_approved(first, ctx)
    assert code(gate.check(intent(), ctx)) == DenialCode.DAILY_ORDER_COUNT_CAP
    tomorrow = next_day_boundary_ms(T0, daily._zone)
    assert gate.check(intent(ts=tomorrow), ctx) is None


def test_day_boundary_when_zone_is_new_york_then_rolls_at_local_midnight() -> None:
    from zoneinfo import ZoneInfo

    boundary = next_day_boundary_ms(T0, ZoneInfo("America/New_York"))
    assert boundary == 1_723_176_000_000  # 2024-08-09 04:00 UTC = 00:00 EDT


@pytest.mark.parametrize(("cap", "expected"), [("1200.00", None), ("1199.99", DenialCode.DAILY_TURNOVER_CAP)])
def test_daily_turnover_when_traded_plus_working_plus_order_at_or_over_cap(cap: str, expected: object) -> None:
    ctx = context(quote(bid="59999.9", ask="60000.0"))
    add_position(ctx, "buy", "0.010", "60000.0")  # 600 traded
    add_working(ctx, "sell", "0.005", "60000.0")  # 300 working (limit above bid)
    gate = counters.DailyTurnoverGate(D(cap), NO_PAD, DailyBook("UTC"))
    assert code(gate.check(intent("buy", "0.005", "60000.0"), ctx)) == expected  # + 300


def test_order_rate_when_cap_used_within_one_second_then_denied_then_allowed_after() -> None:
    ctx = context(quote())
    gate = counters.OrderRateGate(2)
    for ts in (T0, T0 + 500):
        approved = intent(ts=ts)
        assert gate.check(approved, ctx) is None
        gate.record_approved(approved, ctx)
    assert code(gate.check(intent(ts=T0 + 999), ctx)) == DenialCode.ORDER_RATE
    assert gate.check(intent(ts=T0 + 1000), ctx) is None


def test_duplicate_intent_when_same_order_inside_window_then_denied() -> None:
    ctx = context(quote())
    gate = counters.DuplicateIntentGate(1000)
    first = intent("buy", "0.010", "60000.0")
    gate.record_approved(first, ctx)
    assert code(gate.check(intent("buy", "0.010", "60000.0", ts=T0 + 999), ctx)) == DenialCode.DUPLICATE_INTENT
    assert gate.check(intent("buy", "0.010", "60000.0", ts=T0 + 1000), ctx) is None
    assert gate.check(intent("buy", "0.011", "60000.0", ts=T0 + 1), ctx) is None
    assert gate.check(intent("sell", "0.010", "60000.0", ts=T0 + 1), ctx) is None


def test_duplicate_intent_when_same_amounts_spelled_otherwise_then_denied() -> None:
    ctx = context(quote())
    gate = counters.DuplicateIntentGate(1000)
    gate.record_approved(intent("buy", "0.010", "60000.0"), ctx)
    for qty, price in [("0.01", "60000"), ("0.0100", "6E+4"), ("1.0E-2", "60000.00")]:
        assert code(gate.check(intent("buy", qty, price, ts=T0 + 1), ctx)) == DenialCode.DUPLICATE_INTENT
    assert gate.check(intent("buy", "0.0100001", "60000", ts=T0 + 1), ctx) is None
    assert gate.check(intent("buy", "0.01", "60000.1", ts=T0 + 1), ctx) is None


@pytest.mark.parametrize(("mark_bid", "expected"), [("59000.1", None), ("59000.0", DenialCode.DAILY_LOSS_LIMIT)])
def test_daily_loss_when_loss_just_under_or_at_limit(mark_bid: str, expected: object) -> None:
    # long 0.100 bought at 60,000 with 4.00 fees; mid = bid + 0.05
    ctx = context(quote(bid=mark_bid, ask=str(D(mark_bid) + D("0.1"))))
    add_position(ctx, "buy", "0.100", "60000.0", fee="4.00")
    gate = counters.DailyLossGate(D("103.99"), DailyBook("UTC"))
    # loss = (60,000 - mid) x 0.1 + 4: mid 59,000.15 -> 103.985 (< 103.99); mid 59,000.05 -> 103.995
    assert code(gate.check(intent("buy", "0.001"), ctx)) == expected
    assert gate.check(intent("sell", "0.010"), ctx) is None  # reducing is always allowed


def test_drawdown_when_fall_from_peak_reaches_limit_then_denied_not_measured_from_start() -> None:
    peak = EquityPeak()
    gate = counters.DrawdownGate(D("50"), peak)
    ctx = context(quote(bid="61000.0", ask="61000.1"))
    add_position(ctx, "buy", "0.100", "60000.0")
    assert gate.check(intent("buy", "0.001"), ctx) is None  # equity +100.005: the peak
    ctx.quotes.update(quote(bid="60500.1", ask="60500.2"))  # equity +50.015: 49.99 below peak
    assert gate.check(intent("buy", "0.001"), ctx) is None
    ctx.quotes.update(quote(bid="60499.9", ask="60500.0"))  # 50.01 below peak, still +49.995 from start
    assert code(gate.check(intent("buy", "0.001"), ctx)) == DenialCode.DRAWDOWN_LIMIT
    assert gate.check(intent("sell", "0.001"), ctx) is None
