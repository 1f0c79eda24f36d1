"""Orders of unknown outcome at a real venue's wire protocol (issue 10, 3b and 3c).

The venue takes the order and answers 503 -1007 (or -2010 "Duplicate order sent."),
and lookups by client order id miss it for 2 s (read lag). Each test runs the
``livegate`` CLI against the exchange emulator through real ccxt and then checks the
venue's own orders and fills against the run's ledger and summary.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from tests.venue_emulator import HttpFault, Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    TAKER,
    TAKER_PARAMS,
    arm,
    assert_fills_match_venue,
    ledger_events,
    run,
    signed_quantity,
    summary,
    write_preflight,
)

SPOT = ("ccxt:binance", "BTC/USDT")


def _first_client_order_id(out: Path) -> str:
    return str(next(p["client_order_id"] for kind, p in ledger_events(out) if kind == "submit_requested"))


def test_submit_when_503_1007_after_accept_and_lookups_lag_then_one_order_per_client_id_and_position_right(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue_thread.emulator, venue=SPOT[0], symbol=SPOT[1], strategy=TAKER, params=TAKER_PARAMS)
    write_preflight(armed, "live")
    venue_thread.call(lambda e: e.fail_next(HttpFault("/order", method="POST", after_accept=True)))
    venue_thread.call(lambda e: e.hide_new_orders(2.0))

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=400)

    # exit 3: the unknown outcome is recorded as an anomaly (docs/venues.md), then resolved
    assert result.returncode == 3, result.stderr[-3000:]
    assert [p["kind"] for kind, p in ledger_events(out) if kind == "anomaly"] == ["ambiguous_submit"]
    orders = venue_thread.call(lambda e: list(e.book.orders.values()))
    fills = venue_thread.call(lambda e: e.fills())
    facts = summary(out)
    first = _first_client_order_id(out)
    # the ambiguous order reached the venue once and was never resent; nor was any other
    assert [o.client_order_id for o in orders].count(first) == 1
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    assert facts["orders_submitted"] == len(orders) > 1
    # venue truth resolved it: its fill is in the ledger, and the position is the venue's
    assert any(f["client_order_id"] == first for kind, f in ledger_events(out) if kind == "fill")
    known = assert_fills_match_venue(fills, out)
    assert Decimal(facts["positions"][SPOT[1]]["quantity"]) == signed_quantity(known)
    assert venue_thread.call(lambda e: e.open_orders()) == []


def test_submit_when_venue_answers_duplicate_order_sent_then_order_not_rejected_and_its_fill_counted(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue_thread.emulator, venue=SPOT[0], symbol=SPOT[1], strategy=TAKER, params=TAKER_PARAMS)
    write_preflight(armed, "live")
    duplicate = HttpFault("/order", "POST", status=400, code=-2010, msg="Duplicate order sent.", after_accept=True)
    venue_thread.call(lambda e: e.fail_next(duplicate))
    venue_thread.call(lambda e: e.hide_new_orders(1.0))

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=400)

    # exit 3: the unknown outcome is recorded as an anomaly (docs/venues.md), then resolved
    assert result.returncode == 3, result.stderr[-3000:]
    assert [p["kind"] for kind, p in ledger_events(out) if kind == "anomaly"] == ["ambiguous_submit"]
    facts = summary(out)
    first = _first_client_order_id(out)
    reports = [p for kind, p in ledger_events(out) if kind == "order_report" and p["client_order_id"] == first]
    assert "rejected" not in {r["status"] for r in reports}
    assert facts["rejected"] == 0
    assert reports[-1]["status"] == "filled"  # the venue held it and filled it
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    orders = venue_thread.call(lambda e: list(e.book.orders.values()))
    assert facts["orders_submitted"] == len(orders)
    known = assert_fills_match_venue(venue_thread.call(lambda e: e.fills()), out)
    assert Decimal(facts["positions"][SPOT[1]]["quantity"]) == signed_quantity(known)
