"""A dropped market-data stream and a dropped private stream each make one reconciliation (end to end).

The ccxt adapter puts one :class:`~livegate.venues.base.StreamInterrupted` marker into the
session's market-data stream per drop, whether the public connection dropped
(:mod:`livegate.venues.ccxt.market_data`) or the private one
(:mod:`livegate.venues.ccxt.order_stream`), and the session reconciles once on it, denying
new orders ``RECONCILING`` until that reconciliation completes. Here the ``livegate`` CLI
trades the exchange emulator through real ccxt; the emulator drops the market-data
websocket once, then the private stream once. The run's outputs must show one
reconciliation after each drop, orders after each reconnect, and at the end the venue's
own fills, open orders and balances equal to what the ledger says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import arm, explain, start_run, summary, wait_until, write_preflight
from tests.venues_e2e.stream_checks import (
    assert_spot_venue_matches_ledger,
    committed_rows,
    interruptions,
    reconnects,
    sent_after,
    stop_trading_and_finish,
)

STRATEGY = f"{Path(__file__).with_name('drop_probe_strategy.py')}:DropProbe"
SYMBOL = "BTC/USDT"


@pytest.mark.slow
def test_streams_when_market_then_private_stream_dropped_then_one_reconciliation_each_trading_goes_on_venue_matches(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3800)
    stop = tmp_path / "stop-trading"
    params = f'quantity = "0.002"\nevery = 25\nstop_file = "{stop}"'
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol=SYMBOL, strategy=STRATEGY, params=params)
    write_preflight(armed, "live")
    btc_before, usdt_before = venue_thread.call(lambda e: (e.balance("BTC")[0], e.balance("USDT")[0]))

    out = tmp_path / "run"
    # the feed holds 3,854 events; a session under load sees fewer (a market-stream drop loses
    # some, and watchBidsAsks keeps only each symbol's latest quote), so it stops at 2,400, well before the feed ends
    proc = start_run(armed, "live", out, max_events=2400)
    try:
        wait_until(lambda: len(venue_thread.call(lambda e: e.fills())) >= 2, what="the first fills")
        assert venue_thread.run(venue_thread.emulator.drop_market_streams()) >= 1
        wait_until(
            lambda: len(r := reconnects(rows := committed_rows(out))) >= 1 and sent_after(rows, r[-1]) >= 2,
            what="a reconciliation after the market-data drop, then orders",
        )
        assert venue_thread.run(venue_thread.emulator.drop_private_stream()) >= 1
        wait_until(
            lambda: len(r := reconnects(rows := committed_rows(out))) >= 2 and sent_after(rows, r[-1]) >= 2,
            what="a reconciliation after the private-stream drop, then orders",
        )
        result = stop_trading_and_finish(venue_thread, out, proc, stop)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert result.returncode == 0, explain(result, out)
    rows = committed_rows(out)
    # one reconciliation per drop (not one per watch loop of the dropped connection), each clean
    drops = reconnects(rows)
    assert len(drops) == 2, [p for s, _, p in rows if s in drops]
    assert all(p["clean"] for s, _, p in rows if s in drops)
    interrupted = interruptions(out)
    assert [e["detail"].split(":")[0] for e in interrupted] == ["reconnect", "private stream reconnect"], interrupted
    assert not [p for _, kind, p in rows if kind == "anomaly"]  # no drift, no other anomaly
    # trading went on after each reconnect; what was denied while reconciling waited for it
    assert sent_after(rows, drops[0]) - sent_after(rows, drops[1]) >= 2 and sent_after(rows, drops[1]) >= 2
    denied = {p["code"] for _, kind, p in rows if kind == "decision" and not p["approved"]}
    assert denied <= {"RECONCILING"}, denied

    # the venue's own state equals the ledger's: its fills, no open order, balances moved by exactly those fills
    assert_spot_venue_matches_ledger(venue_thread, out, SYMBOL, (btc_before, usdt_before), summary(out))
