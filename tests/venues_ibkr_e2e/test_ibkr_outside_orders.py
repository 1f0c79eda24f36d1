"""Orders on the IBKR account that this session did not place survive its end and its kill.

An IBKR account is often shared: orders typed into TWS by hand (client 0), or sent by
another API program, work beside livegate's. livegate leaves orders with other client
ids alone (docs/recovery.md, "Leftover orders"); at IBKR its open orders and lookups are
those of its own API client id (``reqOpenOrders``). TWS's ``reqGlobalCancel`` cancels
"all open orders, regardless of how they were originally placed" (TWS API "Cancelling
Orders"), so a session that ends or halts with it wipes, say, a protective sell the
user keeps on another stock.

Each test runs the ``livegate`` CLI as a subprocess against the TWS emulator through
unmodified ib_async, puts outside orders on the account while the session trades, and
reads the emulator's own orders, fills and positions afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.tws_emulator import TwsThread
from tests.tws_emulator.server import TwsEmulator
from tests.venues_ibkr_e2e.helpers import (
    SYMBOL,
    arm,
    cli,
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


def _outside_orders(tws: TwsThread) -> list[tuple[int, str]]:
    """Put two working orders on the account: one typed into TWS (client 0), one of another API program."""

    def place(t: TwsEmulator) -> list[tuple[int, str]]:
        by_hand = t.place_outside_order("MSFT", "SELL", "10", "999.00")  # a protective sell on another holding
        other_bot = t.place_outside_order(SYMBOL, "BUY", "5", "1.00", client_id=42, order_ref="other-bot-1")
        return [(o.perm_id, o.order_ref) for o in (by_hand, other_bot)]

    return tws.call(place)


def _status(tws: TwsThread, perm_id: int) -> str:
    return tws.call(lambda t: t.orders[perm_id].status)


def _assert_session_untouched_by(outside: list[tuple[int, str]], tws: TwsThread, out: Path) -> None:
    for perm_id, _ in outside:
        assert _status(tws, perm_id) == "Submitted", (perm_id, _status(tws, perm_id))
    ours = session_refs(out)
    assert ours and not ours & {ref for _, ref in outside}
    # none of the session's own orders is left working; the outside ones are all that work
    assert {o.perm_id for o in tws.call(lambda t: t.open_orders())} == {p for p, _ in outside}
    venue_ids = {str(p) for p, _ in outside}
    assert not [p for k, p in ledger_events(out) if str(p.get("venue_order_id") or "") in venue_ids]
    assert sorted(ledger_fill_ids(out)) == sorted(f.exec_id for f in tws.call(lambda t: list(t.fills)))
    assert Decimal(summary(out)["positions"].get(SYMBOL, {"quantity": "0"})["quantity"]) == tws.call(
        lambda t: t.position(SYMBOL)
    )


@pytest.mark.slow
def test_session_end_when_outside_orders_work_on_the_ibkr_account_then_only_its_own_orders_cancelled(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 400)
    try:
        wait_until(lambda: len(tws.call(lambda t: t.open_orders())) >= 1, what="a resting order at TWS")
        outside = _outside_orders(tws)
    finally:
        result = finish(proc)

    assert result.returncode == 0, explain(result, out)
    assert summary(out)["trading_state"]["state"] == "active"
    assert summary(out)["open_orders"] == 0
    _assert_session_untouched_by(outside, tws, out)


@pytest.mark.slow
def test_kill_when_outside_orders_work_on_the_ibkr_account_then_only_the_sessions_orders_cancelled(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    write_preflight(armed, "live")
    out = tmp_path / "run"
    proc = start_run(armed, "live", out, 800)
    try:
        wait_until(lambda: len(tws.call(lambda t: t.open_orders())) >= 1, what="a resting order at TWS")
        outside = _outside_orders(tws)
        killed = cli(armed, "kill", "--reason", "e2e: operator kill beside outside orders")
        assert killed.returncode == 0, killed.stderr
        outside_ids = {p for p, _ in outside}
        wait_until(
            lambda: {o.perm_id for o in tws.call(lambda t: t.open_orders())} <= outside_ids,
            timeout=10,
            what="none of the session's orders working at TWS",
        )
        placed_after = tws.call(lambda t: len(t.placements))
    finally:
        result = finish(proc)

    assert result.returncode == 3, explain(result, out)
    assert summary(out)["trading_state"]["state"] == "halted"
    assert summary(out)["open_orders"] == 0
    assert tws.call(lambda t: len(t.placements)) == placed_after  # nothing new was sent while halted
    cancelled = {o.order_ref for o in tws.call(lambda t: list(t.orders.values())) if o.status == "Cancelled"}
    assert cancelled and cancelled <= session_refs(out)
    _assert_session_untouched_by(outside, tws, out)
