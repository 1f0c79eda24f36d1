"""The halt routine against a venue whose cancels fail (issue 10, 3f).

With the market maker's orders resting at the venue, the operator runs ``livegate kill``
while every cancel answers 503 for a while: the session keeps retrying cancel-all within
the rate budget, with backoff, never crashes, and ends with no order open at the venue,
without ever being rate-limited or banned. The test runs the ``livegate`` CLI against
the exchange emulator through real ccxt and reads the venue's own open orders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.venue_emulator import HttpFault, Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    arm,
    cli,
    explain,
    finish,
    requests_log,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

CASES = {
    "binance": (Kind.SPOT, "ccxt:binance", "BTC/USDT"),
    "binanceusdm": (Kind.USDM, "ccxt:binanceusdm", "BTC/USDT:USDT"),
}
FAILED_CANCELS = 3


@pytest.mark.slow
@pytest.mark.parametrize("exchange", sorted(CASES))
def test_halt_when_cancels_fail_503_then_retries_within_budget_and_ends_with_no_open_orders(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread], exchange: str
) -> None:
    kind, venue, symbol = CASES[exchange]
    venue_thread = emulator_thread_factory(kind, pace_ms=4, max_events=3600)
    armed = arm(tmp_path, venue_thread.emulator, venue=venue, symbol=symbol)  # the market maker
    armed.env["LIVEGATE_KILL__MAX_REJECTS"] = "1000"  # post-only crosses are not this test's subject
    write_preflight(armed, "live")

    out = tmp_path / "run"
    proc = start_run(armed, "live", out, max_events=1000)
    wait_until(lambda: len(venue_thread.call(lambda e: e.open_orders())) >= 2, what="resting maker orders")
    for path in ("/openOrders", "/allOpenOrders", "/order", "/batchOrders"):
        venue_thread.call(
            lambda e, p=path: e.fail_next(
                HttpFault(p, "DELETE", status=503, code=-1001, msg="Internal error.", count=FAILED_CANCELS)
            )
        )
    killed = cli(armed, "kill", "--reason", "e2e: halt with failing cancels")
    assert killed.returncode == 0, killed.stderr
    result = finish(proc)

    assert result.returncode == 3, explain(result, out)
    assert summary(out)["trading_state"]["state"] == "halted"
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert summary(out)["open_orders"] == 0
    # the cancels did fail, and the routine went on until the venue had none open
    spent = venue_thread.call(lambda e: sum(FAILED_CANCELS - f.count for f in e.faults.http))
    assert spent >= 1
    deletes = [r for r in requests_log(venue_thread) if r[1] == "DELETE"]
    assert len(deletes) > spent
    # within the budget: the venue never had to answer 429 or ban
    assert venue_thread.call(lambda e: (e.gate.limited_until_ms, e.gate.banned_until_ms)) == (0, 0)
