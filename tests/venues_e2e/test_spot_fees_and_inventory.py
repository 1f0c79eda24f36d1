"""Spot fees in any asset and spot balance reconciliation at the venue (issue 10, 3i and 3j).

Binance charges a spot buy's commission in the asset received (BTC): the run's fees
must equal the venue's commissions valued at their fill prices, exactly. Holding BTC is
no drift; a 0.005 BTC withdrawal made outside livegate is, and the session moves to
REDUCING (``[reconcile] on_drift``). Each test runs the ``livegate`` CLI against the
exchange emulator through real ccxt and checks the venue's own fills and balances.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    TAKER,
    TAKER_PARAMS,
    arm,
    assert_fills_match_venue,
    explain,
    finish,
    ledger_events,
    ledger_fills,
    run,
    signed_quantity,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

#: The taker holds up to 0.01 BTC (``max_position``), so the account's BTC moves all session.
HOLDING_PARAMS = TAKER_PARAMS
VENUE, SYMBOL = "ccxt:binance", "BTC/USDT"
RECONCILE_EVERY = {"LIVEGATE_RECONCILE__INTERVAL_SECS": "0.3"}


def test_fees_when_spot_buys_charged_in_btc_then_fees_usd_equal_venue_commissions_at_fill_prices(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue_thread.emulator, venue=VENUE, symbol=SYMBOL, strategy=TAKER, params=TAKER_PARAMS)
    write_preflight(armed, "live")

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=400)

    assert result.returncode == 0, explain(result, out)
    known = assert_fills_match_venue(venue_thread.call(lambda e: e.fills()), out)
    assert {f.commission_asset for f in known} == {"BTC", "USDT"}  # buys pay in BTC, sells in USDT
    venue_fees = sum((f.commission * (f.price if f.commission_asset == "BTC" else 1) for f in known), Decimal(0))
    facts = summary(out)
    assert Decimal(facts["fees_usd"]) == venue_fees
    # each fill records its fee's asset and amount as the venue charged it
    by_id = {str(f.trade_id): f for f in known}
    for fill in ledger_fills(out):
        charged = by_id[str(fill["fill_id"])]
        assert fill.get("fee_asset", "USDT") == charged.commission_asset
        if charged.commission_asset == "BTC":
            assert Decimal(fill["fee_in_asset"]) == charged.commission
    # PnL carries the fees (loss limits read the same figures)
    pnl = Decimal(facts["pnl_realized_usd"]) + Decimal(facts["pnl_unrealized_usd"]) - venue_fees
    assert Decimal(facts["pnl_total_usd"]) == pnl


def test_spot_reconcile_when_holding_btc_then_no_drift_and_session_stays_active(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue_thread.emulator, venue=VENUE, symbol=SYMBOL, strategy=TAKER, params=HOLDING_PARAMS)
    armed.env.update(RECONCILE_EVERY)
    write_preflight(armed, "live")

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=600)

    assert result.returncode == 0, explain(result, out)
    periodic = [p for kind, p in ledger_events(out) if kind == "reconciled" and p["trigger"] != "startup"]
    assert len(periodic) >= 2
    assert all(p["clean"] and p["beyond_tolerance"] == 0 for p in periodic)
    assert summary(out)["trading_state"]["state"] == "active"
    known = assert_fills_match_venue(venue_thread.call(lambda e: e.fills()), out)
    held = [signed_quantity(known[: i + 1]) for i in range(len(known))]
    assert any(q != 0 for q in held)  # the session held a BTC position while reconciling


@pytest.mark.slow
def test_spot_reconcile_when_0_005_btc_withdrawn_mid_run_then_drift_recorded_and_reducing(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue_thread.emulator, venue=VENUE, symbol=SYMBOL, strategy=TAKER, params=HOLDING_PARAMS)
    armed.env.update(RECONCILE_EVERY)
    write_preflight(armed, "live")

    out = tmp_path / "run"
    proc = start_run(armed, "live", out, max_events=1200)
    wait_until(lambda: len(venue_thread.call(lambda e: e.fills())) >= 2, what="the session trading")
    venue_thread.call(lambda e: e.adjust_balance("BTC", Decimal("-0.005")))
    result = finish(proc)

    assert result.returncode == 3, explain(result, out)
    assert summary(out)["trading_state"]["state"] == "reducing"
    lines = (out / "reconcile_drift.jsonl").read_text(encoding="utf-8").splitlines()
    drift = [d for d in map(json.loads, lines) if not d["resolved"]]  # the startup adoption is resolved
    assert drift and all(d["kind"] == "balance_mismatch" and d["symbol"] == "BTC" for d in drift), drift
    assert {Decimal(d["difference"]) for d in drift} == {Decimal("-0.005")}  # in BTC, its own units
    assert all(Decimal(d["venue_value"]) - Decimal(d["internal_value"]) == Decimal("-0.005") for d in drift)
