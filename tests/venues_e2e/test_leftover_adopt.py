"""``[reconcile] on_leftover_orders = "adopt"`` (issue 10, 3m): an earlier session's working order is taken over.

The adopted order enters the ledger and the book as a working order of this session: it
counts against the caps, its later fills apply (once, by venue trade id), what it filled
before is imported with the starting inventory, and the session's end cancels it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from livegate.ledger.store import Ledger
from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import arm, run, summary, write_preflight

EARLIER = "lg0123456789-3e99-2"
TAKER = "livegate.strategy.examples.taker:Taker"
PARAMS = 'quantity = "0.002"\nwindow_ms = 200\nthreshold = "0.1"\ncooldown_ms = 100\nmax_position = "0.01"'


def _events(out: Path) -> list[tuple[str, dict[str, Any]]]:
    ledger = Ledger.open(out / "ledger.sqlite")
    try:
        return [(e.kind, dict(e.payload)) for e in ledger.events()]
    finally:
        ledger.close()


def test_startup_when_leftover_and_policy_adopt_then_working_order_counts_against_caps_and_its_fills_apply(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    venue_thread.call(lambda e: e.step(3))
    bid = venue_thread.call(lambda e: e.book.quote("BTCUSDT"))[0]
    leftover = venue_thread.call(lambda e: e.external_order("BUY", Decimal("0.05"), bid, client_order_id=EARLIER))
    for _ in range(100):
        if venue_thread.call(lambda e: e.book.orders[leftover.order_id].executed_qty) > 0:
            break
        venue_thread.call(lambda e: e.step(5))
    before = {f.trade_id for f in venue_thread.call(lambda e: e.fills()) if f.order_id == leftover.order_id}
    assert before  # it filled in part under the earlier session
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT", strategy=TAKER, params=PARAMS)
    armed.env["LIVEGATE_RECONCILE__ON_LEFTOVER_ORDERS"] = "adopt"
    armed.env["LIVEGATE_RISK__MAX_OPEN_ORDERS"] = "1"  # the adopted order takes the only slot
    write_preflight(armed, "live")

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=300)

    assert result.returncode == 0, result.stderr[-3000:]
    events = _events(out)
    mine = [p for k, p in events if p.get("client_order_id") == EARLIER]
    kinds = [k for k, p in events if p.get("client_order_id") == EARLIER]
    assert kinds[:4] == ["intent", "decision", "submit_requested", "order_report"]
    assert mine[1]["approved"] is True
    assert mine[3]["code"] == "ADOPTED_LEFTOVER"
    # it counted against the open-order cap: the strategy's orders were denied while it worked
    denied = [p for k, p in events if k == "decision" and p["approved"] is False]
    assert denied
    assert {p["code"] for p in denied} == {"OPEN_ORDERS_CAP"}
    # its fills: those before the start imported with the inventory, the later ones applied as fills, each once
    venue_fills = {str(f.trade_id) for f in venue_thread.call(lambda e: e.fills()) if f.order_id == leftover.order_id}
    (adopted,) = [p for k, p in events if k == "inventory_adopted"]
    imported = [f["fill_id"] for f in adopted["fills"]]
    applied = [p["fill_id"] for k, p in events if k == "fill" and p["client_order_id"] == EARLIER]
    assert {str(t) for t in before} <= set(imported)
    # the adopted order's quantity is what was still open: 0.05 less what it had filled
    assert Decimal(mine[0]["quantity"]) + sum(
        (Decimal(f["quantity"]) for f in adopted["fills"]), Decimal(0)
    ) == Decimal("0.05")
    assert applied  # it went on filling under this session
    assert len(applied) == len(set(applied))
    assert set(imported).isdisjoint(applied)
    assert set(imported) | set(applied) == venue_fills
    # the session's end cancelled it; nothing left working; no drift, no anomaly, no REDUCING
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert venue_thread.call(lambda e: e.book.orders[leftover.order_id].status) in {"CANCELED", "FILLED"}
    assert [p for k, p in events if k == "anomaly"] == []
    assert [p for k, p in events if k == "trading_state_changed"] == []
    assert summary(out)["trading_state"]["state"] == "active"
