"""A fill the session learns of long after its order finished (issue 14 item 2, end to end).

The session's report reader (:class:`livegate.ops.rollup_read.RunReader`) lets a finished
order go :data:`~livegate.ledger.fold_retire.RETIRE_AFTER_EVENTS` ledger events after it
finished and reads its events back from the session's ledger when a later event names
it (:mod:`livegate.ledger.fold_retire`). Here that later event is what a real Binance
account shows after a silent private-stream outage: a resting limit buy is partly filled
by a public print while the user data stream delivers nothing (a half-open connection:
the execution report of the trade is never sent again); the strategy cancels the buy
and the cancel's REST answer finishes it, with no fill known. Over a thousand ledger
events later the stream drops, the adapter reconnects and imports the account's trades
of the gap (``GET /api/v3/myTrades``, :mod:`livegate.venues.ccxt.gap`): the fill is
recorded against the retired, cancelled order. A later blip of the market streams makes
the session reconcile again, so the reader (also the reconciler's ledger fill index)
reads the fill while the session runs, its ledger open. The venue's truth (its order,
trade and balances through the emulator) must then agree with ``summary.json``,
``report.html`` (the session reader's fold), that reconciliation and a whole fold of the
ledger; the session's log says the reader brought one order back.

When the session cannot read the retired order back (its ledger connection fails, here in
a CLI process whose ``Ledger.rows_between`` fails: tests/venues_e2e/unreadable_ledger_cli.py),
the late fill arrives in the private stream's task, which dies of the error; the session
must still halt, record the fill, send no order after it, say which order and seqs it could
not read, and exit 3.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from livegate.ledger import Ledger
from livegate.ledger.export import iter_rows
from livegate.ledger.fold import fold_events
from livegate.ledger.fold_retire import RETIRE_AFTER_EVENTS
from livegate.ops.report import write_run_report
from livegate.ops.rollup_read import REPORT_TABLE_ROWS, RunReader
from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    arm,
    explain,
    finish,
    ledger_events,
    requests_log,
    start_run,
    summary,
    wait_until,
    write_preflight,
)

STRATEGY = f"{Path(__file__).with_name('late_event_strategy.py')}:LateEventProbe"
PAD = REPORT_TABLE_ROWS  # denied intents before the buy: it is the first order the reader may retire
AFTER = RETIRE_AFTER_EVENTS // 2 + 40  # denied intents after its cancel (two events each)
PARAMS = f'quantity = "0.002"\noffset = "200"\noversize = "1"\npad = {PAD}\nafter = {AFTER}\nper_quote = 50'
SYMBOL = "BTC/USDT"


def _rows(out: Path) -> list[tuple[int, str, dict[str, Any]]]:
    """Return ``(seq, kind, payload)`` of the ledger's committed events (read-only: the session writes)."""
    with sqlite3.connect(f"file:{out / 'ledger.sqlite'}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT seq, kind, payload FROM events ORDER BY seq").fetchall()
    return [(seq, kind, json.loads(payload)) for seq, kind, payload in rows]


def _trade_lists(venue_thread: EmulatorThread) -> list[int]:
    """Return the venue times of the account trade lists asked for (a reconciliation reads one)."""
    return [t for t, method, path in requests_log(venue_thread) if (method, path) == ("GET", "/api/v3/myTrades")]


def _named(rows: list[tuple[int, str, dict[str, Any]]], cid: str) -> list[tuple[int, str, dict[str, Any]]]:
    return [r for r in rows if r[2].get("client_order_id") == cid]


