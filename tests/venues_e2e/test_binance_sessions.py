"""A ``ccxt:binance`` / ``ccxt:binanceusdm`` session starts and trades in testnet, canary and live (issue 10, 3a).

Each test runs ``livegate preflight`` and ``livegate run`` as subprocesses with real,
unmodified ccxt pointed at the exchange emulator through ``[venue] rest_url``/``ws_url``,
then reads the emulator's own state (orders, fills, balances, positions) and compares it
with the run's summary.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import arm, preflight, run, summary

TAKER = "livegate.strategy.examples.taker:Taker"
TAKER_PARAMS = 'quantity = "0.002"\nwindow_ms = 200\nthreshold = "0.1"\ncooldown_ms = 100\nmax_position = "0.01"'
CASES = {
    "binance": (Kind.SPOT, "ccxt:binance", "BTC/USDT"),
    "binanceusdm": (Kind.USDM, "ccxt:binanceusdm", "BTC/USDT:USDT"),
}
MODES = [
    "live",
    pytest.param("canary", marks=pytest.mark.slow),
    pytest.param("testnet", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("exchange", sorted(CASES))
def test_binance_session_when_armed_against_emulator_then_starts_trades_and_venue_matches_summary(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread], exchange: str, mode: str
) -> None:
    kind, venue, symbol = CASES[exchange]
    venue_thread = emulator_thread_factory(kind, pace_ms=4, max_events=3000)
    emu = venue_thread.emulator
    usdt_before = venue_thread.call(lambda e: e.balance("USDT"))[0]
    btc_before = venue_thread.call(lambda e: e.balance("BTC"))[0]
    armed = arm(tmp_path, emu, venue=venue, symbol=symbol, strategy=TAKER, params=TAKER_PARAMS)

    checked = preflight(armed, mode)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "PASS venue reachable" in checked.stdout

    out = tmp_path / "run"
    result = run(armed, mode, out, max_events=400)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert f"gate mode={mode} status=PASS" in result.stderr

    fills = venue_thread.call(lambda e: e.fills())
    orders = venue_thread.call(lambda e: list(e.book.orders.values()))
    facts = summary(out)
    # the session traded: every order it sent reached the venue, and nothing was resent
    assert facts["orders_submitted"] == len(orders) > 0
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    assert len({o.client_order_id.rsplit("-", 1)[0] for o in orders}) == 1  # one session's id prefix
    # venue truth agrees with the ledger: fills, position, nothing left working. Known gap
    # (reported, issue 10 d/k): a fill of the order sent on the very last event may reach
    # the venue after the session stopped reading reports; only that order may be missing.
    missing = len(fills) - facts["fills"]
    assert facts["fills"] > 0
    assert 0 <= missing <= 1
    assert all(f.order_id == max(o.order_id for o in orders) for f in fills[len(fills) - missing :])
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert facts["open_orders"] <= missing  # the same last order, filled at the venue, unseen by the ledger
    known = fills[: len(fills) - missing]
    assert Decimal(facts["positions"][symbol]["quantity"]) == sum(
        (f.qty if f.side == "BUY" else -f.qty for f in known), Decimal(0)
    )
    signed = sum((f.qty if f.side == "BUY" else -f.qty for f in fills), Decimal(0))
    usdt_free, usdt_locked = venue_thread.call(lambda e: e.balance("USDT"))
    assert usdt_locked == 0
    if kind is Kind.SPOT:
        # balances moved by exactly the fills, commission charged in the asset received
        btc_free, btc_locked = venue_thread.call(lambda e: e.balance("BTC"))
        btc_fees = sum((f.commission for f in fills if f.commission_asset == "BTC"), Decimal(0))
        usdt_fees = sum((f.commission for f in fills if f.commission_asset == "USDT"), Decimal(0))
        cash = sum((-f.qty * f.price if f.side == "BUY" else f.qty * f.price for f in fills), Decimal(0))
        assert btc_locked == 0
        assert btc_free - btc_before == signed - btc_fees
        assert usdt_free - usdt_before == cash - usdt_fees
    else:
        assert venue_thread.call(lambda e: e.position()) == signed
        realized = sum((f.realized_pnl - f.commission for f in fills), Decimal(0))
        assert usdt_free - usdt_before == realized
