"""``livegate preflight`` against the venue: an authenticated call and the venue clock (issue 10, 3h).

A wrong API secret and a venue clock 30 s off must both FAIL preflight (exit 2) before
any session can trade; each test runs the CLI against the exchange emulator through
real ccxt and checks that the venue holds no order afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import TAKER, TAKER_PARAMS, arm, preflight, requests_log, run

CASES = {
    "binance": (Kind.SPOT, "ccxt:binance", "BTC/USDT"),
    "binanceusdm": (Kind.USDM, "ccxt:binanceusdm", "BTC/USDT:USDT"),
}


def _fail_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("FAIL")]


@pytest.mark.parametrize("exchange", sorted(CASES))
def test_preflight_when_api_secret_wrong_then_fail_exit_2_and_run_refused(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread], exchange: str
) -> None:
    kind, venue, symbol = CASES[exchange]
    venue_thread = emulator_thread_factory(kind, max_events=50)
    armed = arm(tmp_path, venue_thread.emulator, venue=venue, symbol=symbol, strategy=TAKER, params=TAKER_PARAMS)
    prefix = venue.partition(":")[2].upper()
    armed.env[f"LIVEGATE_{prefix}_API_SECRET"] = "not-the-secret"

    checked = preflight(armed, "live")

    assert checked.returncode == 2, checked.stdout + checked.stderr
    fails = [line for line in _fail_lines(checked.stdout) if not line.startswith("FAIL preflight (mode")]
    assert [line.split(":")[0] for line in fails] == ["FAIL venue auth"], checked.stdout
    assert "-1022" in fails[0]
    # an authenticated call was made (and refused) ...
    signed = [r for r in requests_log(venue_thread) if "/account" in r[2] or "/balance" in r[2]]
    assert signed
    # ... and no session trades without a passing preflight
    result = run(armed, "live", tmp_path / "run", max_events=50)
    assert result.returncode != 0
    assert venue_thread.call(lambda e: list(e.book.orders.values())) == []


@pytest.mark.parametrize("skew_ms", [30_000, -30_000])
def test_preflight_when_venue_clock_30s_off_then_fail_exit_2(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread], skew_ms: int
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, max_events=50)
    venue_thread.call(lambda e: e.set_clock_skew(skew_ms))
    armed = arm(
        tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT", strategy=TAKER, params=TAKER_PARAMS
    )

    checked = preflight(armed, "live")

    assert checked.returncode == 2, checked.stdout + checked.stderr
    fails = [line for line in _fail_lines(checked.stdout) if not line.startswith("FAIL preflight (mode")]
    assert fails[0].startswith("FAIL clock:") and "half the recvWindow" in fails[0], checked.stdout
    assert all(line.startswith("FAIL clock:") or "-1021" in line for line in fails)  # the venue agrees
    assert venue_thread.call(lambda e: list(e.book.orders.values())) == []
