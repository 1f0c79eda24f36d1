"""A reconciliation whose venue answers lag while the session trades is no drift (read lag, spot).

The emulator answers every ``GET /api/v3/account`` as the account stood when the request
arrived, 0.25 s later (read lag). The market maker's resting orders keep filling against the
market's trades meanwhile, so fills land while an answer is on its way: their reports reach
the book before the stale balances do. The
``livegate`` CLI runs live against the emulator through real ccxt, reconciling every
0.3 s; it must read the venue again rather than record drift, and the venue's fills and
balances must be the ledger's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.venue_emulator import Kind
from tests.venue_emulator.faults import HttpFault
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    arm,
    assert_fills_match_venue,
    explain,
    ledger_events,
    run,
    summary,
    write_preflight,
)

VENUE, SYMBOL = "ccxt:binance", "BTC/USDT"
#: Every account read answered with the account as it was at the request, 0.25 s later.
ACCOUNT_LAG = HttpFault(
    "/api/v3/account", "GET", after_accept=True, delay_secs=0.25, replace_answer=False, count=10_000
)


def test_reconcile_when_account_answers_lag_while_fills_arrive_then_read_again_no_drift_and_venue_matches(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue_thread.emulator, venue=VENUE, symbol=SYMBOL)  # the market maker: resting orders
    armed.env.update({"LIVEGATE_RECONCILE__INTERVAL_SECS": "0.3"})
    write_preflight(armed, "live")
    venue_thread.call(lambda e: e.fail_next(ACCOUNT_LAG))

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=900)

    assert result.returncode == 0, explain(result, out)
    assert "fill(s) arrived during venue read" in result.stderr, result.stderr[-3000:]  # the race happened
    periodic = [p for kind, p in ledger_events(out) if kind == "reconciled" and p["trigger"] != "startup"]
    assert len(periodic) >= 2
    assert any(p.get("venue_reads", 1) > 1 for p in periodic)  # and the venue was read again
    assert all(p["clean"] and p["beyond_tolerance"] == 0 for p in periodic), periodic
    lines = (out / "reconcile_drift.jsonl").read_text(encoding="utf-8").splitlines()
    assert [d for d in map(json.loads, lines) if not d["resolved"]] == []  # the startup adoption is resolved
    assert summary(out)["trading_state"]["state"] == "active"
    assert_fills_match_venue(venue_thread.call(lambda e: e.fills()), out)
