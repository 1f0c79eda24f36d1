"""An operator's kill while the venue has banned the IP (issue 10, 3e and 3f).

Binance answers every request of a banned IP with 418 and the ban's end
(``Retry-After``); requests sent during the ban lengthen it (Binance Spot API "LIMITS":
"repeatedly violating rate limits and/or failing to back off after receiving 429s will
result in an automated IP ban (HTTP status 418)", "ban durations scale from 2 minutes to
3 days for repeat offenders"). Here the operator runs ``livegate kill`` while the market
maker's orders rest at the venue and the IP is banned for longer than
``[kill] cancel_confirm_timeout_ms``: the halt's first cancel-all meets the 418, the
confirmation times out (``cancel_all_unconfirmed``), and the session, still running and
halted, must send nothing until the ban ends, then cancel and leave nothing open, with
no new order at any point. The test runs the ``livegate`` CLI against the exchange
emulator through real ccxt and reads the venue's own open orders and request log.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
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
    requests_log,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

BAN_SECS = 3.0
#: Requests already on the wire when the ban's first 418 left the venue are not the client's fault.
IN_FLIGHT_MS = 100
QUIET_MAKER = 'requote_interval_ms = 600000\nquantity = "0.002"'


def _ours_open(venue_thread: EmulatorThread) -> int:
    return venue_thread.call(lambda e: sum(1 for o in e.open_orders() if not o.external))  # type: ignore[no-any-return]


def _ours_placed(venue_thread: EmulatorThread) -> int:
    return venue_thread.call(lambda e: sum(1 for o in e.book.orders.values() if not o.external))  # type: ignore[no-any-return]


@pytest.mark.slow
def test_kill_when_ip_banned_then_nothing_sent_until_ban_ends_then_cancelled_while_running_and_nothing_new(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=20000)
    # the market maker quotes each side once and then holds: the kill's cancel-all is the first request of the ban
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT", params=QUIET_MAKER)
    # the kill's confirmation gives up long before the ban ends: only the halted session's retries can cancel
    armed.profile.write_text(
        armed.profile.read_text(encoding="utf-8") + "\n[kill]\ncancel_confirm_timeout_ms = 500\n", encoding="utf-8"
    )
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, max_events=15000)
    try:
        # both sides placed (a submit still on the wire when the ban starts would meet the 418 and
        # halt the session as venue_fatal before the operator's kill: seen once under load)
        wait_until(
            lambda: _ours_placed(venue_thread) >= 2 and _ours_open(venue_thread) > 0,
            what="the market maker's resting orders",
        )
        ban_start_ms = venue_thread.call(lambda e: e.now_ms())
        venue_thread.call(lambda e: e.gate.ban(ban_start_ms, BAN_SECS))
        killed = cli(armed, "kill", "--reason", "e2e: kill while banned")
        assert killed.returncode == 0, killed.stderr
        ban_end_ms = ban_start_ms + int(BAN_SECS * 1000)
        # the session is still running (halted) when the venue shows nothing of ours open
        wait_until(lambda: _ours_open(venue_thread) == 0, timeout=BAN_SECS + 10, what="the cancels after the ban")
        cancelled_ms = venue_thread.call(lambda e: e.now_ms())
        assert proc.poll() is None, "the session ended: the stop's cancels, not the halted session's, did it"
    finally:
        proc.send_signal(signal.SIGTERM)
        result = finish(proc)

    assert result.returncode in (3, 143), explain(result, out)
    assert summary(out)["trading_state"]["state"] == "halted"
    assert cancelled_ms >= ban_end_ms  # nothing could be cancelled during the ban
    log = requests_log(venue_thread)
    banned = [t for t, _, _ in log if ban_start_ms <= t < ban_end_ms]
    assert banned, "the kill's cancel-all never reached the venue during the ban"
    # the first 418 told livegate when the ban ends: after it, nothing was sent until then
    assert [t for t in banned if t - banned[0] > IN_FLIGHT_MS] == [], explain(result, out)
    kills = [json.loads(line) for line in (out / "kill_events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert kills[0]["source"] == "cli:kill", kills  # the operator's kill halted the session, not the 418
    # no order was sent after the ban began (the kill came during it)
    assert [r for r in log if r[1] == "POST" and r[2].endswith("/order") and r[0] >= ban_start_ms] == []
    assert venue_thread.call(lambda e: [o for o in e.book.orders.values() if o.created_ms >= ban_start_ms]) == []
    anomalies = [p["kind"] for k, p in ledger_events(out) if k == "anomaly"]
    assert "cancel_all_unconfirmed" in anomalies, anomalies  # the first confirmation said so, honestly
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert summary(out)["open_orders"] == 0
