"""Batched commits: venue answers join the next commit; the file always holds a prefix of the chain (issue 14)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from livegate.domain.errors import LedgerError
from livegate.ledger import FILL, INTENT, LEDGER_FILENAME, ORDER_REPORT, Ledger, verify_ledger
from livegate.ledger.anchor import read_anchor
from tests.ledger.helpers import make_fill, make_intent


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / LEDGER_FILENAME


def committed(path: Path) -> int:
    other = sqlite3.connect(path)
    try:
        return int(other.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        other.close()


def report(cid: str) -> dict[str, object]:
    return {"client_order_id": cid, "status": "accepted", "venue_order_id": "v1", "code": "", "reason": "",
            "filled_quantity": None}  # fmt: skip


def test_append_when_not_durable_then_committed_with_the_next_durable_append(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        ledger.append(ORDER_REPORT, 1, report("c1"), durable=False)
        ledger.append(FILL, 1, make_fill("c1", "f1", "100", "1", "0.01", 1).to_record(), durable=False)
        assert committed(ledger_path) == 0
        assert ledger.pending == 2
        assert [e.seq for e in ledger.events()] == [1, 2]  # the session itself reads them at once
        ledger.append(INTENT, 2, {"client_order_id": "c2", **make_intent(1).to_record()})
        assert committed(ledger_path) == 3
        assert ledger.pending == 0


def test_flush_when_answers_pending_then_durable_and_nothing_when_none(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        ledger.append(ORDER_REPORT, 1, report("c1"), durable=False)
        ledger.flush()
        assert committed(ledger_path) == 1
        ledger.flush()
        assert committed(ledger_path) == 1


def test_transaction_when_not_durable_then_atomic_and_committed_later(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        with ledger.transaction(durable=False):
            ledger.append(ORDER_REPORT, 1, report("c1"), durable=False)
            ledger.append(FILL, 1, make_fill("c1", "f1", "100", "1", "0.01", 1).to_record(), durable=False)
        assert committed(ledger_path) == 0
        with pytest.raises(RuntimeError), ledger.transaction(durable=False):
            ledger.append(ORDER_REPORT, 2, report("c2"), durable=False)
            raise RuntimeError("boom")
        assert ledger.last_seq == 2 and ledger.pending == 2  # the failed block only is gone
        ledger.flush()
    assert committed(ledger_path) == 2
    assert verify_ledger(ledger_path).ok


def test_transaction_when_not_durable_but_an_append_is_then_committed_at_exit(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger, ledger.transaction(durable=False):
        ledger.append(ORDER_REPORT, 1, report("c1"), durable=False)
        ledger.append("anomaly", 1, {"kind": "a", "detail": "must be on disk"})
        assert committed(ledger_path) == 0
    assert committed(ledger_path) == 2


def test_close_when_answers_pending_then_committed_and_anchored(ledger_path: Path, tmp_path: Path) -> None:
    anchor = tmp_path / "anchor.json"
    with Ledger.open(ledger_path, anchor=anchor) as ledger:
        ledger.append(ORDER_REPORT, 1, report("c1"), durable=False)
    assert committed(ledger_path) == 1
    assert read_anchor(anchor) is not None and read_anchor(anchor).seq == 1  # type: ignore[union-attr]
    assert verify_ledger(ledger_path).ok


def test_durable_append_when_sqlite_fails_then_pending_rolled_back_and_head_at_last_commit(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        kept = ledger.append("anomaly", 1, {"kind": "a", "detail": "kept"})
        ledger.append(ORDER_REPORT, 2, report("c1"), durable=False)
        ledger._conn.execute("INSERT INTO events VALUES (3, 0, 'x', '{}', '', '')")  # steals the next seq
        with pytest.raises(LedgerError, match="seq 3"):
            ledger.append("anomaly", 3, {"kind": "a", "detail": "clash"})
        assert (ledger.last_seq, ledger.head_hash, ledger.pending) == (1, kept.hash, 0)
        after = ledger.append("anomaly", 4, {"kind": "a", "detail": "after"})
    assert (after.seq, after.prev_hash) == (2, kept.hash)
    assert verify_ledger(ledger_path).ok


_CRASH = """
import os, sys
from pathlib import Path
from livegate.ledger import Ledger
ledger = Ledger.open(Path(sys.argv[1]))
ledger.append("intent", 1, {"client_order_id": "c1"})
ledger.append("order_report", 2, {"client_order_id": "c1", "status": "accepted"}, durable=False)
ledger.append("intent", 3, {"client_order_id": "c2"})
ledger.append("order_report", 4, {"client_order_id": "c2", "status": "accepted"}, durable=False)
os._exit(9)  # killed: no close, no flush
"""


def test_ledger_when_process_dies_with_answers_pending_then_file_holds_the_chain_up_to_the_last_commit(
    ledger_path: Path,
) -> None:
    subprocess.run([sys.executable, "-c", _CRASH, str(ledger_path)], check=False, timeout=60)
    with Ledger.open(ledger_path) as reopened:
        kinds = [(e.seq, e.kind) for e in reopened.events()]
    assert kinds == [(1, "intent"), (2, "order_report"), (3, "intent")]
    assert verify_ledger(ledger_path).ok
