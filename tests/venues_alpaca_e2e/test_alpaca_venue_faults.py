"""Ambiguous submit resolved without a duplicate; stream reconnect → reconciliation imports the gap's fill;
a refused order is rejected, not resent; replayed trade_updates (duplicated, out of order) count each fill once.

Each runs the ``livegate`` CLI as a subprocess against the Alpaca emulator through
unmodified alpaca-py, injects the fault, then checks the emulator's own state.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.alpaca_emulator.fixtures import AlpacaThread
from tests.venues_alpaca_e2e.helpers import (
    arm,
    finish,
    ledger_events,
    ledger_fill_ids,
    run,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

HOLD = 'quantity = "2"\noffset = "0.50"\nmarket_first = true'


def test_alpaca_submit_when_answer_times_out_after_accept_then_resolved_from_venue_without_a_duplicate(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    armed = arm(tmp_path, venue_thread.emulator, params=HOLD, timeout_ms=1000)
    write_preflight(armed, "live")
    venue_thread.call(lambda e: e.hang_next_submit(3.0))  # the market buy is placed and filled; its answer is late
    out = tmp_path / "run"
    result = run(armed, "live", out, 400, "--ignore-market-hours")
    assert result.returncode in (0, 3), result.stderr[-4000:]
    submits = venue_thread.call(lambda e: list(e.submits))
    assert len(submits) == len(set(submits))  # no client order id sent twice
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    kinds = [p.get("anomaly_kind") or p.get("kind") for k, p in ledger_events(out) if k == "anomaly"]
    assert "ambiguous_submit" in kinds
    executions = venue_thread.call(lambda e: list(e.executions))
    assert sorted(ledger_fill_ids(out)) == sorted(x.execution_id for x in executions)
    assert Decimal(summary(out)["positions"]["SPY"]["quantity"]) == venue_thread.call(lambda e: e.position("SPY"))
    assert venue_thread.call(lambda e: e.position("SPY")) == Decimal(2)  # bought once, never twice


def test_alpaca_streams_when_dropped_and_a_fill_was_missed_then_reconnect_reconciles_and_imports_it(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    armed = arm(tmp_path, venue_thread.emulator, params='quantity = "1"\noffset = "0.50"\nmax_position = "1"')
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 100_000, "--ignore-market-hours")
    try:
        wait_until(lambda: len(venue_thread.call(lambda e: e.open_orders())) == 1, what="a resting order")
        cid = venue_thread.call(lambda e: e.open_orders()[0]["client_order_id"])
        venue_thread.call(lambda e: e.lose_trade_updates(1))  # the fill's trade_updates event never arrives
        venue_thread.run(venue_thread.emulator.fill_order(cid))
        venue_thread.run(venue_thread.emulator.drop_streams())
        wait_until(lambda: len(ledger_fill_ids(out)) == 1, timeout=30, what="the missed fill imported")
    finally:
        proc.send_signal(signal.SIGTERM)
        result = finish(proc)
    executions = venue_thread.call(lambda e: list(e.executions))
    assert ledger_fill_ids(out) == [x.execution_id for x in executions]
    telemetry = [json.loads(line) for line in (out / "telemetry.jsonl").read_text().splitlines()]
    assert any(t.get("anomaly_kind") == "stream_interrupted" for t in telemetry), result.stderr[-3000:]
    assert Decimal(summary(out)["positions"]["SPY"]["quantity"]) == Decimal(1)
    assert venue_thread.call(lambda e: e.open_orders()) == []


def test_alpaca_submit_when_venue_refuses_then_rejected_and_never_resent(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    armed = arm(tmp_path, venue_thread.emulator, params=HOLD)
    write_preflight(armed, "live")
    venue_thread.call(lambda e: e.fail_next_submit(403, 40310000, "insufficient buying power"))
    out = tmp_path / "run"
    result = run(armed, "live", out, 200, "--ignore-market-hours")
    assert result.returncode in (0, 3), result.stderr[-4000:]
    submits = venue_thread.call(lambda e: list(e.submits))
    assert len(submits) == len(set(submits))
    first = submits[0]
    assert first not in venue_thread.call(lambda e: e.by_client_id)  # refused, nothing placed
    reports = [p for k, p in ledger_events(out) if k == "order_report" and p.get("client_order_id") == first]
    assert reports and reports[-1]["status"] == "rejected"


@pytest.mark.slow
def test_alpaca_fills_when_trade_updates_replayed_after_the_fill_then_each_execution_counted_once(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10, partial_fills=True)  # each fill in two executions
    params = 'quantity = "2"\noffset = "0.50"\nmarket_first = true\nmax_position = "4"'
    armed = arm(tmp_path, venue_thread.emulator, params=params)
    write_preflight(armed, "live")
    # the market buy (replayed before its REST answer) and the resting buy (after it): new, partial, fill, x3
    venue_thread.call(lambda e: e.replay_trade_updates(orders=2, times=2))
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 300, "--ignore-market-hours")
    try:
        wait_until(
            lambda: venue_thread.call(lambda e: len(e.executions) == 2 and len(e.open_orders()) == 1),
            what="the market buy filled in two parts and a resting buy",
        )
        resting = venue_thread.call(lambda e: e.open_orders()[0]["client_order_id"])
        venue_thread.run(venue_thread.emulator.fill_order(resting))
    finally:
        result = finish(proc)

    assert result.returncode == 0, result.stderr[-4000:]
    assert venue_thread.call(lambda e: e.replayed_frames) == 12  # the fault fired: 2 orders x 2 replays x 3 events
    executions = venue_thread.call(lambda e: list(e.executions))
    assert len(executions) == 4
    assert sorted(ledger_fill_ids(out)) == sorted(x.execution_id for x in executions)  # each once
    facts = summary(out)
    assert facts["trading_state"]["state"] == "active"
    assert [p for k, p in ledger_events(out) if k == "anomaly"] == []
    assert facts["fills"] == 4 and facts["open_orders"] == 0  # a replayed "new" reopened nothing
    assert Decimal(facts["positions"]["SPY"]["quantity"]) == venue_thread.call(lambda e: e.position("SPY")) == 4
    assert Decimal(facts["turnover_usd"]) == sum((x.qty * x.price for x in executions), Decimal(0))
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
