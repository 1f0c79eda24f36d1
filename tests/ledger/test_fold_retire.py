"""A fold that lets finished orders go gives what a fold keeping them gives (issue 14 item 2).

The retiring fold (the session report's, :mod:`livegate.ledger.fold_retire`) must agree
with the whole fold on positions, applied fills and their keys, counters and every
order's state, also when the ledger says more about a finished order later: a fill that
raced the cancel, a repeated report, a fill repeated. A read back that fails says which
order and which seqs, tells the session, and leaves the order retired.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.errors import DataError, InvariantViolation, LedgerError
from livegate.domain.positions import Position
from livegate.ledger import Ledger
from livegate.ledger import events as ev
from livegate.ledger.db import rows_between
from livegate.ledger.events import LedgerEvent
from livegate.ledger.export import fold_table, iter_rows
from livegate.ledger.fold import LedgerFold, fold_events
from livegate.ledger.fold_copy import copy_order
from livegate.ledger.fold_retire import RETIRE_AFTER_EVENTS, NotKept, Retirement
from livegate.portfolio import Portfolio


def _events(run: Path) -> list[LedgerEvent]:
    with Ledger.open(run / "ledger.sqlite", synchronous="OFF") as recorded:
        return list(recorded.events())


def _retiring(ledger_path: Path, keep_first: int = 0) -> LedgerFold:
    retirement = Retirement(lambda first, last: rows_between(ledger_path, first, last), keep_first)
    fold = LedgerFold(approved_intents=NotKept(), retirement=retirement)
    for seq, ts_ms, kind, text, _prev, digest in iter_rows(ledger_path):
        fold.apply_payload(seq, ts_ms, kind, json.loads(text), digest)
    return fold


def _position(position: Position) -> tuple[object, ...]:
    return tuple(getattr(position, name) for name in Position.__slots__)


def _agree(retiring: LedgerFold, whole: LedgerFold) -> None:
    assert [_position(p) for p in retiring.portfolio.positions()] == [_position(p) for p in whole.portfolio.positions()]
    assert retiring.portfolio.fill_keys() == whole.portfolio.fill_keys()
    assert list(retiring.fills) == list(whole.fills)
    assert retiring.stats == whole.stats
    assert (retiring.anomalies, retiring.refused_fills) == (whole.anomalies, whole.refused_fills)
    assert retiring.entry_count == len(whole.entries)
    assert [retiring.routed(cid) for cid in whole.entries] == [whole.routed(cid) for cid in whole.entries]
    kept = {row["client_order_id"]: row for row in fold_table(retiring, "orders")[1]}
    full = {row["client_order_id"]: row for row in fold_table(whole, "orders")[1]}
    assert kept and all(full[cid] == row for cid, row in kept.items())  # what it holds is the whole fold's


def _late(events: list[LedgerEvent], status: str) -> tuple[str, dict[str, object]]:
    """Return the client order id of an order that ended ``status`` with nothing filled, and its intent payload."""
    ended = {e.payload["client_order_id"]: e for e in events if e.kind == ev.ORDER_REPORT}
    filled = {e.payload["client_order_id"] for e in events if e.kind == ev.FILL}
    intents = {e.payload["client_order_id"]: e.payload for e in events if e.kind == ev.INTENT}
    for cid, report in ended.items():
        if report.payload["status"] == status and cid not in filled and cid in intents:
            return str(cid), intents[cid]
    raise AssertionError(f"no order ended {status} unfilled")


def test_fold_when_finished_orders_retired_then_positions_fills_counters_and_kept_orders_agree(
    bundled_paper_run: Path,
) -> None:
    whole = fold_events(_events(bundled_paper_run))
    retiring = _retiring(bundled_paper_run / "ledger.sqlite", keep_first=3)
    _agree(retiring, whole)
    assert retiring.retirement is not None and len(retiring.retirement) > 100  # most orders let go
    # orders finished within the last RETIRE_AFTER_EVENTS events are still held whole
    assert len(retiring.entries) < len(whole.entries) / 2
    assert retiring.retirement.revived == 0  # nothing said more about a finished order in this run
    assert [r["client_order_id"] for r in fold_table(retiring, "orders", limit=3)[1]] == [
        r["client_order_id"] for r in fold_table(whole, "orders", limit=3)[1]
    ]


def test_fold_when_a_fill_raced_the_cancel_of_a_retired_order_then_brought_back_and_applied_late(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    events = _events(bundled_paper_run)
    cid, intent = _late(events, "cancelled")
    fill = {
        "client_order_id": cid,
        "fill_id": "late-1",
        "symbol": intent["symbol"],
        "side": intent["side"],
        "price": intent["price"],
        "quantity": intent["quantity"],
        "fee": "0.01",
        "liquidity": "maker",
        "ts_ms": events[-1].ts_ms,
        "venue": "paper",
    }
    echo = {"client_order_id": cid, "status": "cancelled", "venue_order_id": "", "code": "", "reason": ""}
    with Ledger.open(tmp_path, synchronous="OFF") as ledger:
        for e in events:
            ledger.append(e.kind, e.ts_ms, e.payload, durable=False)
        ledger.append(ev.ORDER_REPORT, events[-1].ts_ms, echo, durable=False)  # a repeated report
        for n in range(RETIRE_AFTER_EVENTS + 1):  # long enough for the order to be let go again
            ledger.append(ev.ANOMALY, events[-1].ts_ms, {"kind": "test", "detail": f"filler {n}"}, durable=False)
        ledger.append(ev.FILL, events[-1].ts_ms, fill, durable=False)  # the fill that raced the cancel
        ledger.append(ev.FILL, events[-1].ts_ms, fill, durable=False)  # and its repeat
        appended = list(ledger.events())
    whole = fold_events(appended)
    retiring = _retiring(tmp_path / "ledger.sqlite")
    _agree(retiring, whole)
    assert retiring.retirement is not None and retiring.retirement.revived == 2  # the echo, the late fill
    assert whole.stats.duplicate_fills == retiring.stats.duplicate_fills >= 1
    late = whole.order(cid)
    assert late is not None and late.filled_quantity == Decimal(str(intent["quantity"]))
    assert retiring.routed(cid) == whole.routed(cid) == ("paper", intent["symbol"])


def test_order_copy_when_orders_retired_then_each_equals_the_whole_folds_and_the_book_brings_it_back(
    bundled_paper_run: Path,
) -> None:
    whole = fold_events(_events(bundled_paper_run))
    retiring = _retiring(bundled_paper_run / "ledger.sqlite")
    retirement = retiring.retirement
    assert retirement is not None
    gone = retirement.take_retired()
    assert len(gone) > 100 and retirement.take_retired() == []  # each handed out once
    fields = ("client_order_id", "intent", "venue", "status", "filled_quantity", "notional_filled",
              "venue_order_id", "reason", "updated_ms")  # fmt: skip

    def state(order: object) -> tuple[object, ...]:
        return tuple(getattr(order, name) for name in fields)

    for cid in gone[::5]:  # each copy reads the file (the session reads its open ledger)
        copy = retirement.order_copy(retiring, cid)
        assert copy is not None and state(copy) == state(whole.order(cid)), cid
    assert retirement.order_copy(retiring, gone[0]) is not retirement.order_copy(retiring, gone[0])  # new each time
    held = next(iter(retiring.entries))  # kept whole, never handed out: not the retirement's to give
    assert retiring.order(held) is not None and retirement.order_copy(retiring, held) is None
    assert retirement.order_copy(retiring, "lg-never-sent") is None

    # a book that let those orders go sees each as before: looked up, and its id refused again
    book = Portfolio()
    for cid in gone[:20]:
        order = whole.order(cid)
        assert order is not None
        added = copy_order(order)
        book.add_order(added)
        book.refresh(added)  # finished: off the working set
        assert book.retire_finished(cid) and not book.retire_finished(cid)
    book.revive_with(lambda cid: retirement.order_copy(retiring, cid))
    first = whole.order(gone[0])
    assert first is not None and state(book.order(gone[0])) == state(first)
    assert book.order("lg-never-sent") is None
    with pytest.raises(InvariantViolation, match="reused"):
        book.add_order(copy_order(whole.order(gone[1])))  # type: ignore[arg-type]


def test_order_copy_when_a_handed_out_order_is_brought_back_by_a_late_fill_then_copied_with_the_fill(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    events = _events(bundled_paper_run)
    cid, intent = _late(events, "cancelled")
    fill = {"client_order_id": cid, "fill_id": "late-1", "symbol": intent["symbol"], "side": intent["side"],
            "price": intent["price"], "quantity": intent["quantity"], "fee": "0.01", "liquidity": "maker",
            "ts_ms": events[-1].ts_ms, "venue": "paper"}  # fmt: skip
    with Ledger.open(tmp_path, synchronous="OFF") as ledger:
        for e in events:
            ledger.append(e.kind, e.ts_ms, e.payload, durable=False)
        for n in range(RETIRE_AFTER_EVENTS + 1):
            ledger.append(ev.ANOMALY, events[-1].ts_ms, {"kind": "test", "detail": f"filler {n}"}, durable=False)
        before_fill = ledger.last_seq
        ledger.append(ev.FILL, events[-1].ts_ms, fill, durable=False)
        appended = list(ledger.events())
    path = tmp_path / "ledger.sqlite"
    retirement = Retirement(lambda first, last: rows_between(path, first, last), 0)
    fold = LedgerFold(approved_intents=NotKept(), retirement=retirement)
    rows = list(iter_rows(path))
    for seq, ts_ms, kind, text, _prev, digest in rows[:before_fill]:
        fold.apply_payload(seq, ts_ms, kind, json.loads(text), digest)
    assert cid in retirement.take_retired()  # handed to the engine's book, which lets it go
    seq, ts_ms, kind, text, _prev, digest = rows[before_fill]
    fold.apply_payload(seq, ts_ms, kind, json.loads(text), digest)  # the late fill brings it back here
    assert retirement.revived == 1
    copy, whole = retirement.order_copy(fold, cid), fold_events(appended).order(cid)
    assert copy is not None and whole is not None and copy is not fold.order(cid)
    assert (copy.status, copy.filled_quantity, copy.updated_ms) == (
        whole.status, whole.filled_quantity, whole.updated_ms
    )  # fmt: skip
    assert copy.filled_quantity == Decimal(str(intent["quantity"]))


def test_portfolio_retire_when_order_still_working_then_refused() -> None:
    book = Portfolio()
    with pytest.raises(InvariantViolation, match="not a finished order"):
        book.retire("nobody")


def test_ledger_rows_between_when_appends_not_committed_then_seen_and_after_close_read_from_file(
    tmp_path: Path,
) -> None:
    # a retired order is rebuilt from rows the session may not have committed yet
    ledger = Ledger.open(tmp_path, synchronous="OFF")
    for n in range(5):
        ledger.append(ev.ANOMALY, 1_000 + n, {"kind": "test", "detail": f"a{n}"}, durable=False)
    assert [row[0] for row in rows_between(tmp_path / "ledger.sqlite", 2, 4)] == []  # nothing committed yet
    assert [row[0] for row in ledger.rows_between(2, 4)] == [2, 3, 4]
    ledger.close()
    assert [row[0] for row in ledger.rows_between(2, 4)] == [2, 3, 4]  # closed: from the file


def test_order_copy_when_the_ledger_read_fails_then_error_names_order_and_seqs_the_hook_is_told_and_it_stays_retired(
    bundled_paper_run: Path,
) -> None:
    path = bundled_paper_run / "ledger.sqlite"
    failure: list[Exception] = []

    def history(first: int, last: int) -> list[tuple[int, int, str, str, str, str]]:
        if failure:
            raise failure[0]
        return rows_between(path, first, last)

    retirement = Retirement(history, 0)
    fold = LedgerFold(approved_intents=NotKept(), retirement=retirement)
    for seq, ts_ms, kind, text, _prev, digest in iter_rows(path):
        fold.apply_payload(seq, ts_ms, kind, json.loads(text), digest)
    told: list[str] = []
    retirement.on_read_failed = told.append
    cid = retirement.take_retired()[0]
    asked = "the execution engine's book"
    # the session's ledger connection fails: a LedgerError naming the order, its seqs and who asked
    failure.append(LedgerError(f"cannot read ledger {path}: disk I/O error"))
    with pytest.raises(
        LedgerError, match=rf"cannot rebuild finished order {cid} from ledger seqs \d+ to \d+ for {asked}: "
    ):
        retirement.order_copy(fold, cid)
    assert len(told) == 1 and told[0].startswith("ledger read failed: ") and told[0].endswith("disk I/O error")
    # a ledger file read fails, or a row is not JSON: a DataError (what the report's readers catch)
    failure[0] = DataError(f"{path}: no such table: events")
    with pytest.raises(DataError, match=f"finished order {cid} .* no such table"):
        retirement.order_copy(fold, cid)
    failure.clear()
    with pytest.raises(DataError, match="none of its events is there"):  # the seqs read hold nothing of it
        Retirement(lambda first, last: [], 0)._rebuilt(cid, 1, 2, asked)
    bad = [(1, 0, "intent", "{not json", "", "")]
    with pytest.raises(DataError, match=f"finished order {cid} from ledger seqs 1 to 1 for {asked}: Expecting"):
        Retirement(lambda first, last: bad, 0)._rebuilt(cid, 1, 1, asked)
    assert len(told) == 2 and retirement.copied == 0
    # the record stays: once the ledger reads again, the order comes back
    copy = retirement.order_copy(fold, cid)
    assert copy is not None and copy.client_order_id == cid and retirement.copied == 1


def test_fold_when_a_late_event_finds_the_ledger_unreadable_then_raises_and_the_order_stays_retired(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    events = _events(bundled_paper_run)
    cid, intent = _late(events, "cancelled")
    echo = {"client_order_id": cid, "status": "cancelled", "venue_order_id": "", "code": "", "reason": ""}
    with Ledger.open(tmp_path, synchronous="OFF") as ledger:
        for e in events:
            ledger.append(e.kind, e.ts_ms, e.payload, durable=False)
        for n in range(RETIRE_AFTER_EVENTS + 1):
            ledger.append(ev.ANOMALY, events[-1].ts_ms, {"kind": "test", "detail": f"filler {n}"}, durable=False)
        ledger.append(ev.ORDER_REPORT, events[-1].ts_ms, echo, durable=False)  # a repeated report
    path = tmp_path / "ledger.sqlite"
    broken = [True]

    def history(first: int, last: int) -> list[tuple[int, int, str, str, str, str]]:
        if broken:
            raise LedgerError(f"cannot read ledger {path}: database disk image is malformed")
        return rows_between(path, first, last)

    retirement = Retirement(history, 0)
    told: list[str] = []
    retirement.on_read_failed = told.append
    fold = LedgerFold(approved_intents=NotKept(), retirement=retirement)
    rows = list(iter_rows(path))
    for seq, ts_ms, kind, text, _prev, digest in rows[:-1]:
        fold.apply_payload(seq, ts_ms, kind, json.loads(text), digest)
    assert retirement.routed(cid) == ("paper", intent["symbol"])  # let go
    seq, ts_ms, kind, text, _prev, digest = rows[-1]
    with pytest.raises(LedgerError, match=f"finished order {cid} from ledger seqs .* for the ledger reader: "):
        fold.apply_payload(seq, ts_ms, kind, json.loads(text), digest)
    assert told and cid in told[0] and retirement.revived == 0
    assert retirement.routed(cid) == ("paper", intent["symbol"])  # still retired: a read that works brings it back
    broken.clear()
    fold.apply_payload(seq, ts_ms, kind, json.loads(text), digest)
    assert retirement.revived == 1 and retirement.routed(cid) is None and fold.order(cid) is not None
