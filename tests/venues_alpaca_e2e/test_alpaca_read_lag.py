"""Read lag after an ambiguous submit: Alpaca's order lookups miss an accepted order for a while.

Alpaca places the order, but its answer comes after the client's timeout, the
``trade_updates`` events of the order never arrive, and for 2 s after the accept
``GET /v2/orders:by_client_order_id`` and ``GET /v2/orders/{id}`` answer 404 "order not
found" (the venue's lookups trail its order entry). A lookup that finds nothing is not
truth (docs/architecture.md §3.6): livegate must keep the order in flight, never POST its
client order id again, and settle it once the venue shows it, with the venue's own
executions. The test runs the ``livegate`` CLI against the Alpaca emulator through
unmodified alpaca-py and checks the emulator's orders, fills, position and cash.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.alpaca_emulator.fixtures import AlpacaThread
from tests.run_dir_helpers import explain
from tests.venues_alpaca_e2e.helpers import arm, ledger_events, run, write_preflight
from tests.venues_alpaca_e2e.venue_checks import assert_each_client_order_id_posted_once, assert_venue_matches_ledger

HOLD = 'quantity = "2"\noffset = "0.50"\nmarket_first = true'
LAG_SECS = 2.0


@pytest.mark.slow
def test_alpaca_submit_when_answer_times_out_and_lookups_lag_then_resolved_without_resend_and_venue_matches(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=10)
    armed = arm(tmp_path, venue_thread.emulator, params=HOLD, timeout_ms=1000)
    write_preflight(armed, "live")
    venue_thread.call(lambda e: e.hang_next_submit(2.0))  # the market buy is placed and filled; its answer is late
    venue_thread.call(lambda e: e.lose_trade_updates(2))  # its "new" and "fill" events never arrive
    venue_thread.call(lambda e: e.lag_order_lookups(LAG_SECS))  # and lookups miss it for 2 s

    out = tmp_path / "run"
    result = run(armed, "live", out, 450, "--ignore-market-hours")

    assert result.returncode in (0, 3), explain(result, out)
    submits = assert_each_client_order_id_posted_once(venue_thread)
    first = submits[0]
    events = ledger_events(out)
    anomalies = [p["kind"] for kind, p in events if kind == "anomaly"]
    assert "ambiguous_submit" in anomalies and "resend_after_lookup" not in anomalies, anomalies
    # lookups inside the lag found nothing, and the order was neither rejected nor resent
    assert venue_thread.call(lambda e: e.faults.lagged_lookups) >= 1, explain(result, out)  # the lag fired
    reports = [p["status"] for kind, p in events if kind == "order_report" and p["client_order_id"] == first]
    assert "rejected" not in reports, reports
    # settled with the venue's own executions (their ids), not a stand-in fill adopted from the lookup
    assert "fills_adopted" not in anomalies, anomalies
    venue_ids = venue_thread.call(lambda e: [x.execution_id for x in e.executions if x.client_order_id == first])
    assert [p["fill_id"] for kind, p in events if kind == "fill" and p["client_order_id"] == first] == venue_ids
    assert venue_thread.call(lambda e: e.position("SPY")) == Decimal(2)  # bought once, never twice
    assert_venue_matches_ledger(venue_thread, out)
