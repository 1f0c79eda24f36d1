"""Alerts of a live session (issue 11 §3) against the exchange emulator, as a subprocess: preflight's alerts
check passes with a test delivery, ``live.enabled`` and ``leftover_orders`` reach the ntfy stand-in."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.alerts.stubs import StubReceiver
from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import arm, preflight, run

EARLIER = "lg0123456789-3e99-0"  # an order id an earlier livegate session used
TAKER = "livegate.strategy.examples.taker:Taker"
PARAMS = 'quantity = "0.002"\nwindow_ms = 200\nthreshold = "0.1"\ncooldown_ms = 100\nmax_position = "0.01"'


@pytest.mark.slow
def test_live_run_when_leftover_order_found_then_preflight_passes_and_live_enabled_and_leftover_alerts_arrive(
    tmp_path: Path,
    emulator_thread_factory: Callable[..., EmulatorThread],
    ntfy: StubReceiver,
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    venue_thread.call(lambda e: e.step(3))
    venue_thread.call(lambda e: e.external_order("BUY", Decimal("0.002"), Decimal("50000.00"), client_order_id=EARLIER))
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT", strategy=TAKER, params=PARAMS)
    armed.env["LIVEGATE_ALERTS__URLS"] = f'["ntfy://127.0.0.1:{ntfy.port}/live"]'

    checked = preflight(armed, "live")
    assert checked.returncode == 0, checked.stdout
    assert "PASS alerts: test alert delivered to 1 destination(s)" in checked.stdout

    result = run(armed, "live", tmp_path / "run", max_events=300)
    assert result.returncode == 0, result.stderr[-3000:]

    titles = [r.body["title"] for r in ntfy.received]
    by_title = {r.body["title"]: r.body["message"] for r in ntfy.received}
    assert titles == [
        "livegate: test alert (INFO)",
        "livegate: session started (live)",
        "livegate: live trading enabled (live)",
        "livegate: 1 leftover order(s) found at ccxt:binance",
        "livegate: session stopped",
    ]
    assert (
        by_title["livegate: 1 leftover order(s) found at ccxt:binance"]
        == f"on_leftover_orders=cancel: {EARLIER} (BTC/USDT)"
    )
    assert by_title["livegate: live trading enabled (live)"] == "mode live armed on venue ccxt:binance"
