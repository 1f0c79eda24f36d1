"""HTTP 429 from Alpaca: nothing resent, no request until ``X-RateLimit-Reset``, the venue matches the ledger.

Alpaca answers a key over its 200 requests a minute with HTTP 429 ``{"code": 42910000,
"message": "rate limit exceeded"}`` and ``X-RateLimit-Reset`` (Unix seconds when the
window resets; "do not retry before the time indicated by X-RateLimit-Reset",
docs.alpaca.markets "Rate Limits"). alpaca-py would itself retry a 429 three times, 3 s
apart, for every method including ``POST /v2/orders``; livegate turns that off and must
neither resend the order nor send anything else before the reset. The test runs the
``livegate`` CLI against the Alpaca emulator through unmodified alpaca-py and checks the
emulator's own request log, orders, fills, position and cash.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.alpaca_emulator.fixtures import AlpacaThread
from tests.run_dir_helpers import explain
from tests.venues_alpaca_e2e.helpers import arm, ledger_events, run, summary, write_preflight
from tests.venues_alpaca_e2e.venue_checks import assert_each_client_order_id_posted_once, assert_venue_matches_ledger

#: Requests already on the wire when the 429 answer left the venue are not the client's fault (s).
IN_FLIGHT_SECS = 0.1
#: A market buy first (refused with 429), then marketable limit buys of one share (fills) up to 3, one per
#: 300 ms: a few orders inside the window (fewer than ``[kill] max_rejects``, whose storm would halt trading).
BUYER = 'quantity = "1"\noffset = "-0.02"\nmarket_first = true\nmax_position = "3"\npause_ms = "300"'


@pytest.mark.slow
def test_alpaca_submit_when_429_rate_limited_then_not_resent_no_request_until_reset_and_venue_matches_ledger(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    armed = arm(tmp_path, venue_thread.emulator, params=BUYER)
    write_preflight(armed, "live")
    venue_thread.call(lambda e: e.rate_limit_next_submit(1.0))  # window ends on the next whole second after 1 s

    out = tmp_path / "run"
    result = run(armed, "live", out, 400, "--ignore-market-hours")

    assert result.returncode == 0, explain(result, out)
    limited = venue_thread.call(lambda e: list(e.faults.rate_limited))
    first_429, method, path = limited[0]
    assert (method, path) == ("POST", "/v2/orders")
    # livegate read the 429 and sent nothing more until the reset: only requests already on the wire were refused
    late = [r for r in limited if r[0] - first_429 > IN_FLIGHT_SECS]
    assert late == [], explain(result, out)
    reset = venue_thread.call(lambda e: e.faults.rate_limited_until)
    assert reset - first_429 >= 1.0
    submits = assert_each_client_order_id_posted_once(venue_thread)
    refused = submits[0]
    assert refused not in venue_thread.call(lambda e: e.by_client_id)  # not placed, and never sent again
    events = ledger_events(out)
    reports = [p["status"] for kind, p in events if kind == "order_report" and p["client_order_id"] == refused]
    assert reports == ["rejected"]  # a definite "not placed", not an order of unknown outcome
    assert [p for kind, p in events if kind == "anomaly"] == []
    # trading went on after the reset, and the venue is what the ledger says
    assert len(submits) > 1 and summary(out)["fills"] == 3
    assert_venue_matches_ledger(venue_thread, out)
