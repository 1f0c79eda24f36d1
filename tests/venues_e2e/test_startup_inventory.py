"""Inventory livegate did not make, found at startup (issue 10, 3m): adopted and recorded, or the start refused.

Never a silent REDUCING latch: a USD-M position opened by hand, BTC held on a spot account,
and the fills an earlier livegate session's leftover order made are adopted as the starting
inventory (``inventory_adopted`` in the ledger, resolved drift records) and the session
trades in ACTIVE; with ``[reconcile] on_unknown_inventory = "refuse"`` it exits 2 naming them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from livegate.ledger.store import Ledger
from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venue_emulator.model import Trade
from tests.venues_e2e.helpers import arm, run, summary, write_preflight

EARLIER = "lg0123456789-3e99-1"  # an earlier session's order, left working
TAKER = "livegate.strategy.examples.taker:Taker"
PARAMS = 'quantity = "0.002"\nwindow_ms = 200\nthreshold = "0.1"\ncooldown_ms = 100\nmax_position = "0.01"'
CASES = {Kind.SPOT: ("ccxt:binance", "BTC/USDT"), Kind.USDM: ("ccxt:binanceusdm", "BTC/USDT:USDT")}


def _leftover_with_a_fill(venue_thread: EmulatorThread, quantity: str) -> int:
    """Leave an earlier session's buy working at the bid until part of it fills; return its venue order id."""
    venue_thread.call(lambda e: e.step(3))
    bid = venue_thread.call(lambda e: e.book.quote("BTCUSDT"))[0]
    order = venue_thread.call(lambda e: e.external_order("BUY", Decimal(quantity), bid, client_order_id=EARLIER))
    for _ in range(100):
        if venue_thread.call(lambda e: e.book.orders[order.order_id].executed_qty) > 0:
            break
        venue_thread.call(lambda e: e.step(5))
    assert venue_thread.call(lambda e: e.book.orders[order.order_id].is_open)
    return order.order_id


def _signed(fills: Iterable[Trade]) -> Decimal:
    return sum((f.qty if f.side == "BUY" else -f.qty for f in fills), Decimal(0))


def _ledger_events(out: Path, kind: str) -> list[dict[str, Any]]:
    ledger = Ledger.open(out / "ledger.sqlite")
    try:
        return [dict(e.payload) for e in ledger.events(kind)]
    finally:
        ledger.close()


def _drift(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "reconcile_drift.jsonl").read_text().splitlines()]


def _run(tmp_path: Path, venue_thread: EmulatorThread, kind: Kind, env: dict[str, str] | None = None) -> Any:
    venue, symbol = CASES[kind]
    armed = arm(tmp_path, venue_thread.emulator, venue=venue, symbol=symbol, strategy=TAKER, params=PARAMS)
    armed.env.update(env or {})
    write_preflight(armed, "live")
    return run(armed, "live", tmp_path / "run", max_events=300)


def test_startup_when_usdm_position_not_made_by_livegate_then_adopted_recorded_fills_imported_and_active(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.USDM, pace_ms=4, max_events=3000)
    leftover_id = _leftover_with_a_fill(venue_thread, "0.05")
    venue_thread.call(lambda e: e.external_order("SELL", Decimal("0.01"), None))  # by hand, in the web UI
    venue_thread.call(lambda e: e.step(1))

    result = _run(tmp_path, venue_thread, Kind.USDM)

    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "run"
    assert venue_thread.call(lambda e: e.book.orders[leftover_id].status) == "CANCELED"
    fills = venue_thread.call(lambda e: e.fills())
    outside = _signed(f for f in fills if not f.client_order_id.startswith("lg"))
    leftover_fills = [f for f in fills if f.order_id == leftover_id]
    leftover_qty = sum((f.qty for f in leftover_fills), Decimal(0))
    (adopted,) = _ledger_events(out, "inventory_adopted")
    # the position at startup is exactly what livegate did not make: the leftover's fills and the hand-made sell
    assert {s: Decimal(q) for s, q in adopted["positions"].items()} == {"BTC/USDT:USDT": leftover_qty + outside}
    # the leftover's fills imported once each, by venue trade id
    assert [f["fill_id"] for f in adopted["fills"]] == [str(f.trade_id) for f in leftover_fills]
    mine = _signed(f for f in fills if f.order_id != leftover_id and f.client_order_id.startswith("lg"))
    facts = summary(out)
    assert facts["orders_submitted"] > 0
    assert Decimal(facts["positions"].get("BTC/USDT:USDT", {}).get("quantity", "0")) <= mine
    assert venue_thread.call(lambda e: e.position()) == leftover_qty + outside + mine
    # never a REDUCING latch: no drift beyond tolerance, the trading state never moved
    assert facts["trading_state"]["state"] == "active"
    assert _ledger_events(out, "trading_state_changed") == []
    drift = _drift(out)
    assert not [d for d in drift if d["beyond_tolerance"]]
    assert any(d["kind"] == "position_mismatch" and d["resolved"] for d in drift)


def test_startup_when_usdm_position_and_policy_refuse_then_exit_2_names_it_and_sends_nothing(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.USDM, pace_ms=4, max_events=3000)
    venue_thread.call(lambda e: e.step(3))
    venue_thread.call(lambda e: e.external_order("BUY", Decimal("0.01"), None))
    venue_thread.call(lambda e: e.step(1))

    result = _run(tmp_path, venue_thread, Kind.USDM, {"LIVEGATE_RECONCILE__ON_UNKNOWN_INVENTORY": "refuse"})

    assert result.returncode == 2
    assert "position BTC/USDT:USDT 0.01" in result.stderr
    assert "on_unknown_inventory" in result.stderr
    assert venue_thread.call(lambda e: [o for o in e.book.orders.values() if not o.external]) == []
    assert venue_thread.call(lambda e: e.position()) == Decimal("0.01")


def test_startup_when_spot_holds_btc_and_leftover_fills_then_adopted_recorded_and_active(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)  # the account holds 0.1 BTC
    leftover_id = _leftover_with_a_fill(venue_thread, "0.05")

    result = _run(tmp_path, venue_thread, Kind.SPOT)

    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "run"
    assert venue_thread.call(lambda e: e.book.orders[leftover_id].status) == "CANCELED"
    leftover_fills = [f for f in venue_thread.call(lambda e: e.fills()) if f.order_id == leftover_id]
    received = sum((f.qty - f.commission for f in leftover_fills), Decimal(0))
    (adopted,) = _ledger_events(out, "inventory_adopted")
    assert {a: Decimal(q) for a, q in adopted["balances"].items()} == {"BTC": Decimal("0.1") + received}
    assert adopted["positions"] == {}
    assert [f["fill_id"] for f in adopted["fills"]] == [str(f.trade_id) for f in leftover_fills]
    facts = summary(out)
    assert facts["orders_submitted"] > 0
    assert facts["trading_state"]["state"] == "active"
    assert _ledger_events(out, "trading_state_changed") == []
    assert not [d for d in _drift(out) if d["beyond_tolerance"]]


def test_startup_when_spot_holds_btc_and_policy_refuse_then_exit_2_names_balance(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)

    result = _run(tmp_path, venue_thread, Kind.SPOT, {"LIVEGATE_RECONCILE__ON_UNKNOWN_INVENTORY": "refuse"})

    assert result.returncode == 2
    assert "balance BTC 0.1" in result.stderr
    assert venue_thread.call(lambda e: e.book.orders) == {}
    assert venue_thread.call(lambda e: e.balance("BTC")) == (Decimal("0.1"), Decimal(0))
