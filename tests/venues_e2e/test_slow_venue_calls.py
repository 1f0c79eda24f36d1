"""A slow venue call never blocks the session (issue 10, 3l).

The venue takes the first order at once but answers it only 2 s later (within the
3 s client timeout). Meanwhile the session must go on: quotes, timers and further
orders reach the venue during the wait. The test runs the ``livegate`` CLI against the
exchange emulator through real ccxt and reads the venue's own request log and orders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.venue_emulator import HttpFault, Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    TAKER,
    TAKER_PARAMS,
    arm,
    assert_fills_match_venue,
    explain,
    requests_log,
    run,
    summary,
    write_preflight,
)

DELAY_SECS = 2.0


@pytest.mark.slow
def test_submit_when_venue_answers_2s_late_then_session_keeps_sending_and_nothing_resent(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = arm(
        tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT", strategy=TAKER, params=TAKER_PARAMS
    )
    write_preflight(armed, "live")
    slow = HttpFault("/order", "POST", after_accept=True, delay_secs=DELAY_SECS, replace_answer=False)
    venue_thread.call(lambda e: e.fail_next(slow))

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=800)

    assert result.returncode == 0, explain(result, out)
    log = requests_log(venue_thread)
    first = next(i for i, (_, m, p) in enumerate(log) if m == "POST" and p.endswith("/order"))
    t0 = log[first][0]
    during = [r for r in log[first + 1 :] if r[0] - t0 < DELAY_SECS * 1000 - 200]
    assert any(m == "POST" and p.endswith("/order") for _, m, p in during), "the session waited on the slow call"
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    assert summary(out)["orders_submitted"] == len(venue_thread.call(lambda e: list(e.book.orders.values())))
    assert_fills_match_venue(venue_thread.call(lambda e: e.fills()), out)
