"""An IP ban when the session ends (issue 10, 3e and 3f).

A Binance 418 ban says when it ends (``Retry-After``). A session that must stop while
banned cannot cancel before then; ending at once would leave its orders working at the
venue. livegate waits for a known ban end (at most ``[shutdown] ban_wait_max_ms``), then
cancels and confirms none open. Each test runs the ``livegate`` CLI against the exchange
emulator through real ccxt and checks the venue's own open orders and request log.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import arm, explain, finish, requests_log, start_run, wait_until, write_preflight

BAN_SECS = 3.0
#: Requests already on the wire when the ban's first 418 left the venue are not the client's fault.
IN_FLIGHT_MS = 100


def _ours_open(venue_thread: EmulatorThread) -> int:
    return venue_thread.call(lambda e: sum(1 for o in e.open_orders() if not o.external))  # type: ignore[no-any-return]


def test_stop_when_ip_banned_then_session_waits_for_ban_end_cancels_and_leaves_nothing_open(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=20000)
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT")
    # the usual wait for cancels is far shorter than the ban: only the ban's known end can explain waiting
    armed.profile.write_text(
        armed.profile.read_text(encoding="utf-8") + "\n[shutdown]\ncancel_timeout_ms = 500\n", encoding="utf-8"
    )
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, max_events=15000)
    wait_until(lambda: _ours_open(venue_thread) > 0, what="the market maker's resting orders")

    ban_start_ms = venue_thread.call(lambda e: e.now_ms())
    venue_thread.call(lambda e: e.gate.ban(e.now_ms(), BAN_SECS))
    stopped = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    result = finish(proc)

    assert result.returncode in (3, 143), explain(result, out)
    assert time.monotonic() - stopped >= BAN_SECS - 0.5  # it waited for the ban to end
    assert _ours_open(venue_thread) == 0, explain(result, out)
    log = requests_log(venue_thread)
    banned = [t for t, _, _ in log if ban_start_ms <= t < ban_start_ms + BAN_SECS * 1000]
    # the first 418 tells livegate when the ban ends: after it, nothing is sent until then
    assert [t for t in banned if t - banned[0] > IN_FLIGHT_MS] == [], explain(result, out)
