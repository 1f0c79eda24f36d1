"""Private order/fill stream faults at the venue (issue 10, 3d and 3k).

Duplicated and reordered private events must not count a fill twice; a dropped private
stream is reconnected and reconciled, and fills made while it was down are imported.
Each test runs the ``livegate`` CLI against the exchange emulator through real ccxt and
then compares the venue's own fills with the run's ledger (by venue trade id).
"""

from __future__ import annotations

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
    ledger_fills,
    run,
    signed_quantity,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

CASES = {
    "binance": (Kind.SPOT, "ccxt:binance", "BTC/USDT"),
    "binanceusdm": (Kind.USDM, "ccxt:binanceusdm", "BTC/USDT:USDT"),
}


@pytest.mark.parametrize("exchange", sorted(CASES))
def test_fills_when_private_events_duplicated_and_reordered_then_each_venue_fill_counted_once(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread], exchange: str
) -> None:
    kind, venue, symbol = CASES[exchange]
    venue_thread = emulator_thread_factory(kind, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue_thread.emulator, venue=venue, symbol=symbol, strategy=TAKER, params=TAKER_PARAMS)
    write_preflight(armed, "live")
    venue_thread.call(lambda e: e.duplicate_private(8))
    venue_thread.call(lambda e: e.reorder_private(8))

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=400)

    assert result.returncode == 0, explain(result, out)
    assert venue_thread.call(lambda e: (e.faults.private.duplicate, e.faults.private.reorder)) == (0, 0)  # fired
    fills = venue_thread.call(lambda e: e.fills())
    known = assert_fills_match_venue(fills, out)
    facts = summary(out)
    assert facts["fills"] == len(known) >= len(fills) - 1 > 0
    assert Decimal(facts["positions"][symbol]["quantity"]) == signed_quantity(known)
    assert Decimal(facts["turnover_usd"]) == (sum((f.qty * f.price for f in known), Decimal(0)))


@pytest.mark.slow
def test_private_stream_when_dropped_mid_run_then_fills_made_in_the_gap_are_in_the_ledger(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3800)
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT")  # the market maker
    # the maker's post-only quotes meet "would immediately match" (-2010) now and then on a
    # moving book; this test is about the stream gap, not the reject-storm kill trigger
    armed.env["LIVEGATE_KILL__MAX_REJECTS"] = "1000"
    write_preflight(armed, "live")

    out = tmp_path / "run"
    proc = start_run(armed, "live", out, max_events=2000)
    wait_until(lambda: len(venue_thread.call(lambda e: e.fills())) >= 1, what="a first fill")
    # the stream dies: every private event from now until the drop is lost, then it closes
    venue_thread.call(lambda e: e.lose_private(10_000))
    seen = len(venue_thread.call(lambda e: e.fills()))
    wait_until(lambda: len(venue_thread.call(lambda e: e.fills())) >= seen + 1, what="a fill in the gap")
    gap = venue_thread.call(lambda e: e.fills())[seen:]
    venue_thread.call(lambda e: setattr(e.faults.private, "lose", 0))
    assert venue_thread.run(venue_thread.emulator.drop_private_stream()) >= 1
    result = finish(proc)

    assert result.returncode == 0, explain(result, out)
    recorded = {str(f["fill_id"]) for f in ledger_fills(out)}
    assert {str(f.trade_id) for f in gap} <= recorded
    known = assert_fills_match_venue(venue_thread.call(lambda e: e.fills()), out)
    assert Decimal(summary(out)["positions"]["BTC/USDT"]["quantity"]) == signed_quantity(known)
    assert venue_thread.call(lambda e: e.open_orders()) == []
