"""SIGTERM while an Alpaca fault is active: out in seconds, livegate's orders cancelled, outside ones left.

The operator stops the service (``systemctl stop``: SIGTERM) while the venue misbehaves:

* a submit hangs: Alpaca took the order (it rests on the book) but its answer has not
  come back, so livegate's book holds it as ``submitted`` with the call in the air;
* the streams are down: every websocket was closed and reconnects are refused, so no
  quote and no ``trade_updates`` event arrives.

Either way the process must end within a few seconds (docs/risk.md, graceful stop), no
order of livegate's may be left open at the venue (the hung one included), an order
placed on the account from outside stays open, and the venue's fills, position and cash
must be what the ledger says. Each test runs the ``livegate`` CLI against the Alpaca
emulator through unmodified alpaca-py and checks the emulator's own state.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.alpaca_emulator.fixtures import AlpacaThread
from tests.run_dir_helpers import explain
from tests.venues_alpaca_e2e.helpers import arm, finish, start_run, summary, wait_until, write_preflight
from tests.venues_alpaca_e2e.venue_checks import assert_each_client_order_id_posted_once, assert_venue_matches_ledger

OUTSIDE = "web-typed-by-the-operator-1"
#: The longest a graceful stop may take here: cancel at the venue, confirm, summarize (s).
STOP_WITHIN_SECS = 5.0


def _start(tmp_path: Path, venue_thread: AlpacaThread, params: str) -> tuple[Path, subprocess.Popen[str]]:
    """Arm, place an outside order far below the market (allowed for: docs/recovery.md), start a live session."""
    armed = arm(tmp_path, venue_thread.emulator, params=params, timeout_ms=10_000)  # the default [venue] timeout_ms
    profile = armed.profile.read_text(encoding="utf-8")
    armed.profile.write_text(f"{profile}\n[reconcile]\nopen_order_count_tolerance = 1\n", encoding="utf-8")
    write_preflight(armed, "live")
    venue_thread.call(lambda e: e.place_external_order("SPY", "buy", "1", "50.00", OUTSIDE))
    out = tmp_path / "run"
    return out, start_run(armed, "live", out, 100_000, "--ignore-market-hours")


def _wait(proc: subprocess.Popen[str], check: Callable[[], bool], what: str) -> None:
    """Wait for ``check`` while the session runs; on a timeout end the session (SIGKILL) and fail."""
    try:
        wait_until(check, what=what)
    except AssertionError:
        proc.kill()
        finish(proc)
        raise


def _stop(proc: subprocess.Popen[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Send SIGTERM; return the ended process and how long it took to end (s)."""
    stopped = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    result = finish(proc, timeout=60)
    return result, time.monotonic() - stopped


def _assert_stopped_cleanly(venue_thread: AlpacaThread, out: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode in (3, 143), explain(result, out)
    assert summary(out)["end_reason"] == "signal SIGTERM", explain(result, out)
    assert [o["client_order_id"] for o in venue_thread.call(lambda e: e.open_orders())] == [OUTSIDE]
    assert_each_client_order_id_posted_once(venue_thread)
    assert_venue_matches_ledger(venue_thread, out)


@pytest.mark.slow
def test_alpaca_sigterm_when_a_submit_hangs_after_accept_then_exits_in_seconds_and_cancels_the_hung_order(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    venue_thread.call(lambda e: e.hang_next_submit(20.0))  # the first resting buy is placed; its answer never comes
    out, proc = _start(tmp_path, venue_thread, 'quantity = "1"\noffset = "0.50"\nmax_position = "1"')
    _wait(proc, lambda: len(venue_thread.call(lambda e: e.open_orders())) == 2, "the hung order resting at the venue")
    hung = venue_thread.call(lambda e: e.submits[0])

    result, took = _stop(proc)

    assert took < STOP_WITHIN_SECS, explain(result, out)
    assert venue_thread.call(lambda e: e.orders[e.by_client_id[hung]]["status"]) == "canceled"
    _assert_stopped_cleanly(venue_thread, out, result)


@pytest.mark.slow
def test_alpaca_sigterm_when_streams_are_down_then_exits_in_seconds_cancels_ours_and_leaves_outside_orders(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    params = 'quantity = "2"\noffset = "0.50"\nmarket_first = true\nmax_position = "3"'
    out, proc = _start(tmp_path, venue_thread, params)
    _wait(
        proc,
        lambda: venue_thread.call(lambda e: len(e.executions) == 1 and len(e.open_orders()) == 2),
        "a fill and a resting order of livegate's at the venue",
    )
    venue_thread.run(venue_thread.emulator.drop_streams(keep_down=True))
    time.sleep(1.0)  # the session notices: no quote, no trade update, reconnects refused

    result, took = _stop(proc)

    assert took < STOP_WITHIN_SECS, explain(result, out)
    _assert_stopped_cleanly(venue_thread, out, result)
