"""The session's ledger is folded once: the fill index reads it through the report's reader (issue 14 item 6).

The report a session writes from its reader (the events the fill index read, then the
rest) must be the page a fresh read of the ledger gives, byte for byte, and the shared
fold the fold of the whole ledger; when the reader saw events the file does not hold, the
report reads the whole ledger again.
"""

from __future__ import annotations

import json
import shutil
from itertools import islice
from pathlib import Path

import pytest

from livegate.domain.errors import DataError
from livegate.domain.positions import Position
from livegate.ledger import Ledger
from livegate.ledger import events as ev
from livegate.ledger.export import fold_table, iter_rows
from livegate.ledger.fold import LedgerFold, fold_events
from livegate.ledger.store import TAIL_LIMIT
from livegate.ops.report import TABLE_LIMIT, render_run_report, write_run_report
from livegate.ops.rollup_read import RunReader, read_run, read_run_from
from livegate.ops.run_facts import RunFacts
from livegate.reconcile.fills import LedgerFillIndex


def _page(facts: RunFacts, run_dir: Path) -> str:
    summary = json.loads((run_dir / "summary.json").read_text())
    return render_run_report(facts, summary).replace(str(run_dir.resolve()), run_dir.name)


def _same_facts(a: RunFacts, b: RunFacts) -> None:
    assert (a.mode, a.session_id, a.trading_state, a.trading_reason, a.end_reason) == (
        b.mode,
        b.session_id,
        b.trading_state,
        b.trading_reason,
        b.end_reason,
    )
    assert (a.decisions, a.fills, a.markouts, a.marks) == (b.decisions, b.fills, b.markouts, b.marks)
    assert (a.submits, a.acks, a.anomalies, a.kills, a.drift) == (b.submits, b.acks, b.anomalies, b.kills, b.drift)
    assert (a.first_ts_ms, a.last_ts_ms, a.orders_count, a.fills_count) == (
        b.first_ts_ms,
        b.last_ts_ms,
        b.orders_count,
        b.fills_count,
    )
    assert (a.orders_table, a.fills_table) == (b.orders_table, b.fills_table)


def _position(position: Position) -> tuple[object, ...]:
    return tuple(getattr(position, name) for name in Position.__slots__)


def _same_fold(a: LedgerFold, b: LedgerFold) -> None:
    """``a`` lets finished orders go after the first TABLE_LIMIT (the report's fold): what it holds is ``b``'s."""
    assert fold_table(a, "orders", limit=TABLE_LIMIT) == fold_table(b, "orders", limit=TABLE_LIMIT)
    assert a.entry_count == len(b.entries)
    rows_b = {row["client_order_id"]: row for row in fold_table(b, "orders")[1]}
    assert all(rows_b[row["client_order_id"]] == row for row in fold_table(a, "orders")[1])
    assert fold_table(a, "fills") == fold_table(b, "fills")
    assert [_position(p) for p in a.portfolio.positions()] == [_position(p) for p in b.portfolio.positions()]
    assert a.portfolio.fill_keys() == b.portfolio.fill_keys()
    assert a.stats == b.stats
    assert (a.last_seq, a.last_hash, a.trading_state, a.ended) == (b.last_seq, b.last_hash, b.trading_state, b.ended)


def test_write_run_report_when_a_session_shared_its_fold_then_page_equals_a_fresh_read_byte_for_byte(
    bundled_paper_run: Path,
) -> None:
    with Ledger.open(bundled_paper_run / "ledger.sqlite", synchronous="OFF") as recorded:
        reconciles = sum(1 for _ in recorded.events(ev.RECONCILED))
    assert reconciles >= 3  # the fill index read the ledger (through the reader) during the session, not only at start
    fresh = _page(read_run(bundled_paper_run, table_rows=TABLE_LIMIT), bundled_paper_run)
    assert (bundled_paper_run / "report.html").read_text(encoding="utf-8") == fresh


