"""The session's reads cannot spend the request weight its cancel-all needs (USD-M, weight budget).

livegate lets itself 80 % of Binance USD-M's 2,400 request weight per minute
(``WeightBudget.headroom``); the rest is kept for cancels. A cancel-all first reads the
open orders (``GET /fapi/v1/openOrders`` without a symbol: weight 40, counted as 80),
and the end confirms none is left with that read again. Reconciling every 0.3 s spends
the 80 % within the minute; the end's cancel-all, its read and the confirming read
must still go (they take from the whole limit), and leave nothing open at the venue.
The ``livegate`` CLI runs live against the emulator through real ccxt.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import arm, assert_fills_match_venue, explain, ledger_events, run, write_preflight


def test_end_when_reconciliations_spent_the_weight_headroom_then_cancel_all_still_goes_and_nothing_is_left_open(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.USDM, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binanceusdm", symbol="BTC/USDT:USDT")
    # 1,000 weight a minute: the session may spend 800, the end's cancel-all needs up to 161 of the other 200
    armed.env.update({"LIVEGATE_RECONCILE__INTERVAL_SECS": "0.2", "LIVEGATE_VENUE__RATE_WEIGHT_PER_MIN": "1000"})
    write_preflight(armed, "live")

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=900)

    anomalies = [p for kind, p in ledger_events(out) if kind == "anomaly"]
    # the session's own reads met the headroom (its reconciliations were not sent) ...
    spent = [a for a in anomalies if a["kind"] == "reconcile_incomplete" and "not sent: weight budget" in a["detail"]]
    assert spent, anomalies
    # ... and the end's cancel-all, its read and the confirming read went all the same
    assert [a for a in anomalies if a["kind"] != "reconcile_incomplete"] == []
    assert venue_thread.call(lambda e: e.open_orders()) == []
    assert_fills_match_venue(venue_thread.call(lambda e: e.fills()), out)
    assert result.returncode == 3, explain(result, out)  # the incomplete reconciliations are anomalies