@pytest.mark.slow
def test_report_reader_when_a_fill_arrives_after_its_cancelled_order_was_retired_then_rebuilt_and_run_matches_venue(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    # cash only: no starting inventory to adopt, so a clean run's report has a green banner
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3800, balances={"USDT": Decimal(10_000)})
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol=SYMBOL, strategy=STRATEGY, params=PARAMS)
    write_preflight(armed, "live")
    usdt_before, btc_before = venue_thread.call(lambda e: (e.balance("USDT")[0], e.balance("BTC")[0]))

    out = tmp_path / "run"
    # the feed holds 3,854 events; a session under load sees fewer (a market-stream drop loses
    # some, and watchBidsAsks keeps only each symbol's latest quote), so it stops at 2,400, well before the feed ends
    proc = start_run(armed, "live", out, max_events=2400)
    try:
        wait_until(lambda: bool(venue_thread.call(lambda e: e.open_orders())), what="the resting buy at the venue")
        (resting,) = venue_thread.call(lambda e: e.open_orders())
        cid_at_venue = resting.client_order_id
        # the private stream goes silent (a half-open connection): no execution report reaches the session
        venue_thread.call(lambda e: e.lose_private(10_000))
        part = resting.quantity / 2
        venue_thread.call(lambda e: e.print_trade(resting.price, part))  # hits the buy: a partial fill
        wait_until(lambda: resting.status == "CANCELED", what="the strategy's cancel of the hit buy")
        cid = next(p["client_order_id"] for _, kind, p in _rows(out) if kind == "submit_requested")

        def finished_at() -> list[int]:
            return [s for s, k, p in _named(_rows(out), cid) if k == "order_report" and p["status"] == "cancelled"]

        wait_until(lambda: bool(finished_at()), what="the cancel report in the ledger")
        (finished,) = finished_at()
        wait_until(
            lambda: _rows(out)[-1][0] > finished + RETIRE_AFTER_EVENTS + 40, what="a thousand ledger events more"
        )
        # the outage is found: the stream drops, the adapter reconnects and imports the gap's trades
        venue_thread.call(lambda e: setattr(e.faults.private, "lose", 0))
        assert venue_thread.run(venue_thread.emulator.drop_private_stream()) >= 1
        wait_until(lambda: any(k == "fill" for _, k, _p in _rows(out)), what="the gap's fill in the ledger")
        # a later blip of the market streams: the session reconciles (its reconnect pass ran before
        # the import), and so reads the ledger's new events through the reader, ledger still open
        asked = len(_trade_lists(venue_thread))
        assert venue_thread.run(venue_thread.emulator.drop_market_streams()) >= 1
        wait_until(lambda: len(_trade_lists(venue_thread)) > asked, what="a reconciliation after the fill")
        venue_thread.call(lambda e: setattr(e, "pace_ms", 1))  # nothing left to wait for: the rest of the feed
        result = finish(proc)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert result.returncode == 0, explain(result, out)
    # the venue: the buy was cancelled after one partial fill, which is the account's only trade
    (trade,) = venue_thread.call(lambda e: e.fills())
    assert (trade.client_order_id, trade.qty, trade.price) == (cid_at_venue, part, resting.price)
    assert (resting.status, resting.executed_qty) == ("CANCELED", part)
    assert venue_thread.call(lambda e: e.open_orders()) == []
    usdt_after, btc_after = venue_thread.call(lambda e: (e.balance("USDT")[0], e.balance("BTC")[0]))
    assert usdt_before - usdt_after == part * resting.price
    assert btc_after - btc_before == part - trade.commission

    # the ledger: the fill is the first event naming the order since it finished, more than
    # RETIRE_AFTER_EVENTS events later, and the order is past the entries the reader always keeps
    rows = _rows(out)
    first_seen: dict[str, int] = {}
    for _, _, payload in rows:
        if "client_order_id" in payload:
            first_seen.setdefault(str(payload["client_order_id"]), len(first_seen))
    assert first_seen[cid] >= REPORT_TABLE_ROWS
    named = _named(rows, cid)
    fill_at = next(i for i, (_, kind, _p) in enumerate(named) if kind == "fill")
    (fill_seq, _, fill), (before_seq, before_kind, before) = named[fill_at], named[fill_at - 1]
    assert (before_kind, before["status"]) == ("order_report", "cancelled")
    assert fill_seq - before_seq > RETIRE_AFTER_EVENTS
    assert (fill["fill_id"], Decimal(fill["quantity"])) == (str(trade.trade_id), part)
    # its slippage is against its decision's arrival mid, which the engine let go with the order
    # and read back from the ledger for this fill
    decision = next(p for _, kind, p in named if kind == "decision")
    assert decision["arrival"] is not None and fill["arrival_mid"] == decision["arrival"]["mid"]
    assert fill["slippage_bps"] is not None
    assert {kind for _, kind, _p in named[fill_at + 1 :]} <= {"markout"}  # its markouts (no order change)
    # the session's reader, the reconciler's fill index, rebuilt the order and counted its fill while
    # the session ran: the next reconciliation found the venue's fills and the ledger's equal
    after = [p for seq, kind, p in rows if kind == "reconciled" and seq > fill_seq]
    assert after and after[0]["clean"] and after[0]["fills_matched"]["ledger_fills"] == 1, after

    # a whole fold of the ledger (no retirement), summary.json and the session's report agree with the venue
    with Ledger.open(out / "ledger.sqlite", synchronous="OFF") as ledger:
        whole = fold_events(list(ledger.events()))
    order = whole.order(cid)
    assert order is not None and (order.status.value, order.filled_quantity) == ("cancelled", part)
    assert [f.fill_id for f in whole.fills] == [str(trade.trade_id)]
    assert whole.portfolio.position("BTC/USDT").quantity == part
    facts = summary(out)
    assert facts["fills"] == 1
    assert Decimal(facts["positions"][SYMBOL]["quantity"]) == part
    page = (out / "report.html").read_text(encoding="utf-8")
    orders_part, fills_part = page.split("<h2>Orders", 1)[1].split("<h2>Fills", 1)
    assert f"(first {REPORT_TABLE_ROWS} of {len(first_seen)})" in orders_part
    assert fills_part.count("<tr><td") == 1 and f">{cid}<" in fills_part
    assert "data-banner='ok'" in page

    # the session's reader brought the order back (stderr); a reader of the file does the same, same page
    assert "brought back 1 finished order" in result.stderr, result.stderr[-3000:]
    # and so did the engine's book, which had let it go with the reader at the reconciliation before the fill
    assert "execution engine: brought back 1 finished order" in result.stderr, result.stderr[-3000:]
    reader = RunReader(out)
    reader.take_rows(iter_rows(out))
    assert reader.fold.retirement is not None and reader.fold.retirement.revived == 1
    again = tmp_path / "again" / out.name
    shutil.copytree(out, again)
    (again / "report.html").unlink()
    assert write_run_report(again, summary(out)).read_text(encoding="utf-8") == page
    assert ledger_events(out)[-1][0] == "session_ended"


