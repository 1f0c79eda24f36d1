"""The checkpoint job folds with finished orders on disk and writes what a whole fold writes (issue 14 item 2).

:func:`livegate.ledger.checkpoint_job.refresh_checkpoint` folds the ledger from its first
event, letting finished orders go into a scratch store, and writes the body column by
column from that store. The file must be the bytes :func:`encode_checkpoint` gives for a
fold of every event held in memory: at any length of a real session's ledger, and when
later events bring retired orders back (a repeated report, a fill that raced the cancel
and its repeat, a reused client order id).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.errors import DataError
from livegate.ledger import events as ev
from livegate.ledger.checkpoint import CHECKPOINT_FILE, encode_checkpoint, write_checkpoint, write_streamed_checkpoint
from livegate.ledger.checkpoint_columns import SEP
from livegate.ledger.checkpoint_encode import _encoded, _json
from livegate.ledger.checkpoint_job import refresh_checkpoint, spill_fold
from livegate.ledger.checkpoint_spill import SpillStore
from livegate.ledger.checkpoint_stream import table_pieces
from livegate.ledger.db import connect_readonly
from livegate.ledger.events import LedgerEvent
from livegate.ledger.fold import fold_events
from livegate.ledger.fold_retire import RETIRE_AFTER_EVENTS
from livegate.ledger.store import Ledger
from tests.ledger.helpers import tamper


def _events(run: Path) -> list[LedgerEvent]:
    with Ledger.open(run / "ledger.sqlite", synchronous="OFF") as recorded:
        return list(recorded.events())


def _ledger(run: Path, events: list[LedgerEvent], extra: list[tuple[str, int, dict[str, Any]]] = ()) -> Path:  # type: ignore[assignment]
    """Write ``events`` (then ``extra`` as (kind, ts_ms, payload)) to a new ledger in ``run``; return its file."""
    run.mkdir(parents=True)
    with Ledger.open(run, synchronous="OFF") as ledger, ledger.transaction():
        for e in events:
            ledger.append(e.kind, e.ts_ms, e.payload, durable=False)
        for kind, ts_ms, payload in extra:
            ledger.append(kind, ts_ms, payload, durable=False)
    return run / "ledger.sqlite"


def _job_equals_whole_fold(ledger_file: Path) -> None:
    assert refresh_checkpoint(ledger_file)[0] > 0
    whole = fold_events(_events(ledger_file.parent))
    assert (ledger_file.parent / CHECKPOINT_FILE).read_bytes() == encode_checkpoint(whole)


def test_job_when_ledger_cut_at_any_length_then_file_equals_the_whole_folds(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    events = _events(bundled_paper_run)
    assert len(events) > 3 * RETIRE_AFTER_EVENTS  # long enough for orders to be let go
    for n in (7, RETIRE_AFTER_EVENTS + 3, len(events) // 2, len(events) - 1, len(events)):
        _job_equals_whole_fold(_ledger(tmp_path / f"cut-{n}", events[:n]))


def _finished_unfilled(events: list[LedgerEvent], status: str, skip: set[str]) -> tuple[str, dict[str, Any]]:
    ended = {e.payload["client_order_id"]: e for e in events if e.kind == ev.ORDER_REPORT}
    filled = {e.payload["client_order_id"] for e in events if e.kind == ev.FILL}
    intents = {e.payload["client_order_id"]: e.payload for e in events if e.kind == ev.INTENT}
    for cid, report in ended.items():
        if report.payload["status"] == status and cid not in filled and cid in intents and cid not in skip:
            return str(cid), intents[cid]
    raise AssertionError(f"no order ended {status} unfilled")


def test_job_when_later_events_bring_retired_orders_back_then_file_equals_the_whole_folds(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    events = _events(bundled_paper_run)
    ts = events[-1].ts_ms
    late, intent = _finished_unfilled(events, "cancelled", set())
    reused, reused_intent = _finished_unfilled(events, "cancelled", {late})
    fill = {
        "client_order_id": late, "fill_id": "late-1", "symbol": intent["symbol"], "side": intent["side"],
        "price": intent["price"], "quantity": intent["quantity"], "fee": "0.01", "liquidity": "maker",
        "ts_ms": ts, "venue": "paper",
    }  # fmt: skip
    echo = {"client_order_id": late, "status": "cancelled", "venue_order_id": "", "code": "", "reason": ""}
    again = dict(reused_intent, quantity=str(Decimal(str(reused_intent["quantity"])) * 2))  # the id reused
    fillers = [(ev.ANOMALY, ts, {"kind": "test", "detail": f"filler {n}"}) for n in range(RETIRE_AFTER_EVENTS + 1)]
    extra = [
        (ev.ORDER_REPORT, ts, echo), *fillers, (ev.FILL, ts, fill), (ev.FILL, ts, fill), (ev.INTENT, ts, again),
        *fillers,
    ]  # fmt: skip
    ledger_file = _ledger(tmp_path / "late", events, extra)
    _job_equals_whole_fold(ledger_file)
    whole = fold_events(_events(ledger_file.parent))
    assert whole.entries[reused].intent is not whole.order(reused).intent  # type: ignore[union-attr]
    conn = connect_readonly(ledger_file)
    try:
        with SpillStore() as store:
            fold, _ = spill_fold(conn, store)
            assert fold.retirement is not None and fold.retirement.revived == 3  # the echo, the late fill, the intent
            assert len(fold.entries) < RETIRE_AFTER_EVENTS  # the job held few of the run's orders at the end
            assert store.count("entries") == len(whole.entries) and store.count("fills") == len(whole.fills)
    finally:
        conn.close()


def test_job_when_previous_checkpoint_covers_part_then_chain_checked_after_it_and_nothing_new_writes_nothing(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    events = _events(bundled_paper_run)
    ledger_file = _ledger(tmp_path / "run", events)
    write_checkpoint(ledger_file.parent / CHECKPOINT_FILE, fold_events(events[:1000]))
    assert refresh_checkpoint(ledger_file) == (len(events), 1000)
    assert refresh_checkpoint(ledger_file) == (len(events), len(events))  # nothing new: nothing written
    broken = _ledger(tmp_path / "broken", events)
    write_checkpoint(broken.parent / CHECKPOINT_FILE, fold_events(events[:1000]))
    before = (broken.parent / CHECKPOINT_FILE).read_bytes()
    tamper(broken, "UPDATE events SET ts_ms = ts_ms + 1 WHERE seq = 1500")
    with pytest.raises(DataError, match="ledger chain broken at seq 1500"):
        refresh_checkpoint(broken)
    assert (broken.parent / CHECKPOINT_FILE).read_bytes() == before


def test_streamed_checkpoint_when_body_fails_midway_then_previous_file_stays_and_no_temp_is_left(
    tmp_path: Path,
) -> None:
    path = tmp_path / CHECKPOINT_FILE
    path.write_bytes(b"previous")

    def body() -> Any:
        yield b'{"session":'
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError):
        write_streamed_checkpoint(path, 5, "ab" * 32, body())
    assert path.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT_FILE]


# ---------------------------------------------------------------------- a column written as it is read
_TEXT = st.text(alphabet=st.sampled_from(["a", "b", "7", ".", SEP, "é", '"', "\\", "\n", "€"]), max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from("sdbi"),
    values=st.one_of(
        st.lists(_TEXT, max_size=40),
        st.lists(st.sampled_from(["0.1", "0.10", "1", "BTCUSDT"]), max_size=60),
        st.lists(st.text(max_size=3), max_size=20),
    ),
)
def test_column_when_streamed_then_bytes_equal_the_encoders(kind: str, values: list[str]) -> None:
    column: list[Any] = values if kind in "sd" else [len(v) % 2 == 0 for v in values] if kind == "b" else list(
        map(len, values)
    )  # fmt: skip
    streamed = b"".join(table_pieces(kind, [lambda: iter(column)], len(column)))
    assert streamed == _json(_encoded([list(column)], kind))


@pytest.mark.parametrize("distinct", [1, 3, 2_000, 9_000])
def test_column_when_longer_than_a_piece_then_bytes_equal_the_encoders(distinct: int) -> None:
    column = [f"{i % distinct}.5" for i in range(10_000)]
    streamed = b"".join(table_pieces("d", [lambda: iter(column)], len(column)))
    assert streamed == _json(_encoded([list(column)], "d"))
    with_sep = [*column[:5_000], "a|b", *column[5_000:]]
    streamed = b"".join(table_pieces("s", [lambda: iter(with_sep)], len(with_sep)))
    assert streamed == _json(_encoded([list(with_sep)], "s"))
