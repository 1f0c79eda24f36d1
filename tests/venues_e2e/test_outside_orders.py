"""Orders placed on the account by someone else while a session trades are left alone (end to end).

A Binance account's user data stream carries every order of the account: one typed into
the web UI, or sent by another program, reaches livegate's private stream like its own
(an ``executionReport`` with that order's client id, e.g. ``web_...``). Such an order is
not livegate's: a session must neither halt on its reports (it is not a contradiction of
livegate's book) nor cancel it when it halts or ends (the halt's cancel-all and the end's
cancels are for livegate's orders; ``livegate cancel-all --venue`` is the operator's tool
for everything). docs/recovery.md: orders with other client ids are left alone.

Here the ``livegate`` CLI runs the market maker against the exchange emulator through real
ccxt; while its quotes rest, a resting sell and a resting buy are placed from outside
(far from the market, so they do not fill); reconciliations every 0.5 s must see them
open and find no drift (they are not livegate's orders); then the operator kills the
session. The venue must afterwards show the two outside orders still open and none of
livegate's; the ledger must not name them, and nothing but the operator's kill may have
halted the session.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    arm,
    cli,
    explain,
    finish,
    ledger_events,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

QUIET_MAKER = 'requote_interval_ms = 600000\nquantity = "0.002"'


def _open(venue_thread: EmulatorThread, *, external: bool) -> list[str]:
    """Return the client ids of the venue's open orders placed from outside (or by livegate)."""
    orders = venue_thread.call(lambda e: e.open_orders())
    return sorted(o.client_order_id for o in orders if o.external == external)


def _saw_outside(out: Path) -> list[dict[str, object]]:
    """Return the committed ``reconciled`` payloads that counted both outside orders open."""
    return [p for k, p in ledger_events(out) if k == "reconciled" and p.get("outside_open_orders") == 2]


@pytest.mark.slow
def test_outside_orders_when_placed_mid_session_then_no_halt_and_kill_leaves_them_open_cancels_ours(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=20000)
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT", params=QUIET_MAKER)
    with (tmp_path / "venue.toml").open("a", encoding="utf-8") as profile:
        profile.write("\n[reconcile]\ninterval_secs = 0.5\n")  # periodic reconciliations see them
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, max_events=15000)
    try:
        wait_until(lambda: len(_open(venue_thread, external=False)) >= 2, what="the market maker's resting orders")
        mid = venue_thread.call(lambda e: next(o.price for o in e.open_orders() if not o.external))
        sell = venue_thread.call(
            lambda e: e.external_order("SELL", Decimal("0.01"), (mid * 2).quantize(Decimal("0.01")))
        )
        buy = venue_thread.call(lambda e: e.external_order("BUY", Decimal("0.01"), (mid / 2).quantize(Decimal("0.01"))))
        outside = sorted([sell.client_order_id, buy.client_order_id])
        # the session reads on past the outside orders' reports, and periodic reconciliations see
        # them open at the venue: not livegate's, so no drift (docs/recovery.md)
        wait_until(lambda: len(_saw_outside(out)) >= 2, what="two reconciliations that saw both outside orders")
        assert proc.poll() is None, explain(finish(proc), out)
        killed = cli(armed, "kill", "--reason", "e2e: kill with outside orders resting")
        assert killed.returncode == 0, killed.stderr
        wait_until(lambda: _open(venue_thread, external=False) == [], what="livegate's orders cancelled")
    finally:
        proc.send_signal(signal.SIGTERM)
        result = finish(proc)

    assert result.returncode in (3, 143), explain(result, out)
    # the outside orders are still working at the venue, untouched
    assert _open(venue_thread, external=True) == outside, explain(result, out)
    assert [o.status for o in (sell, buy)] == ["NEW", "NEW"]
    # only the operator's kill halted the session; the halt confirmed (the outside orders do not count)
    kills = [json.loads(line) for line in (out / "kill_events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [k["source"] for k in kills] == ["cli:kill"], kills
    events = ledger_events(out)
    anomalies = [p["kind"] for k, p in events if k == "anomaly"]
    assert "invariant_violation" not in anomalies and "cancel_all_unconfirmed" not in anomalies, anomalies
    assert "reconcile_drift" not in anomalies, anomalies
    assert all(p["clean"] for p in _saw_outside(out)), _saw_outside(out)
    assert "2 outside order(s) open at ccxt:binance, left alone" in result.stderr, result.stderr[-3000:]
    # livegate's ledger holds nothing of the outside orders
    assert not [p for _, p in events if p.get("client_order_id") in outside]
    assert summary(out)["trading_state"]["state"] == "halted"
    assert summary(out)["open_orders"] == 0
