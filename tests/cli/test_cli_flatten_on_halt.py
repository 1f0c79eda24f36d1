"""Issue 9 §10: ``[kill] flatten_on_halt`` in a running venue session closes the position in rounds.

``livegate run --mode live`` runs as a subprocess on an armed machine against the fake
venue (paced stream, book written to a file when the session closes it). Once the
session holds a position larger than one order's cap, ``livegate kill`` halts it; the
session cancels, then flattens with reduce-only pieces in rounds beside its loop.
Checked afterwards: the venue's own book (no position, no open order) and the ledger
(every flatten intent, decision and fill).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.control.faults import VENUE_FAULT_ENV
from livegate.domain.enums import Mode
from tests.integration.session_helpers import Event, kill_events, kill_now, read_ledger, start_run, stop, wait_for
from tests.modes.live_helpers import PROFILE, armed_setup, subprocess_env

# 300 USD per order, 0.004 BTC (about 240 USD) per quote: two fills on one side need two closing pieces
FLATTEN_PROFILE = (
    PROFILE.replace("max_order_notional_usd = 1000", "max_order_notional_usd = 300").replace(
        'quantity = "0.002"', 'quantity = "0.004"\nhalf_spread_bps = "0.5"\nmax_position = "0.2"'
    )
    + "\n[kill]\nflatten_on_halt = true\nflatten_timeout_ms = 20000\nflatten_retry_ms = 200\n"
)


def _position(events: list[Event]) -> Decimal:
    total = Decimal(0)
    for e in events:
        if e.kind == "fill":
            quantity = Decimal(str(e.payload["quantity"]))
            total += quantity if e.payload["side"] == "buy" else -quantity
    return total


def _flatten_ids(events: list[Event]) -> set[str]:
    return {str(e.payload["client_order_id"]) for e in events if e.kind == "intent" and e.payload.get("flatten")}


@pytest.mark.slow
def test_live_run_when_killed_with_position_and_flatten_on_halt_then_split_closed_and_venue_flat(
    tmp_path: Path,
) -> None:
    setup = armed_setup(tmp_path, mode=Mode.LIVE, profile_text=FLATTEN_PROFILE)
    book, run_dir = tmp_path / "book.json", tmp_path / "run"
    env = subprocess_env({**setup.env, VENUE_FAULT_ENV: f"pace:100,book_file:{book}"})
    args = ["--mode", "live", "--enable-live", "--profile", str(setup.profile), "--out", str(run_dir)]
    process = start_run(args, env, tmp_path)
    try:
        wait_for(lambda: abs(_position(read_ledger(run_dir))) >= Decimal("0.008"), 90, "a position above one cap")
        kill_now(env, tmp_path)
        wait_for(lambda: any(e["source"] == "cli:kill" for e in kill_events(run_dir)), 5, "the kill adopted")
        wait_for(lambda: bool(_flatten_ids(read_ledger(run_dir))) and _position(read_ledger(run_dir)) == 0,
                 20, "the flatten rounds to close the position")  # fmt: skip
        code, err = stop(process)
    finally:
        process.kill()
    assert code == 3, err[-3000:]
    venue = json.loads(book.read_text(encoding="utf-8"))
    assert venue["open_orders"] == []
    assert all(Decimal(q) == 0 for q in venue["positions"].values()), venue
    events = read_ledger(run_dir)
    ids = _flatten_ids(events)
    assert len(ids) >= 2, "split to [risk] max_order_notional_usd = 300"
    intents = [e.payload for e in events if e.kind == "intent" and e.payload["client_order_id"] in ids]
    assert all(p["reduce_only"] for p in intents)
    filled = [e for e in events if e.kind == "fill" and e.payload["client_order_id"] in ids]
    assert filled, "every fill of the flatten orders is in the ledger"
    assert _position(events) == 0