@pytest.mark.slow
def test_engine_when_a_late_fill_names_a_retired_order_it_cannot_read_back_then_halted_fill_recorded_exit_3(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3800, balances={"USDT": Decimal(10_000)})
    armed = arm(tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol=SYMBOL, strategy=STRATEGY, params=PARAMS)
    write_preflight(armed, "live")
    usdt_before, btc_before = venue_thread.call(lambda e: (e.balance("USDT")[0], e.balance("BTC")[0]))

    out = tmp_path / "run"
    proc = start_run(armed, "live", out, max_events=2400, script=Path(__file__).with_name("unreadable_ledger_cli.py"))
    try:
        wait_until(lambda: bool(venue_thread.call(lambda e: e.open_orders())), what="the resting buy at the venue")
        (resting,) = venue_thread.call(lambda e: e.open_orders())
        venue_thread.call(lambda e: e.lose_private(10_000))  # silent private stream: the fill is not reported
        part = resting.quantity / 2
        venue_thread.call(lambda e: e.print_trade(resting.price, part))
        wait_until(lambda: resting.status == "CANCELED", what="the strategy's cancel of the hit buy")
        cid = next(p["client_order_id"] for _, kind, p in _rows(out) if kind == "submit_requested")

        def finished_at() -> list[int]:
            return [s for s, k, p in _named(_rows(out), cid) if k == "order_report" and p["status"] == "cancelled"]

        wait_until(lambda: bool(finished_at()), what="the cancel report in the ledger")
        (finished,) = finished_at()
        wait_until(
            lambda: _rows(out)[-1][0] > finished + RETIRE_AFTER_EVENTS + 40, what="a thousand ledger events more"
        )
        # the stream drops: its reconciliation lets the order go (reader and engine), then the adapter imports
        # the gap's fill, for which the engine must read the order back, and cannot
        venue_thread.call(lambda e: setattr(e.faults.private, "lose", 0))
        assert venue_thread.run(venue_thread.emulator.drop_private_stream()) >= 1
        result = finish(proc)  # the session stops by itself
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert result.returncode == 3, explain(result, out)
    rows = _rows(out)
    first_seq = _named(rows, cid)[0][0]
    said = f"ledger read failed: cannot rebuild finished order {cid} from ledger seqs {first_seq} to "
    (anomaly,) = [(seq, p) for seq, kind, p in rows if kind == "anomaly"]  # nothing else went wrong
    assert anomaly[1]["kind"] == "storage_failed"
    at, detail = anomaly[0], str(anomaly[1]["detail"])
    assert detail.startswith(said) and "for the execution engine's book: " in detail, detail
    assert detail.endswith("database disk image is malformed")
    assert f"storage failure: {detail}; halting" in result.stderr, result.stderr[-3000:]
    # the adapter's private-stream task says so too, and reads on (it used to end silently)
    assert "stream: handling an event failed: " in result.stderr, result.stderr[-3000:]
    facts = summary(out)
    assert facts["end_reason"] == f"storage failure: {detail}"
    assert facts["trading_state"]["state"] == "halted"
    # the venue's fill is in the ledger (recorded, not applied), and no order was sent after the failure
    (trade,) = venue_thread.call(lambda e: e.fills())
    fills = [(seq, p) for seq, kind, p in rows if kind == "fill"]
    assert [(p["client_order_id"], p["fill_id"]) for _, p in fills] == [(cid, str(trade.trade_id))]
    assert not [seq for seq, kind, _ in rows if kind == "submit_requested" and seq > at]
    assert not [p for seq, kind, p in rows if kind == "decision" and p["approved"] and seq > at]
    # a whole fold of the ledger is the venue: the cancelled buy's one partial fill, nothing open
    assert venue_thread.call(lambda e: e.open_orders()) == []
    with Ledger.open(out / "ledger.sqlite", synchronous="OFF") as ledger:
        whole = fold_events(list(ledger.events()))
    order = whole.order(cid)
    assert order is not None and (order.status.value, order.filled_quantity) == ("cancelled", part)
    assert whole.portfolio.working_orders() == [] and whole.portfolio.position(SYMBOL).quantity == part
    usdt_after, btc_after = venue_thread.call(lambda e: (e.balance("USDT")[0], e.balance("BTC")[0]))
    assert (usdt_before - usdt_after, btc_after - btc_before) == (part * resting.price, part - trade.commission)
    assert ledger_events(out)[-1] == ("session_ended", {"reason": facts["end_reason"]})
