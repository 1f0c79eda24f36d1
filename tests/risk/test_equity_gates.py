"""Equity gates as specifications: regular hours (incl. an early close), shorts, fractions, pattern day trading."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import DenialCode, OrderType
from livegate.domain.orders import OrderIntent
from livegate.risk.fractional_gate import FractionalGate
from livegate.risk.gate import RiskContext
from livegate.risk.market_hours_gate import EquitySessions, MarketPhase, RegularHoursGate
from livegate.risk.pdt import PdtAccount, PdtGuard, business_days_between
from livegate.risk.short_gate import ShortSaleGate
from tests.risk.helpers import add_position, add_working, context, intent

D = Decimal
NY = ZoneInfo("America/New_York")
SPY = "BTCUSDT"  # the helpers' instrument table; the gates read only symbol, side, quantity and type


def ny_ms(day: str, hh: int, mm: int) -> int:
    """Return ms since the epoch of ``day`` ``hh:mm`` New York time."""
    y, m, d = (int(x) for x in day.split("-"))
    return int(dt.datetime(y, m, d, hh, mm, tzinfo=NY).timestamp() * 1000)


def at(ctx: RiskContext, ms: int) -> RiskContext:
    return dataclasses.replace(ctx, clock=ReplayClock(ms))


@pytest.fixture(scope="module")
def sessions() -> EquitySessions:
    return EquitySessions("XNYS")


def limit(side: str = "buy", qty: str = "1", *, outside_rth: bool = False) -> OrderIntent:
    return dataclasses.replace(intent(side, qty, "100.00", tif="gtc"), outside_rth=outside_rth)


# ------------------------------------------------------------------ regular trading hours
@pytest.mark.parametrize(
    ("day", "hh", "mm", "phase"),
    [
        ("2026-12-02", 10, 0, MarketPhase.REGULAR),  # a Wednesday mid-morning
        ("2026-12-02", 9, 29, MarketPhase.EXTENDED),  # one minute before the open
        ("2026-12-02", 16, 0, MarketPhase.EXTENDED),  # the close itself is after-hours
        ("2026-12-02", 20, 0, MarketPhase.CLOSED),
        ("2026-12-02", 3, 59, MarketPhase.CLOSED),
        ("2026-12-05", 11, 0, MarketPhase.CLOSED),  # Saturday
        ("2026-11-26", 11, 0, MarketPhase.CLOSED),  # Thanksgiving
        ("2026-11-27", 12, 59, MarketPhase.REGULAR),  # day after Thanksgiving: early close 13:00
        ("2026-11-27", 13, 0, MarketPhase.EXTENDED),
        ("2026-11-27", 17, 0, MarketPhase.CLOSED),  # late session ends 17:00 after an early close
    ],
)
def test_equity_sessions_when_moment_given_then_phase_follows_xnys_with_early_closes(
    sessions: EquitySessions, day: str, hh: int, mm: int, phase: MarketPhase
) -> None:
    assert sessions.phase(ny_ms(day, hh, mm)) is phase


def test_regular_hours_gate_when_regular_session_then_allows(sessions: EquitySessions) -> None:
    gate = RegularHoursGate(sessions, allow_outside_rth=False)
    assert gate.check(limit(), at(context(), ny_ms("2026-12-02", 10, 0))) is None


def test_regular_hours_gate_when_early_close_day_after_13_00_then_denies_outside_rth(
    sessions: EquitySessions,
) -> None:
    gate = RegularHoursGate(sessions, allow_outside_rth=False)
    deny = gate.check(limit(), at(context(), ny_ms("2026-11-27", 13, 30)))
    assert deny is not None and deny.code is DenialCode.OUTSIDE_RTH
    assert "does not set outside_rth" in deny.detail
    # the same minute on a full day is regular
    assert gate.check(limit(), at(context(), ny_ms("2026-12-02", 13, 30))) is None


def test_regular_hours_gate_when_outside_rth_limit_in_extended_session_and_allowed_then_allows(
    sessions: EquitySessions,
) -> None:
    ctx = at(context(), ny_ms("2026-12-02", 7, 30))
    assert RegularHoursGate(sessions, allow_outside_rth=True).check(limit(outside_rth=True), ctx) is None
    refused = RegularHoursGate(sessions, allow_outside_rth=False).check(limit(outside_rth=True), ctx)
    assert refused is not None and refused.code is DenialCode.OUTSIDE_RTH and "allow_outside_rth" in refused.detail
    market = dataclasses.replace(limit(outside_rth=True), order_type=OrderType.MARKET, price=None)
    refused = RegularHoursGate(sessions, allow_outside_rth=True).check(market, ctx)
    assert refused is not None and "only limit orders" in refused.detail


def test_regular_hours_gate_when_holiday_then_denies_market_closed_even_outside_rth_and_logs_once(
    sessions: EquitySessions, caplog: pytest.LogCaptureFixture
) -> None:
    gate = RegularHoursGate(sessions, allow_outside_rth=True)
    ctx = at(context(), ny_ms("2026-11-26", 11, 0))
    with caplog.at_level(logging.INFO, logger="livegate.risk.equity"):
        for _ in range(3):
            deny = gate.check(limit(outside_rth=True), ctx)
            assert deny is not None and deny.code is DenialCode.MARKET_CLOSED
    lines = [r.getMessage() for r in caplog.records if r.name == "livegate.risk.equity"]
    assert lines == [f"equity gate MARKET_CLOSED symbol={SPY}: XNYS is closed (no regular or extended session now)"]


# ------------------------------------------------------------------ shorts
def test_short_sale_gate_when_sell_within_position_then_allows() -> None:
    ctx = context()
    add_position(ctx, "buy", "5", "100.0")
    assert ShortSaleGate().check(intent("sell", "5", "100.0"), ctx) is None


def test_short_sale_gate_when_sell_would_open_short_then_denies() -> None:
    deny = ShortSaleGate().check(intent("sell", "1", "100.0"), context())
    assert deny is not None and deny.code is DenialCode.SHORT_NOT_ALLOWED
    assert "allow_short is off" in deny.detail


def test_short_sale_gate_when_working_sells_plus_new_sell_cross_zero_then_denies() -> None:
    ctx = context()
    add_position(ctx, "buy", "5", "100.0")
    add_working(ctx, "sell", "4", "101.0")
    deny = ShortSaleGate().check(intent("sell", "2", "101.0"), ctx)
    assert deny is not None and "would leave -1" in deny.detail


def test_short_sale_gate_when_buy_then_allows_even_when_flat() -> None:
    assert ShortSaleGate().check(intent("buy", "3", "100.0"), context()) is None


# ------------------------------------------------------------------ fractional shares
def test_fractional_gate_when_whole_shares_then_allows() -> None:
    assert FractionalGate(False, []).check(intent("buy", "3", "100.0"), context()) is None


def test_fractional_gate_when_fraction_and_not_allowed_then_denies() -> None:
    deny = FractionalGate(False, [SPY]).check(intent("buy", "0.5", "100.0"), context())
    assert deny is not None and deny.code is DenialCode.FRACTIONAL_NOT_ALLOWED
    assert "allow_fractional is off" in deny.detail


def test_fractional_gate_when_allowed_but_symbol_not_fractionable_then_denies() -> None:
    deny = FractionalGate(True, ["OTHER"]).check(intent("buy", "0.5", "100.0"), context())
    assert deny is not None and "does not take fractional" in deny.detail


def test_fractional_gate_when_allowed_and_fractionable_then_allows() -> None:
    assert FractionalGate(True, [SPY]).check(intent("buy", "0.5", "100.0"), context()) is None


# ------------------------------------------------------------------ pattern day trader
SMALL_MARGIN = PdtAccount(equity_usd=D("10000"), margin=True, day_trades=0)


def guard(account: PdtAccount | None = SMALL_MARGIN) -> PdtGuard:
    return PdtGuard(account, D("25000"), 3, 5)


def round_trip(g: PdtGuard, ctx: RiskContext) -> None:
    """Open 1 share and close it the same day through the guard (as the pipeline would)."""
    buy = intent("buy", "1", "100.0")
    assert g.check(buy, ctx) is None
    g.record_approved(buy, ctx)
    add_position(ctx, "buy", "1", "100.0")
    sell = intent("sell", "1", "100.0")
    assert g.check(sell, ctx) is None
    g.record_approved(sell, ctx)
    add_position(ctx, "sell", "1", "100.0")


def test_pdt_guard_when_fourth_day_trade_in_small_margin_account_then_denies() -> None:
    g = guard()
    ctx = at(context(), ny_ms("2026-12-02", 10, 0))
    for _ in range(3):
        round_trip(g, ctx)
    buy = intent("buy", "1", "100.0")
    assert g.check(buy, ctx) is None  # opening is never a day trade
    g.record_approved(buy, ctx)
    add_position(ctx, "buy", "1", "100.0")
    deny = g.check(intent("sell", "1", "100.0"), ctx)
    assert deny is not None and deny.code is DenialCode.PATTERN_DAY_TRADER
    assert "day trade 4 within 5 business days > 3 allowed" in deny.detail


def test_pdt_guard_when_venue_already_counts_three_day_trades_then_first_session_day_trade_denied() -> None:
    g = guard(dataclasses.replace(SMALL_MARGIN, day_trades=3))
    ctx = at(context(), ny_ms("2026-12-02", 10, 0))
    buy = intent("buy", "1", "100.0")
    g.record_approved(buy, ctx)
    add_position(ctx, "buy", "1", "100.0")
    deny = g.check(intent("sell", "1", "100.0"), ctx)
    assert deny is not None and deny.code is DenialCode.PATTERN_DAY_TRADER


def test_pdt_guard_when_position_opened_on_an_earlier_day_then_closing_is_not_a_day_trade() -> None:
    g = guard(dataclasses.replace(SMALL_MARGIN, day_trades=3))
    ctx = at(context(), ny_ms("2026-12-01", 10, 0))
    buy = intent("buy", "1", "100.0")
    g.record_approved(buy, ctx)
    add_position(ctx, "buy", "1", "100.0")
    next_day = at(ctx, ny_ms("2026-12-02", 10, 0))
    assert g.check(intent("sell", "1", "100.0"), next_day) is None


@pytest.mark.parametrize(
    "account",
    [
        PdtAccount(equity_usd=D("25000"), margin=True, day_trades=9),  # at the minimum
        PdtAccount(equity_usd=D("1000"), margin=False, day_trades=9),  # cash account
    ],
)
def test_pdt_guard_when_account_exempt_then_allows_any_day_trade(account: PdtAccount) -> None:
    g = guard(account)
    ctx = at(context(), ny_ms("2026-12-02", 10, 0))
    for _ in range(5):
        round_trip(g, ctx)


def test_pdt_guard_when_account_unknown_then_denies_day_trades_but_not_openings() -> None:
    g = guard(None)
    ctx = at(context(), ny_ms("2026-12-02", 10, 0))
    buy = intent("buy", "1", "100.0")
    assert g.check(buy, ctx) is None
    g.record_approved(buy, ctx)
    add_position(ctx, "buy", "1", "100.0")
    deny = g.check(intent("sell", "1", "100.0"), ctx)
    assert deny is not None and "unknown" in deny.detail


def test_business_days_between_when_weekend_in_between_then_counts_weekdays_only() -> None:
    assert business_days_between(dt.date(2026, 12, 4), dt.date(2026, 12, 7)) == 1  # Friday -> Monday
    assert business_days_between(dt.date(2026, 11, 30), dt.date(2026, 12, 7)) == 5
    assert business_days_between(dt.date(2026, 12, 2), dt.date(2026, 12, 2)) == 0
