"""Canary: seeded deterministic routing, size multiplier, daily ramp cap, ledger/summary split."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import DenialCode, Mode, OrderType, Side, TimeInForce
from livegate.domain.ids import client_order_id
from livegate.domain.market import Quote
from livegate.domain.orders import OrderIntent
from livegate.marketdata.quote_cache import QuoteCache
from livegate.modes.canary import CanaryRampGate, CanaryRouter, canary_draw
from livegate.portfolio import Portfolio
from livegate.risk.gate import RiskContext
from livegate.runtime.live_session import LiveOptions
from livegate.runtime.session import RunOptions
from livegate.runtime.start import start
from livegate.venues.fake import fake_instruments
from tests.modes.live_helpers import armed_setup

DAY_MS = 86_400_000


def router(seed: int = 7, fraction: str = "0.3", multiplier: str = "0.5", session: str = "abcdef0123") -> CanaryRouter:
    return CanaryRouter(
        seed=seed,
        session_id=session,
        live_fraction=Decimal(fraction),
        size_multiplier=Decimal(multiplier),
        live_venue="fake:demo",
        shadow_venue="shadow",
    )


def intent(seq: int, qty: str = "0.010", price: str | None = "60000.0", ts_ms: int = 0) -> OrderIntent:
    return OrderIntent(
        symbol="BTCUSDT",
        side=Side.BUY,
        quantity=Decimal(qty),
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        price=Decimal(price) if price else None,
        time_in_force=TimeInForce.GTC,
        post_only=False,
        reduce_only=False,
        strategy_id="mm",
        seq=seq,
        ts_ms=ts_ms,
    )


def test_canary_draw_when_same_seed_and_id_then_same_value_in_unit_interval() -> None:
    cid = client_order_id("abcdef0123", "mm", 5)
    assert canary_draw(7, cid) == canary_draw(7, cid)
    assert Decimal(0) <= canary_draw(7, cid) < Decimal(1)
    assert canary_draw(7, cid) != canary_draw(8, cid)


def test_canary_router_when_rebuilt_with_same_seed_then_identical_routes() -> None:
    first = [router().route(intent(i)) for i in range(500)]
    again = [router().route(intent(i)) for i in range(500)]
    other_seed = [router(seed=8).route(intent(i)) for i in range(500)]
    assert first == again
    assert first != other_seed


def test_canary_router_when_fraction_given_then_share_live_close_to_it() -> None:
    routes = [router(fraction="0.3").route(intent(i)) for i in range(4000)]
    share = routes.count("fake:demo") / len(routes)
    assert 0.27 < share < 0.33  # binomial sd ~0.007


@pytest.mark.parametrize(("fraction", "expected"), [("0", {"shadow"}), ("1", {"fake:demo"})])
def test_canary_router_when_fraction_is_bound_then_all_one_way(fraction: str, expected: set[str]) -> None:
    assert {router(fraction=fraction).route(intent(i)) for i in range(300)} == expected


def test_canary_live_quantity_when_scaled_then_rounded_down_to_lot() -> None:
    inst = fake_instruments("fake:demo")["BTCUSDT"]
    assert router(multiplier="0.5").live_quantity(Decimal("0.005"), inst) == Decimal("0.002")
    assert router(multiplier="0.1").live_quantity(Decimal("0.005"), inst) == Decimal("0.000")


def ramp_ctx(clock: ReplayClock) -> RiskContext:
    quotes = QuoteCache()
    quotes.update(Quote("BTCUSDT", Decimal("59999.9"), Decimal(1), Decimal("60000.0"), Decimal(1), 0))
    return RiskContext(instruments=fake_instruments("x"), quotes=quotes, portfolio=Portfolio(), clock=clock)


def test_canary_ramp_gate_when_live_notional_would_pass_cap_then_denied_and_shadow_untouched() -> None:
    canary = router(fraction="0.5")
    gate = CanaryRampGate(canary, Decimal("1500"))  # two 600 USD live orders fit, the third does not
    clock = ReplayClock(0)
    ctx = ramp_ctx(clock)
    live_seen = denied = shadow_seen = 0
    for seq in range(60):
        item = intent(seq)
        deny = gate.check(item, ctx)
        if not canary.goes_live("mm", seq):
            shadow_seen += 1
            assert deny is None
            continue
        live_seen += 1
        if deny is None:
            gate.record_approved(item, ctx)
        else:
            denied += 1
            assert deny.code is DenialCode.CANARY_RAMP_CAP
            assert "> ramp cap 1,500.00 USD" in deny.detail
    assert gate.used_usd == Decimal("1200.0000")
    assert live_seen - denied == 2 and denied > 0 and shadow_seen > 0


def test_canary_ramp_gate_when_utc_day_rolls_then_budget_resets() -> None:
    canary = router(fraction="1")
    gate = CanaryRampGate(canary, Decimal("700"))
    clock = ReplayClock(DAY_MS - 1000)
    ctx = ramp_ctx(clock)
    gate.record_approved(intent(0), ctx)
    deny = gate.check(intent(1), ctx)
    assert deny is not None and deny.code is DenialCode.CANARY_RAMP_CAP
    clock.advance_to(DAY_MS + 1)
    assert gate.check(intent(1), ctx) is None


def test_canary_ramp_gate_when_market_order_without_quote_then_unknown_price() -> None:
    canary = router(fraction="1")
    gate = CanaryRampGate(canary, Decimal("700"))
    clock = ReplayClock(0)
    ctx = RiskContext(instruments={}, quotes=QuoteCache(), portfolio=Portfolio(), clock=clock)
    deny = gate.check(intent(0, price=None), ctx)
    assert deny is not None and deny.code is DenialCode.UNKNOWN_PRICE


def decisions(run_dir: Path) -> list[dict[str, object]]:
    with sqlite3.connect(run_dir / "ledger.sqlite") as conn:
        rows = conn.execute("SELECT payload FROM events WHERE kind = 'decision' ORDER BY seq").fetchall()
    return [json.loads(r[0]) for r in rows]


def test_canary_session_when_run_then_ledger_and_summary_split_live_and_shadow(tmp_path: Path) -> None:
    setup = armed_setup(tmp_path, mode=Mode.CANARY)
    options = RunOptions(mode="canary", profile=str(setup.profile), out=tmp_path / "canary")
    result = start(options, LiveOptions(enable_live=True), setup.env, factories=setup.factory.factories)
    assert result.exit_code == 0, result.anomalies
    summary = result.summary
    assert summary["canary_live_orders"] > 0 and summary["canary_shadow_orders"] > 0
    assert summary["canary_live_orders"] + summary["canary_shadow_orders"] == summary["orders_submitted"]
    approved = [d for d in decisions(result.run_dir) if d["approved"]]
    by_venue = {v: sum(1 for d in approved if d["venue"] == v) for v in ("fake:demo", "shadow")}
    assert by_venue == {"fake:demo": summary["canary_live_orders"], "shadow": summary["canary_shadow_orders"]}
    (venue,) = setup.factory.built
    assert {o.quantity for o in venue.submitted} == {Decimal("0.001")}  # 0.002 x size_multiplier 0.5


def test_canary_session_when_ramp_cap_small_then_live_intents_denied_ramp_cap(tmp_path: Path) -> None:
    setup = armed_setup(tmp_path, mode=Mode.CANARY)
    text = setup.profile.read_text().replace(
        "max_live_notional_usd_per_day = 100000", "max_live_notional_usd_per_day = 200"
    )
    setup.profile.write_text(text)
    from tests.modes.test_live_gate_keys import rehash_preflight

    rehash_preflight(setup)
    options = RunOptions(mode="canary", profile=str(setup.profile), out=tmp_path / "canary")
    result = start(options, LiveOptions(enable_live=True), setup.env, factories=setup.factory.factories)
    assert result.summary["denied"].get("CANARY_RAMP_CAP", 0) > 0
    (venue,) = setup.factory.built
    live_notional = sum((o.quantity * (o.price or 0) for o in venue.submitted), Decimal(0))
    assert live_notional <= 200
