"""A failure of livegate's own while handling a quote: the market-data loop reads on (end to end).

The ccxt adapter's market-data loops catch what the venue raises (a drop, a timeout) and
reconnect. Anything else raised while handling an event, a conversion of ours that fails,
used to end the loop's task with nothing said: no quotes again for the rest of the session,
which the session sees only as a feed gone quiet. Now the loop logs it with its traceback,
puts a :class:`~livegate.venues.base.StreamInterrupted` marker in (the session reconciles
before trading on: quotes of that batch were lost) and reads on
(:mod:`livegate.venues.ccxt.market_data`).

Here the ``livegate`` CLI trades the exchange emulator through real ccxt, in a process whose
quote conversion fails once when the test asks (tests/venues_e2e/quote_fault_cli.py). The
session must say so on stderr, reconcile once, trade on, and end with the venue's own
fills, open orders and balances equal to what its ledger says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import arm, explain, start_run, summary, wait_until, write_preflight
from tests.venues_e2e.quote_fault_cli import FAULT_ENV
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
def test_market_data_when_handling_a_quote_fails_then_logged_one_reconciliation_trading_goes_on_venue_matches(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3800)
    stop = tmp_path / "stop-trading"
    trigger = tmp_path / "fail-next-quote"
    params = f'quantity = "0.002"\nevery = 25\nstop_file = "{stop}"'
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol=SYMBOL, strategy=STRATEGY, params=params)
    write_preflight(armed, "live")
    before = venue_thread.call(lambda e: (e.balance("BTC")[0], e.balance("USDT")[0]))

    out = tmp_path / "run"
    script = Path(__file__).with_name("quote_fault_cli.py")
    # the feed holds 3,854 events; a session under load sees fewer (a market-stream drop loses
    # some, and watchBidsAsks keeps only each symbol's latest quote), so it stops at 2,400, well before the feed ends
    proc = start_run(armed, "live", out, max_events=2400, script=script, env={FAULT_ENV: str(trigger)})
    try:
        wait_until(lambda: len(venue_thread.call(lambda e: e.fills())) >= 2, what="the first fills")
        trigger.touch()
        wait_until(lambda: not trigger.exists(), what="the injected failure")
        wait_until(
            lambda: len(r := reconnects(rows := committed_rows(out))) >= 1 and sent_after(rows, r[-1]) >= 2,
            what="a reconciliation after the failed quote, then orders (the quote loop read on)",
        )
        result = stop_trading_and_finish(venue_thread, out, proc, stop)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert result.returncode == 0, explain(result, out)
    # said where the operator looks, with what failed and its traceback
    assert "market data: handling an event failed: ValueError('injected: converting a ticker failed')" in result.stderr
    assert "Traceback" in result.stderr
    rows = committed_rows(out)
    drops = reconnects(rows)
    assert len(drops) == 1 and all(p["clean"] for s, _, p in rows if s in drops)
    assert [e["detail"].split(":")[0] for e in interruptions(out)] == ["market data error"]
    assert not [p for _, kind, p in rows if kind == "anomaly"]  # no drift, no other anomaly
    assert sent_after(rows, drops[0]) >= 2  # quotes came on after the failure: the strategy traded on them
    denied = {p["code"] for _, kind, p in rows if kind == "decision" and not p["approved"]}
    assert denied <= {"RECONCILING"}, denied
    assert_spot_venue_matches_ledger(venue_thread, out, SYMBOL, before, summary(out))
