"""IBKR sessions meet TWS's message rate limit: error 100, the message dropped, the client closed after repeats.

TWS takes at most 50 messages a second from an API client; over that it answers error
100 "Max rate of messages per second has been exceeded" and does not act on the message,
and "will eventually close the connection" (tests/tws_emulator/pacing.py has the sources).
livegate paces its own requests (125 ms apart) far below 50 a second, so here the
emulator's limit is lowered for a while: livegate's ordinary traffic (a strategy that
replaces its resting buy every few quotes) then crosses it, and TWS drops place and
cancel messages as it would. The ``livegate`` CLI runs as a subprocess through
unmodified ib_async; afterwards TWS's own orders, executions and position are read.

A dropped ``placeOrder`` placed nothing (the order is rejected with code 100, never
resent); a dropped ``cancelOrder`` cancelled nothing: the order still works at TWS. ib_async
marks an order ``Cancelled`` locally on any error about it, 100 included, so the adapter
must not read that as a cancellation (it did: the ledger recorded ``cancelled`` for an
order TWS was still working).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.tws_emulator import TwsThread
from tests.tws_emulator.pacing import MessageRateLimit
from tests.venues_ibkr_e2e.helpers import (
    STRATEGY,
    SYMBOL,
    arm,
    explain,
    finish,
    ledger_events,
    ledger_fill_ids,
    session_refs,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

REQUOTE = f"{STRATEGY}:Requote"
REQUOTE_PARAMS = 'quantity = "1"\nrequote_every = 4'
PLACE, CANCEL = 3, 4


def _check_tws_equals_ledger(tws: TwsThread, out: Path) -> None:
    """Assert what TWS holds is what the ledger says: orders placed once, none open, fills, position."""
    refs = session_refs(out)
    placed = set(tws.call(lambda t: list(t.placements)))
    assert tws.call(lambda t: t.duplicate_order_refs()) == []  # nothing resent
    assert placed <= refs  # TWS has no order livegate did not ask for
    final = {}
    for kind, p in ledger_events(out):
        if kind == "order_report":
            final[p["client_order_id"]] = p
    for cid in refs - placed:  # never reached TWS: the ledger says so with a definite refusal
        assert final[cid]["status"] == "rejected" and final[cid]["code"] in ("100", "NOT_CONNECTED"), final[cid]
    tws_status = {o.order_ref: o.status for o in tws.call(lambda t: list(t.orders.values()))}
    for cid in placed:
        ledger_status = final[cid]["status"]
        assert ledger_status in ("cancelled", "filled"), (cid, final[cid])
        assert tws_status[cid] == ledger_status.capitalize(), (cid, tws_status[cid], final[cid])
    cancelled_by_pacing = [
        p for k, p in ledger_events(out) if k == "order_report" and p["status"] == "cancelled" and p["code"] == "100"
    ]
    assert cancelled_by_pacing == []  # a dropped cancel is not a cancellation
    assert tws.call(lambda t: t.open_orders()) == []
    assert summary(out)["open_orders"] == 0
    assert sorted(ledger_fill_ids(out)) == sorted(f.exec_id for f in tws.call(lambda t: list(t.fills)))
    held = summary(out)["positions"].get(SYMBOL, {"quantity": "0"})["quantity"]
    assert Decimal(held) == tws.call(lambda t: t.position(SYMBOL))


@pytest.mark.slow
def test_pacing_when_tws_drops_place_and_cancel_with_error_100_then_nothing_lost_or_resent_and_ledger_matches_tws(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live", strategy=REQUOTE, params=REQUOTE_PARAMS)
    write_preflight(armed, "live")
    out = tmp_path / "run"
    limit = MessageRateLimit(max_per_sec=2)  # TWS's rule, at a ceiling livegate's own traffic crosses
    proc = start_run(armed, "live", out, 900)
    try:
        wait_until(lambda: len(tws.call(lambda t: t.placements)) >= 1, what="a resting order at TWS")
        tws.call(lambda t: setattr(t, "rate_limit", limit))
        dropped = lambda: {m for m, _ in tws.call(lambda t: list(limit.dropped))}  # noqa: E731
        placed = lambda: len(tws.call(lambda t: t.placements))  # noqa: E731
        wait_until(lambda: CANCEL in dropped(), timeout=10, what="a dropped cancelOrder")
        before = placed()
        wait_until(
            lambda: placed() > before and PLACE in dropped(),
            timeout=10,
            what="requoting after the dropped cancel (cancelled again and replaced) and a dropped placeOrder",
        )
        tws.call(lambda t: setattr(limit, "max_per_sec", 50))  # back to IB's 50 a second
        result = finish(proc)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert result.returncode in (0, 3), explain(result, out)
    assert "Max rate of messages per second has been exceeded" in result.stderr
    assert limit.disconnects == 0
    _check_tws_equals_ledger(tws, out)


@pytest.mark.slow
def test_pacing_when_tws_closes_the_client_after_repeated_violations_then_reconnects_and_ledger_matches_tws(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live", strategy=REQUOTE, params=REQUOTE_PARAMS)
    write_preflight(armed, "live")
    out = tmp_path / "run"
    limit = MessageRateLimit(max_per_sec=2, disconnect_after=3)
    proc = start_run(armed, "live", out, 1000)
    try:
        wait_until(lambda: len(tws.call(lambda t: t.placements)) >= 1, what="a resting order at TWS")
        tws.call(lambda t: setattr(t, "rate_limit", limit))
        wait_until(lambda: tws.call(lambda t: limit.disconnects) >= 1, timeout=20, what="TWS closing the client")
        tws.call(lambda t: setattr(limit, "max_per_sec", 50))
        wait_until(lambda: tws.call(lambda t: t.connections) == 1, timeout=20, what="the reconnect")
        result = finish(proc)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert result.returncode in (0, 3), explain(result, out)
    assert "ibkr reconnected to" in result.stderr
    events = ledger_events(out)
    assert any(k == "reconciled" and p["trigger"] == "reconnect" for k, p in events), [k for k, _ in events][-40:]
    _check_tws_equals_ledger(tws, out)
