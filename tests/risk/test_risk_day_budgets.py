"""Issue 9 §5: the trading-day budget store and the day book that continues it across sessions."""

from __future__ import annotations

import dataclasses
import stat
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from livegate.domain.enums import DenialCode
from livegate.domain.errors import ConfigError
from livegate.risk import counters
from livegate.risk.budget_store import BudgetStore, DayBudget, SessionBudget
from livegate.risk.daily import DailyBook, EquityPeak, next_day_boundary_ms
from tests.risk.helpers import T0, add_position, context, intent, quote

D = Decimal
DAY_END = next_day_boundary_ms(T0, ZoneInfo("UTC"))


def store(tmp_path: Path, *, durable: bool = True) -> BudgetStore:
    return BudgetStore(tmp_path / "budgets" / "fake_demo.json", "fake:demo", durable=durable)


def test_budget_store_when_saved_then_loaded_same_day_with_mode_0600(tmp_path: Path) -> None:
    budgets = store(tmp_path)
    day = DayBudget("fake:demo", DAY_END, "UTC").with_session("s1", SessionBudget(orders=3, fees_usd=D("1.5")), D(7))
    budgets.save(day)
    assert budgets.load(DAY_END, "UTC") == day
    assert stat.S_IMODE(budgets.path.stat().st_mode) == 0o600


def test_budget_store_when_file_is_of_another_day_or_zone_then_day_starts_empty(tmp_path: Path) -> None:
    budgets = store(tmp_path)
    budgets.save(DayBudget("fake:demo", DAY_END, "UTC").with_session("s1", SessionBudget(orders=3), D(0)))
    assert budgets.load(DAY_END + 86_400_000, "UTC").sessions == {}
    assert budgets.load(DAY_END, "America/New_York").sessions == {}


def test_budget_store_when_file_corrupt_then_config_error_names_it(tmp_path: Path) -> None:
    budgets = store(tmp_path)
    budgets.path.parent.mkdir(parents=True)
    budgets.path.write_text(f'{{"day_end_ms": {DAY_END}, "zone": "UTC", "sessions": {{"s": {{"orders": "x"}}}}}}')
    with pytest.raises(ConfigError, match=r"fake_demo\.json"):
        budgets.load(DAY_END, "UTC")


def test_day_book_when_other_session_used_the_count_then_count_gate_denies_at_once(tmp_path: Path) -> None:
    budgets = store(tmp_path)
    budgets.save(DayBudget("fake:demo", DAY_END, "UTC").with_session("earlier", SessionBudget(orders=2), D(0)))
    ctx = context(quote())
    daily = DailyBook("UTC")
    daily.attach(budgets, "now", T0, ctx.portfolio, ctx.quotes, count_from_ledger=False)
    gate = counters.DailyOrderCountGate(3, daily)
    first = intent()
    assert gate.check(first, ctx) is None
    gate.record_approved(first, ctx)
    assert budgets.load(DAY_END, "UTC").sessions["now"].orders == 1  # durable before the venue call
    denied = gate.check(intent(), ctx)
    assert denied is not None and denied.code is DenialCode.DAILY_ORDER_COUNT_CAP


def test_day_book_when_resumed_with_own_entry_then_baselines_restored_and_count_from_ledger(tmp_path: Path) -> None:
    budgets = store(tmp_path)
    ctx = context(quote(bid="60000.0", ask="60000.1"))
    add_position(ctx, "buy", "0.010", "60000.0")  # 600 traded by this session before the crash
    own = SessionBudget(orders=9, turnover_usd=D(100), base_turnover_usd=D(500))
    budgets.save(DayBudget("fake:demo", DAY_END, "UTC").with_session("s", own, D(0)))
    daily = DailyBook("UTC")
    daily.attach(budgets, "s", T0, ctx.portfolio, ctx.quotes, count_from_ledger=True)
    assert daily.orders_today == 0  # the caller recounts the ledger's approvals
    assert daily.turnover_today(ctx.portfolio) == D(100)  # 600 traded - 500 at the day start


def test_day_book_when_other_session_lost_money_then_daily_loss_and_peak_continue(tmp_path: Path) -> None:
    budgets = store(tmp_path)
    earlier = SessionBudget(pnl_usd=D(-40), turnover_usd=D(1000))
    budgets.save(DayBudget("fake:demo", DAY_END, "UTC").with_session("earlier", earlier, D(30)))
    ctx = context(quote())
    peak = EquityPeak()
    daily = DailyBook("UTC", peak)
    daily.attach(budgets, "now", T0, ctx.portfolio, ctx.quotes, count_from_ledger=False)
    assert daily.pnl_from(D(0)) == D(-40)
    assert daily.turnover_today(ctx.portfolio) == D(1000)
    assert peak.drawdown(D(0)) == D(70)  # day peak +30, account now -40
    loss = counters.DailyLossGate(D(40), daily)
    denied = loss.check(intent(), ctx)
    assert denied is not None and denied.code is DenialCode.DAILY_LOSS_LIMIT


def test_day_book_when_day_boundary_passes_then_budgets_reset_and_old_day_written(tmp_path: Path) -> None:
    budgets = store(tmp_path, durable=False)
    ctx = context(quote())
    daily = DailyBook("UTC")
    daily.attach(budgets, "s", T0, ctx.portfolio, ctx.quotes, count_from_ledger=False)
    daily.count_order()
    daily.roll(DAY_END + 1, ctx.portfolio, ctx.quotes)
    assert daily.orders_today == 0
    assert budgets.load(DAY_END + 86_400_000, "UTC").sessions["s"].orders == 0


def test_counters_when_flatten_intent_then_exempt_only_if_reduce_only() -> None:
    ctx = context(quote())
    rate = counters.OrderRateGate(1)
    rate.record_approved(intent(), ctx)
    flatten = dataclasses.replace(intent("sell", reduce_only=True), flatten=True)
    assert rate.check(flatten, ctx) is None
    assert rate.check(intent("sell", reduce_only=True), ctx) is not None
    with pytest.raises(ValueError, match="reduce-only"):
        dataclasses.replace(intent("sell"), flatten=True)
