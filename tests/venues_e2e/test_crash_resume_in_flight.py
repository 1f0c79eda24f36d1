"""SIGKILL while an order's answer is outstanding, fills while livegate is down, then ``livegate run --resume``.

The venue takes the market maker's first order but its answer is late (the REST answer
held back past the kill, its execution report lost on the private stream): livegate
knows only that it asked (``submit_requested``). The process is SIGKILLed with that
order in flight; while it is down the venue fills the in-flight order and the other,
resting order, and no one is there to hear it. ``livegate run --resume`` on the same
run directory must settle the in-flight order by a lookup by client order id (never a
resend), import both unreported fills once, trade on and end normally; afterwards the
venue's own request log, fills, open orders and balances must equal what the ledger
says. The test runs the ``livegate`` CLI against the exchange emulator through real ccxt
(docs/recovery.md "Restart a crashed run").
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.venue_emulator import HttpFault, Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    LIVEGATE,
    arm,
    explain,
    finish,
    ledger_events,
    start_run,
    summary,
    wait_until,
    write_preflight,
)
from tests.venues_e2e.stream_checks import assert_spot_venue_matches_ledger, committed_rows, order_posts

SYMBOL = "BTC/USDT"
#: The in-flight order's answer comes this late: long after the kill, within the client's 3 s timeout.
LATE_ANSWER = HttpFault("/order", method="POST", after_accept=True, delay_secs=2.5, replace_answer=False)


def _step_then_open(venue_thread: EmulatorThread) -> int:
    """Replay one market event; return how many orders are open at the venue."""
    venue_thread.call(lambda e: e.step(1))
    return len(venue_thread.call(lambda e: e.open_orders()))


def _step_until_exit(venue_thread: EmulatorThread, proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    """Replay the market one event every 4 ms until the session ends; return its result."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        venue_thread.call(lambda e: e.step(1))
        time.sleep(0.004)
    return finish(proc)


@pytest.mark.slow
def test_resume_when_killed_with_order_in_flight_and_fills_while_down_then_looked_up_never_resent_venue_matches(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, max_events=3000)  # step mode: the test moves the market
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol=SYMBOL)
    write_preflight(armed, "live")
    before = venue_thread.call(lambda e: (e.balance("BTC")[0], e.balance("USDT")[0]))
    venue_thread.call(lambda e: e.fail_next(LATE_ANSWER))
    venue_thread.call(lambda e: e.lose_private(1))  # the first order's NEW execution report

    out = tmp_path / "run"
    proc = start_run(armed, "live", out, max_events=100_000)
    try:
        wait_until(lambda: venue_thread.call(lambda e: e.streams.private_connected()), what="the private stream")
        # one quote at a time until the maker's two quotes rest at the venue
        wait_until(lambda: _step_then_open(venue_thread) == 2, what="both quotes placed")
        in_flight, resting = venue_thread.call(lambda e: e.open_orders())
        # the resting one's answer is in the ledger; the in-flight one has only its submit_requested
        wait_until(
            lambda: any(
                k == "order_report" and p["client_order_id"] == resting.client_order_id and p["status"] == "accepted"
                for _, k, p in committed_rows(out)
            ),
            what="the resting order's answer committed",
        )
        assert venue_thread.call(lambda e: e.faults.http[0].count) == 0  # the late answer is being held back
        proc.kill()  # SIGKILL while the in-flight order's answer is outstanding
        finish(proc)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    assert not (out / "summary.json").exists()
    about = [(k, p) for k, p in ledger_events(out) if p.get("client_order_id") == in_flight.client_order_id]
    assert [k for k, _ in about] == ["intent", "decision", "submit_requested"], about
    killed_ms = venue_thread.call(lambda e: e.now_ms())

    # while livegate is down the venue fills both orders (a print through each price), unreported
    for order in (in_flight, resting):
        through = order.price - 1 if order.side == "BUY" else order.price + 1
        venue_thread.call(lambda e, p=through, o=order: e.print_trade(p, o.quantity))
    assert venue_thread.call(lambda e: e.open_orders()) == []
    down_fills = venue_thread.call(lambda e: [str(f.trade_id) for f in e.fills()])
    assert len(down_fills) == 2

    resume = [*LIVEGATE, "run", "--resume", str(out), "--enable-live", "--no-progress", "--max-events", "150"]
    proc = subprocess.Popen(
        resume, cwd=armed.root, env=armed.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        resumed = _step_until_exit(venue_thread, proc)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert resumed.returncode == 0, explain(resumed, out)
    events = ledger_events(out)
    assert [k for k, _ in events].count("session_resumed") == 1
    # every client order id reached the venue at most once: nothing was resent, the in-flight order least of all
    posts = order_posts(venue_thread)
    assert posts[in_flight.client_order_id] == 1
    assert [cid for cid, n in posts.items() if n > 1] == [], posts
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    # the resumed session asked the venue for the in-flight order by its client order id ...
    lookups = venue_thread.call(
        lambda e: [
            t
            for t, (m, path, p) in zip(e.rest.request_times_ms, e.rest.requests, strict=True)
            if (m, path) == ("GET", "/api/v3/order") and p.get("origClientOrderId") == in_flight.client_order_id
        ]
    )
    assert lookups and min(lookups) > killed_ms, lookups
    # ... and recorded what it found: the venue holds it (its order id), then the venue's fill of it, once
    about = [(k, p) for k, p in events if p.get("client_order_id") == in_flight.client_order_id]
    assert [k for k, _ in about] == ["intent", "decision", "submit_requested", "order_report", "fill"], about
    report, fill = about[3][1], about[4][1]
    assert (report["status"], report["venue_order_id"]) == ("accepted", str(in_flight.order_id)), report
    assert report["reason"] == "resolved from venue after restart", report
    assert fill["fill_id"] == down_fills[0], fill
    drift = [json.loads(x) for x in (out / "reconcile_drift.jsonl").read_text(encoding="utf-8").splitlines()]
    settled = [d for d in drift if d["client_order_id"] == in_flight.client_order_id and d["source"] == "fetch_order"]
    assert [(d["resolved"], d["trigger"]) for d in settled] == [(True, "startup")], settled
    # the resting order's unreported fill was imported once too
    assert [p["fill_id"] for k, p in events if k == "fill" and p["client_order_id"] == resting.client_order_id] == [
        down_fills[1]
    ]
    # the resumed session traded on: it sent orders of its own after the restart
    resumed_at = next(i for i, (k, _) in enumerate(events) if k == "session_resumed")
    assert any(k == "submit_requested" for k, _ in events[resumed_at:])
    # venue truth: each venue fill once in the ledger, nothing open, balances moved by the ledger's fills and fees
    assert_spot_venue_matches_ledger(venue_thread, out, SYMBOL, before, summary(out))
