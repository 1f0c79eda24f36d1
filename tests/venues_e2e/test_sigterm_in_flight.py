"""The operator stops the service while an order's answer hangs at the venue (Binance through ccxt, end to end).

A venue that takes an order and then holds its REST answer (a timeout after accept) leaves
livegate with an order in flight: asked for, live at the venue, no answer yet. If the
operator stops the service then (``systemctl stop``: SIGTERM), the session must act at
once, not when the venue client gives up on the answer ([venue] ``timeout_ms``): cancel
at the venue, the in-flight order included (Binance cancels by ``origClientOrderId``),
and end within seconds. Afterwards the venue must hold no order of livegate's, every
client order id must have reached it once, and its fills and balances must be what the
ledger says (docs/deploy.md "Stop, restart and exit codes": exit 143).

Here the market maker's first quote is the in-flight one: its answer is held 12 s while
the venue client waits up to 10 s (``timeout_ms = 10000``), so a stop that waited for
that call would take 10 s or more.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.venue_emulator import HttpFault, Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    arm,
    explain,
    finish,
    ledger_events,
    start_run,
    summary,
    wait_until,
    write_preflight,
)
from tests.venues_e2e.stream_checks import assert_spot_venue_matches_ledger, order_posts

SYMBOL = "BTC/USDT"
QUIET_MAKER = 'requote_interval_ms = 600000\nquantity = "0.002"'
#: The venue client's timeout (ms) and the held answer's delay (s): the answer comes after the client gave up.
CLIENT_TIMEOUT_MS = 10_000
HELD_ANSWER = HttpFault("/order", method="POST", after_accept=True, delay_secs=12.0, replace_answer=False)
#: What "at once" is allowed to take, from the signal to the process's exit (s): a fraction of the timeout.
STOP_WITHIN_SECS = 6.0


@pytest.mark.slow
def test_sigterm_when_an_order_answer_hangs_after_accept_then_cancelled_at_venue_and_stopped_within_seconds(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol=SYMBOL, params=QUIET_MAKER)
    profile = armed.profile.read_text(encoding="utf-8")
    armed.profile.write_text(profile.replace("timeout_ms = 3000", f"timeout_ms = {CLIENT_TIMEOUT_MS}"), "utf-8")
    write_preflight(armed, "live")
    before = venue_thread.call(lambda e: (e.balance("BTC")[0], e.balance("USDT")[0]))
    venue_thread.call(lambda e: e.fail_next(HELD_ANSWER))

    out = tmp_path / "run"
    proc = start_run(armed, "live", out, max_events=100_000)
    try:
        # both quotes rest at the venue; the first one's answer is still held back
        wait_until(lambda: len(venue_thread.call(lambda e: e.open_orders())) == 2, what="both quotes at the venue")
        in_flight = min(venue_thread.call(lambda e: e.open_orders()), key=lambda o: o.order_id)
        assert venue_thread.call(lambda e: e.faults.http[0].count) == 0  # its answer is being held back
        about = [k for k, p in ledger_events(out) if p.get("client_order_id") == in_flight.client_order_id]
        assert "submit_requested" in about and "order_report" not in about, about
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        result = finish(proc)
        took = time.monotonic() - signalled
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert result.returncode == 128 + signal.SIGTERM, explain(result, out)  # stopped by the signal, cleanly
    assert took < STOP_WITHIN_SECS, f"the stop took {took:.1f} s\n{explain(result, out)}"
    anomalies = [p["kind"] for k, p in ledger_events(out) if k == "anomaly"]
    assert anomalies == [], anomalies  # no ambiguous submit: the venue told the order's end before any timeout
    # the venue: nothing of livegate's open, the in-flight order cancelled there, each id sent once
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert in_flight.status == "CANCELED"
    posts = order_posts(venue_thread)
    assert posts[in_flight.client_order_id] == 1 and max(posts.values()) == 1, posts
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    # the ledger: the in-flight order finished as cancelled, nothing working, and it equals the venue
    about = [(k, p) for k, p in ledger_events(out) if p.get("client_order_id") == in_flight.client_order_id]
    reports = [p["status"] for k, p in about if k == "order_report"]
    assert reports and reports[-1] == "cancelled", about
    facts = summary(out)
    assert facts["open_orders"] == 0
    assert_spot_venue_matches_ledger(venue_thread, out, SYMBOL, before, facts)