def test_read_run_from_when_the_fill_index_read_a_growing_session_ledger_then_facts_fold_and_page_are_a_fresh_reads(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in ("config_resolved.json", "summary.json", "reconcile_drift.jsonl"):
        if (bundled_paper_run / name).exists():
            shutil.copy(bundled_paper_run / name, run / name)
    with Ledger.open(bundled_paper_run / "ledger.sqlite", synchronous="OFF") as recorded:
        events = list(recorded.events())
    reader = RunReader(run)
    with Ledger.open(run, synchronous="OFF") as ledger:
        index = LedgerFillIndex(ledger, reader=reader)
        for n, event in enumerate(events, 1):
            ledger.append(event.kind, event.ts_ms, event.payload, durable=False)
            if n % 41 == 0 or event.kind == ev.MARKOUT:  # reads that end on a markout and ones that do not
                index.new_ids("paper")
        assert 0 < reader.fold.last_seq < len(events)  # the report has a tail of its own to read
    shared = read_run_from(reader, table_rows=TABLE_LIMIT)
    fresh = read_run(bundled_paper_run, table_rows=TABLE_LIMIT)
    _same_facts(shared, fresh)
    _same_fold(shared.fold, fold_events(events))
    assert shared.fold is reader.fold
    assert _page(shared, run) == _page(fresh, bundled_paper_run).replace(bundled_paper_run.name, run.name)


def test_read_run_from_when_rows_read_in_pieces_then_facts_equal_read_run(bundled_paper_run: Path) -> None:
    reader = RunReader(bundled_paper_run)
    rows = iter_rows(bundled_paper_run)
    for size in (1, 7, 500, 3_000):
        reader.take_rows(islice(rows, size))
    _same_facts(read_run_from(reader), read_run(bundled_paper_run))


def _anomaly(ledger: Ledger, ts_ms: int, detail: str, *, durable: bool = True) -> None:
    ledger.append(ev.ANOMALY, ts_ms, {"kind": "test", "detail": detail}, durable=durable)


def test_read_run_from_when_the_reader_read_an_append_that_was_rolled_back_then_whole_ledger_read_again(
    tmp_path: Path,
) -> None:
    reader = RunReader(tmp_path)
    with Ledger.open(tmp_path, synchronous="OFF") as ledger:
        index = LedgerFillIndex(ledger, reader=reader)
        _anomaly(ledger, 1_000, "kept")
        with pytest.raises(RuntimeError), ledger.transaction():
            _anomaly(ledger, 2_000, "rolled back")
            index.ids("paper")  # the same connection sees the block's event: the reader folds it
            raise RuntimeError("the block fails")
        _anomaly(ledger, 3_000, "after")
    assert [d for _, _, d in reader.facts.anomalies] == ["kept", "rolled back"]
    facts = read_run_from(reader)
    assert [d for _, _, d in facts.anomalies] == ["kept", "after"]
    _same_facts(facts, read_run(tmp_path))


def test_read_run_from_when_a_read_stopped_on_a_bad_payload_then_whole_ledger_read_again(tmp_path: Path) -> None:
    with Ledger.open(tmp_path, synchronous="OFF") as ledger:
        _anomaly(ledger, 1_000, "one")
        _anomaly(ledger, 2_000, "two")
    reader = RunReader(tmp_path)
    good = next(iter_rows(tmp_path))
    with pytest.raises(DataError, match="seq 2"):
        reader.take_rows([good, (2, 2_000, ev.ANOMALY, "{not json", good[5], "x")])
    assert reader.broken
    _same_facts(read_run_from(reader), read_run(tmp_path))


def test_write_run_report_when_given_the_reader_then_page_is_the_fresh_reads(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    run = shutil.copytree(bundled_paper_run, tmp_path / "run")
    reader = RunReader(run)
    reader.take_rows(islice(iter_rows(run), 2_000))
    summary = json.loads((run / "summary.json").read_text())
    written = write_run_report(run, summary, reader).read_text(encoding="utf-8")
    assert written == _page(read_run(run, table_rows=TABLE_LIMIT), run)


def test_ledger_fill_index_when_given_a_reader_that_read_events_or_a_fold_too_then_refused(tmp_path: Path) -> None:
    with Ledger.open(tmp_path, synchronous="OFF") as ledger:
        _anomaly(ledger, 1_000, "one")
        used = RunReader(tmp_path)
        used.take_rows(ledger.rows())
        with pytest.raises(ValueError, match="first event"):
            LedgerFillIndex(ledger, reader=used)
        with pytest.raises(ValueError, match="first event"):
            LedgerFillIndex(ledger, LedgerFold(), reader=RunReader(tmp_path))


def test_read_run_from_when_the_session_ledger_closed_with_rows_kept_then_takes_them_from_memory(
    bundled_paper_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(bundled_paper_run / "config_resolved.json", run / "config_resolved.json")
    with Ledger.open(bundled_paper_run / "ledger.sqlite", synchronous="OFF") as recorded:
        events = list(recorded.events())
    reader = RunReader(run)
    ledger = Ledger.open(run, synchronous="OFF")
    index = LedgerFillIndex(ledger, reader=reader)
    for n, event in enumerate(events, 1):
        ledger.append(event.kind, event.ts_ms, event.payload, durable=n % 3 == 0)
        if n == len(events) // 2:
            index.new_ids("paper")
    ledger.close()  # the session ends: its last commit, then the report
    assert reader.fold.last_seq == len(events) // 2
    facts = read_run_from(reader, table_rows=TABLE_LIMIT)
    assert ledger.kept_rows(reader.fold.last_seq) == []  # the report took the kept rows (handed out once)
    assert reader.fold.last_seq == len(events)
    _same_facts(facts, read_run(run, table_rows=TABLE_LIMIT))


def test_ledger_kept_rows_when_never_followed_or_past_a_gap_then_none_else_the_rows_after(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path, synchronous="OFF")
    _anomaly(ledger, 1_000, "one")
    assert ledger.kept_rows(0) is None  # nobody follows the ledger: nothing kept
    assert [row[0] for row in ledger.tail_rows(0)] == [1]  # the follower's first read starts the keeping
    _anomaly(ledger, 2_000, "two")
    _anomaly(ledger, 3_000, "three", durable=False)
    ledger.close()  # commits the pending event; the rows stay kept
    assert ledger.kept_rows(5) is None  # not a continuation of what the caller read
    rows = ledger.kept_rows(1)
    assert rows is not None
    assert [(seq, payload) for seq, _, _, payload, _, _ in rows] == [
        (2, {"kind": "test", "detail": "two"}), (3, {"kind": "test", "detail": "three"})
    ]  # fmt: skip
    assert ledger.kept_rows(3) == []


def test_read_run_from_when_more_rows_than_kept_then_reads_the_file(tmp_path: Path) -> None:
    reader = RunReader(tmp_path)
    ledger = Ledger.open(tmp_path, synchronous="OFF")
    index = LedgerFillIndex(ledger, reader=reader)
    _anomaly(ledger, 1, "first")
    index.new_ids("paper")
    with ledger.transaction(durable=False):
        for n in range(TAIL_LIMIT + 5):  # more than the ledger keeps between two reads
            _anomaly(ledger, 2 + n, str(n), durable=False)
    ledger.close()
    assert ledger.kept_rows(reader.fold.last_seq) is None
    facts = read_run_from(reader)
    assert len(facts.anomalies) == TAIL_LIMIT + 6
    _same_facts(facts, read_run(tmp_path))
