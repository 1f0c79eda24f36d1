"""Reads of a running session's ledger and the venue's state for the stream-fault end-to-end tests.

Shared by tests/venues_e2e/test_stream_drops_reconcile.py (the venue drops a stream),
tests/venues_e2e/test_market_data_handler_fault.py (livegate's own handling of a quote fails) and
the tests of an order whose answer is outstanding (test_crash_resume_in_flight.py, test_sigterm_in_flight.py).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from livegate.ledger import Ledger
from livegate.ledger.fold import fold_events
from tests.run_dir_helpers import finish, wait_until
from tests.venue_emulator.fixtures import EmulatorThread

Row = tuple[int, str, dict[str, Any]]


def committed_rows(out: Path) -> list[Row]:
    """Return ``(seq, kind, payload)`` of the ledger's committed events (read-only: the session writes)."""
    if not (out / "ledger.sqlite").exists():
        return []
    with sqlite3.connect(f"file:{out / 'ledger.sqlite'}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT seq, kind, payload FROM events ORDER BY seq").fetchall()
    return [(seq, kind, json.loads(payload)) for seq, kind, payload in rows]


def order_posts(venue_thread: EmulatorThread) -> Counter[str]:
    """Return how many times each client order id was POSTed to the venue's order endpoint (Binance spot)."""
    return venue_thread.call(
        lambda e: Counter(
            p.get("newClientOrderId", "") for m, path, p in e.rest.requests if (m, path) == ("POST", "/api/v3/order")
        )
    )


def reconnects(rows: list[Row]) -> list[int]:
    """Return the seqs of the reconciliations made after a stream interruption."""
    return [seq for seq, kind, p in rows if kind == "reconciled" and p["trigger"] == "reconnect"]


def sent_after(rows: list[Row], seq: int) -> int:
    """Return how many orders the session asked the venue for after ledger event ``seq``."""
    return sum(1 for s, kind, _ in rows if kind == "submit_requested" and s > seq)


def interruptions(out: Path) -> list[dict[str, Any]]:
    """Return the run's ``stream_interrupted`` anomalies from its telemetry, in order."""
    lines = (out / "telemetry.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == "anomaly" and e["anomaly_kind"] == "stream_interrupted"]


def assert_spot_venue_matches_ledger(
    venue_thread: EmulatorThread, out: Path, symbol: str, before: tuple[Decimal, Decimal], summary: dict[str, Any]
) -> None:
    """Assert the spot venue's fills, open orders and balances are what the ended session's ledger says.

    ``before`` is the account's free (base, quote) balance before the session, e.g. BTC and
    USDT for ``BTC/USDT``; fees are taken in the asset each fill names.
    """
    base, quote = symbol.split("/")
    rows = committed_rows(out)
    venue_fills = venue_thread.call(lambda e: e.fills())
    ledger_fills = [p for _, kind, p in rows if kind == "fill"]
    assert sorted(str(f.trade_id) for f in venue_fills) == sorted(str(p["fill_id"]) for p in ledger_fills)
    assert venue_thread.call(lambda e: e.open_orders()) == []
    with Ledger.open(out / "ledger.sqlite", synchronous="OFF") as ledger:
        whole = fold_events(list(ledger.events()))
    assert whole.portfolio.working_orders() == []
    sign = {"buy": 1, "sell": -1}
    signed = sum((Decimal(p["quantity"]) * sign[p["side"]] for p in ledger_fills), Decimal(0))
    cash = -sum((Decimal(p["quantity"]) * Decimal(p["price"]) * sign[p["side"]] for p in ledger_fills), Decimal(0))
    base_fees = sum((Decimal(p["fee_in_asset"]) for p in ledger_fills if p.get("fee_asset") == base), Decimal(0))
    quote_fees = sum((Decimal(p["fee"]) for p in ledger_fills if p.get("fee_asset", "") in ("", quote)), Decimal(0))
    base_after, quote_after = venue_thread.call(lambda e: (e.balance(base), e.balance(quote)))
    assert base_after == (before[0] + signed - base_fees, Decimal(0))
    assert quote_after == (before[1] + cash - quote_fees, Decimal(0))
    assert whole.portfolio.position(symbol).quantity == signed == Decimal(summary["positions"][symbol]["quantity"])


def stop_trading_and_finish(
    venue_thread: EmulatorThread, out: Path, proc: subprocess.Popen[str], stop: Path
) -> subprocess.CompletedProcess[str]:
    """Stop the probe strategy (``stop`` file), wait for every venue fill in the ledger, let the feed end.

    With no more orders, every fill reaches the ledger before the session ends; the rest of
    the emulator's feed then plays at 1 ms a quote. Returns the ended process's result.
    """
    stop.touch()
    venue_fill_ids = lambda: {str(f.trade_id) for f in venue_thread.call(lambda e: e.fills())}  # noqa: E731
    wait_until(
        lambda: {str(p["fill_id"]) for _, kind, p in committed_rows(out) if kind == "fill"} == venue_fill_ids(),
        what="every venue fill in the ledger",
    )
    venue_thread.call(lambda e: setattr(e, "pace_ms", 1))
    return finish(proc)
