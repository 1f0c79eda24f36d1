"""Orders of an earlier livegate session working at startup (issue 10, 3m): cancelled or refused, never silent."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import arm, run, summary, write_preflight

EARLIER = "lg0123456789-3e99-0"  # the id an earlier session's first intent had
TAKER = "livegate.strategy.examples.taker:Taker"
PARAMS = 'quantity = "0.002"\nwindow_ms = 200\nthreshold = "0.1"\ncooldown_ms = 100\nmax_position = "0.01"'


def _leave_orders(venue_thread: EmulatorThread) -> None:
    venue_thread.call(lambda e: e.step(3))
    venue_thread.call(lambda e: e.external_order("BUY", Decimal("0.002"), Decimal("50000.00"), client_order_id=EARLIER))


def test_startup_when_earlier_session_left_an_order_then_cancelled_recorded_and_session_trades(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    _leave_orders(venue_thread)
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT", strategy=TAKER, params=PARAMS)
    write_preflight(armed, "live")

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=300)

    assert result.returncode == 0, result.stderr[-3000:]
    leftover = venue_thread.call(lambda e: next(o for o in e.book.orders.values() if o.client_order_id == EARLIER))
    assert leftover.status == "CANCELED"
    assert venue_thread.call(lambda e: e.balance("USDT"))[1] == 0  # its lock released
    drift = [json.loads(line) for line in (out / "reconcile_drift.jsonl").read_text().splitlines()]
    assert [(d["client_order_id"] or d["symbol"], d["resolved"], d["beyond_tolerance"]) for d in drift] == [
        (EARLIER, True, False),
        ("BTC", True, False),  # the account's BTC, adopted as the starting inventory (test_startup_inventory.py)
    ]
    facts = summary(out)
    assert facts["trading_state"]["state"] == "active"
    assert facts["orders_submitted"] > 0


def test_startup_when_leftover_and_policy_refuse_then_exit_2_names_order_and_leaves_it(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    _leave_orders(venue_thread)
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT", strategy=TAKER, params=PARAMS)
    armed.env["LIVEGATE_RECONCILE__ON_LEFTOVER_ORDERS"] = "refuse"
    write_preflight(armed, "live")

    result = run(armed, "live", tmp_path / "run", max_events=300)

    assert result.returncode == 2
    assert EARLIER in result.stderr
    assert [o.client_order_id for o in venue_thread.call(lambda e: e.open_orders())] == [EARLIER]
    assert venue_thread.call(lambda e: [o for o in e.book.orders.values() if not o.external]) == []
