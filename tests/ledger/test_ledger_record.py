"""``Ledger.record``: the session's appends without a ``LedgerEvent``, the same ledger as ``append``."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.enums import Side
from livegate.domain.errors import LedgerError
from livegate.ledger import FILL, INTENT, ORDER_REPORT, Ledger, verify_ledger
from tests.ledger.helpers import make_fill, make_intent

EVENTS: list[tuple[str, int, dict[str, object], bool]] = [
    (INTENT, 1, {"client_order_id": "c1", **make_intent(0).to_record()}, True),
    (ORDER_REPORT, 2, {"client_order_id": "c1", "status": "accepted", "venue_order_id": "v1"}, False),
    (FILL, 3, make_fill("c1", "f1", "100", "1", "0.01", 3).to_record(), False),
    ("anomaly", 4, {"kind": "a", "detail": "floats and enums take the slow path", "x": 0.25, "side": Side.BUY}, True),
]


def _rows(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT seq, ts_ms, kind, payload, prev_hash, hash FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()


def test_record_when_same_events_as_append_then_same_rows_hashes_and_commits(tmp_path: Path) -> None:
    heads = []
    for name, use_record in (("append.sqlite", False), ("record.sqlite", True)):
        with Ledger.open(tmp_path / name, synchronous="OFF") as ledger:
            for kind, ts_ms, payload, durable in EVENTS:
                if use_record:
                    assert ledger.record(kind, ts_ms, payload, durable=durable) is None
                else:
                    ledger.append(kind, ts_ms, payload, durable=durable)
                heads.append((name, ledger.last_seq, ledger.head_hash, ledger.pending))
    assert [h[1:] for h in heads[:4]] == [h[1:] for h in heads[4:]]
    assert _rows(tmp_path / "append.sqlite") == _rows(tmp_path / "record.sqlite")
    assert verify_ledger(tmp_path / "record.sqlite").ok


def test_record_when_payload_holds_a_decimal_then_type_error_and_nothing_appended(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite", synchronous="OFF") as ledger:
        with pytest.raises(TypeError, match=r"payload\.price is a Decimal"):
            ledger.record("anomaly", 1, {"price": Decimal("1.5")})
        assert ledger.last_seq == 0


def test_record_when_sqlite_refuses_the_row_then_ledger_error_and_head_at_last_commit(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite", synchronous="OFF") as ledger:
        ledger.record("anomaly", 1, {"kind": "a", "detail": "kept"})
        kept = ledger.head_hash
        ledger._conn.execute("INSERT INTO events VALUES (2, 0, 'x', '{}', '', '')")  # steals the next seq
        with pytest.raises(LedgerError, match="seq 2"):
            ledger.record("anomaly", 2, {"kind": "a", "detail": "clash"})
        assert (ledger.last_seq, ledger.head_hash) == (1, kept)
