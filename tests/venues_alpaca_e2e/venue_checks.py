"""Compare the Alpaca emulator's own state with an ended session's ledger (the fault tests' last word).

The venue's truth: its executions, open orders, positions and cash, and the client order
ids of every ``POST /v2/orders`` it received. The ledger's: its ``fill`` events folded
into positions and working orders (:func:`livegate.ledger.fold.fold_events`, the fold
every reader of a ledger uses).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from livegate.ledger import Ledger
from livegate.ledger.fold import fold_events
from tests.alpaca_emulator.fixtures import AlpacaThread
from tests.run_dir_helpers import ledger_events, summary

__all__ = ["assert_each_client_order_id_posted_once", "assert_venue_matches_ledger"]

STARTING_CASH = Decimal(100_000)


def assert_each_client_order_id_posted_once(venue_thread: AlpacaThread) -> list[str]:
    """Assert no client order id reached ``POST /v2/orders`` twice; return them in arrival order."""
    submits = venue_thread.call(lambda e: list(e.submits))
    assert len(submits) == len(set(submits)), sorted(c for c in set(submits) if submits.count(c) > 1)
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []
    return submits


def assert_venue_matches_ledger(venue_thread: AlpacaThread, out: Path, symbol: str = "SPY") -> None:
    """Assert the venue's fills, open orders, position and cash are what the ended session's ledger says.

    Every venue execution is in the ledger once under its ``execution_id`` and the ledger
    holds no other fill; livegate has no order open at the venue and none working in its
    book; the venue's position is the ledger's and the summary's; the venue's cash moved by
    exactly the ledger fills' notional (Alpaca charges no commission on equities).
    Orders livegate did not make (outside client ids) may stay open.
    """
    executions = venue_thread.call(lambda e: list(e.executions))
    fills = [p for kind, p in ledger_events(out) if kind == "fill"]
    assert sorted(str(p["fill_id"]) for p in fills) == sorted(x.execution_id for x in executions)
    ours = set(venue_thread.call(lambda e: list(e.submits)))
    open_now = [o["client_order_id"] for o in venue_thread.call(lambda e: e.open_orders())]
    assert [cid for cid in open_now if cid in ours] == []
    with Ledger.open(out / "ledger.sqlite", synchronous="OFF") as ledger:
        folded = fold_events(list(ledger.events()))
    assert folded.portfolio.working_orders() == []
    sign = {"buy": 1, "sell": -1}
    signed = sum((Decimal(p["quantity"]) * sign[p["side"]] for p in fills), Decimal(0))
    notional = sum((Decimal(p["quantity"]) * Decimal(p["price"]) * sign[p["side"]] for p in fills), Decimal(0))
    assert venue_thread.call(lambda e: e.position(symbol)) == signed == folded.portfolio.position(symbol).quantity
    assert Decimal(summary(out)["positions"].get(symbol, {"quantity": "0"})["quantity"]) == signed
    assert venue_thread.call(lambda e: e.cash) == STARTING_CASH - notional
