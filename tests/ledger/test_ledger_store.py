"""Specification of the write-ahead ledger store."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.enums import Side
from livegate.domain.errors import LedgerError
from livegate.ledger import FILL, GENESIS_HASH, INTENT, LEDGER_FILENAME, Ledger, LedgerEvent, verify_ledger
from livegate.ledger.events import chain_hash
from tests.ledger.helpers import make_fill, make_intent


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / LEDGER_FILENAME


def test_ledger_when_opened_then_wal_full_sync_and_exact_table(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        assert ledger.last_seq == 0
        assert ledger.head_hash == GENESIS_HASH
    conn = sqlite3.connect(ledger_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    columns = [(row[1], row[2], row[3], row[5]) for row in conn.execute("PRAGMA table_info(events)")]
    assert columns == [
        ("seq", "INTEGER", 0, 1),
        ("ts_ms", "INTEGER", 1, 0),
        ("kind", "TEXT", 1, 0),
        ("payload", "TEXT", 1, 0),
        ("prev_hash", "TEXT", 1, 0),
        ("hash", "TEXT", 1, 0),
    ]
    conn.close()


def test_ledger_when_opened_with_default_then_synchronous_is_full(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        level = ledger._conn.execute("PRAGMA synchronous").fetchone()[0]
    assert level == 2  # FULL


def test_ledger_when_given_run_directory_then_uses_ledger_sqlite_inside(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as ledger:
        ledger.append("anomaly", 1, {"kind": "x", "detail": "y"})
    assert (tmp_path / LEDGER_FILENAME).is_file()
    assert verify_ledger(tmp_path).ok


def test_ledger_when_synchronous_unknown_then_value_error(ledger_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        Ledger.open(ledger_path, synchronous="FULL; DROP TABLE events")


def test_append_when_called_then_event_chains_to_previous(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        first = ledger.append("session_started", 10, {"session_id": "s1", "mode": "paper"})
        second = ledger.append("session_ended", 20, {"reason": "done"})
    assert first == LedgerEvent(
        seq=1,
        ts_ms=10,
        kind="session_started",
        payload={"session_id": "s1", "mode": "paper"},
        prev_hash=GENESIS_HASH,
        hash=chain_hash(GENESIS_HASH, 1, 10, "session_started", {"mode": "paper", "session_id": "s1"}),
    )
    assert second.prev_hash == first.hash
    assert second.seq == 2


def test_append_when_returned_then_durable_for_another_connection(ledger_path: Path) -> None:
    ledger = Ledger.open(ledger_path)
    event = ledger.append(INTENT, 5, {"client_order_id": "c1", **make_intent(0).to_record()})
    other = sqlite3.connect(ledger_path)
    assert other.execute("SELECT hash FROM events WHERE seq = 1").fetchone() == (event.hash,)
    other.close()
    ledger.close()


def test_transaction_when_block_exits_then_all_appends_committed_together(ledger_path: Path) -> None:
    ledger = Ledger.open(ledger_path, synchronous="OFF")
    other = sqlite3.connect(ledger_path)
    with ledger.transaction():
        for i in range(3):
            ledger.append(FILL, i, make_fill("c1", f"f{i}", "100", "1", "0.01", i).to_record())
        assert other.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)
    assert other.execute("SELECT COUNT(*) FROM events").fetchone() == (3,)
    other.close()
    ledger.close()


def test_transaction_when_block_raises_then_rolled_back_and_head_restored(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        kept = ledger.append("anomaly", 1, {"kind": "a", "detail": "kept"})
        with pytest.raises(RuntimeError), ledger.transaction():
            ledger.append("anomaly", 2, {"kind": "a", "detail": "lost"})
            raise RuntimeError("boom")
        assert (ledger.last_seq, ledger.head_hash) == (1, kept.hash)
        after = ledger.append("anomaly", 3, {"kind": "a", "detail": "after"})
    assert after.seq == 2 and after.prev_hash == kept.hash
    assert verify_ledger(ledger_path).ok


def test_transaction_when_nested_then_joins_outer(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        with ledger.transaction():
            ledger.append("anomaly", 1, {"kind": "a", "detail": "1"})
            with ledger.transaction():
                ledger.append("anomaly", 2, {"kind": "a", "detail": "2"})
        assert [e.seq for e in ledger.events()] == [1, 2]


def test_ledger_when_reopened_then_chain_continues_from_head(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        for i in range(5):
            ledger.append("anomaly", i, {"kind": "a", "detail": str(i)})
        head = ledger.head_hash
    with Ledger.open(ledger_path, synchronous="OFF") as reopened:
        assert (reopened.last_seq, reopened.head_hash) == (5, head)
        event = reopened.append("session_ended", 9, {"reason": "resume"})
    assert (event.seq, event.prev_hash) == (6, head)
    result = verify_ledger(ledger_path)
    assert result.ok and result.events == 6 and result.head_hash == event.hash


def test_triggers_when_update_or_delete_then_aborted(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        ledger.append("anomaly", 1, {"kind": "a", "detail": "x"})
    conn = sqlite3.connect(ledger_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET payload = '{}' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.close()


@pytest.mark.parametrize(
    ("payload", "error", "match"),
    [
        ({"price": Decimal("1.5")}, TypeError, r"payload\.price is a Decimal"),
        ({"fills": [{"fee": Decimal("0")}]}, TypeError, r"payload\.fills\[0\]\.fee is a Decimal"),
        ({"x": float("nan")}, ValueError, "non-finite"),
        ({"x": float("inf")}, ValueError, "non-finite"),
        ({"x": object()}, TypeError, "does not store"),
        ({"x": {1: "a"}}, TypeError, "non-str key"),
    ],
)
def test_append_when_payload_not_json_safe_then_refused_and_nothing_written(
    ledger_path: Path, payload: dict[str, object], error: type[Exception], match: str
) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        with pytest.raises(error, match=match):
            ledger.append("anomaly", 1, payload)
        assert ledger.last_seq == 0
        assert list(ledger.events()) == []


@pytest.mark.parametrize(("kind", "ts_ms"), [("", 1), ("Fill", 1), ("fill; drop", 1), ("fill", -1)])
def test_append_when_kind_or_ts_invalid_then_value_error(ledger_path: Path, kind: str, ts_ms: int) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger, pytest.raises(ValueError):
        ledger.append(kind, ts_ms, {})


def test_append_when_sqlite_fails_then_ledger_error_with_cause(ledger_path: Path) -> None:
    ledger = Ledger.open(ledger_path, synchronous="OFF")
    ledger.append("anomaly", 1, {"kind": "a", "detail": "x"})
    blocker = sqlite3.connect(ledger_path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    ledger._conn.execute("PRAGMA busy_timeout=0")
    with pytest.raises(LedgerError, match="seq 2") as info:
        ledger.append("anomaly", 2, {"kind": "a", "detail": "y"})
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert ledger.last_seq == 1
    blocker.execute("ROLLBACK")
    blocker.close()
    assert ledger.append("anomaly", 3, {"kind": "a", "detail": "z"}).seq == 2
    ledger.close()


def test_append_when_closed_then_ledger_error(ledger_path: Path) -> None:
    ledger = Ledger.open(ledger_path, synchronous="OFF")
    ledger.close()
    ledger.close()
    with pytest.raises(LedgerError):
        ledger.append("anomaly", 1, {"kind": "a", "detail": "x"})


def test_open_when_file_is_not_sqlite_then_ledger_error(ledger_path: Path) -> None:
    ledger_path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError):
        Ledger.open(ledger_path)


def test_events_when_filtered_then_seq_order_and_kind_only(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        for i in range(1200):
            ledger_kind = "fill" if i % 3 == 0 else "anomaly"
            ledger.append(ledger_kind, i, {"kind": "k", "detail": str(i)})
        fills = list(ledger.events("fill"))
        tail = list(ledger.events(after_seq=1198))
    assert [e.seq for e in fills] == list(range(1, 1201, 3))
    assert all(e.kind == "fill" for e in fills)
    assert [e.seq for e in tail] == [1199, 1200]


def test_transaction_when_append_fails_inside_then_whole_block_rolled_back(ledger_path: Path) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        kept = ledger.append("anomaly", 1, {"kind": "a", "detail": "kept"})
        with pytest.raises(LedgerError, match="rolled back"), ledger.transaction():
            ledger.append("anomaly", 2, {"kind": "a", "detail": "lost"})
            # a row that steals the next seq makes the following append fail inside SQLite
            ledger._conn.execute("INSERT INTO events VALUES (3, 0, 'x', '{}', '', '')")
            with pytest.raises(LedgerError, match="seq 3"):
                ledger.append("anomaly", 3, {"kind": "a", "detail": "clash"})
            with pytest.raises(LedgerError, match="already failed"):
                ledger.append("anomaly", 4, {"kind": "a", "detail": "refused"})
        assert (ledger.last_seq, ledger.head_hash) == (1, kept.hash)
        assert [e.seq for e in ledger.events()] == [1]
    assert verify_ledger(ledger_path).ok


@pytest.mark.parametrize(
    "payload",
    [
        {"client_order_id": "c1", "price": "101.5", "qty": 3, "ok": True, "note": None, "x": 0.25},
        {"nested": {"a": [1, "two", {"b": None}]}, "empty": {}, "list": []},
        {"tuple": (1, 2), "enum_like": Side.BUY},
    ],
)
def test_append_when_payload_is_plain_or_not_then_returned_payload_equals_what_events_reads_back(
    ledger_path: Path, payload: dict[str, object]
) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        returned = ledger.append("anomaly", 1, payload)
        (stored,) = list(ledger.events())
    assert returned.payload == stored.payload
    assert type(returned.payload) is dict


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"a": [1, {"b": Decimal("1.5")}]}, r"payload\.a\[1\]\.b is a Decimal"),
        ({"a": {"b": float("nan")}}, r"payload\.a\.b is a non-finite float"),
        ({"a": {1: "x"}}, r"payload\.a has a non-str key 1"),
        ({"a": [set()]}, r"payload\.a\[0\] has type set"),
    ],
)
def test_append_when_a_nested_value_is_not_storable_then_the_error_names_its_path_and_nothing_is_stored(
    ledger_path: Path, payload: dict[str, object], message: str
) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        with pytest.raises((TypeError, ValueError), match=message):
            ledger.append("anomaly", 1, payload)
        assert list(ledger.events()) == []


@pytest.mark.parametrize(
    ("ts_ms", "error"), [(-1, ValueError), (2**63, ValueError), (True, TypeError), (1.5, TypeError), ("5", TypeError)]
)
def test_append_when_time_is_not_an_in_range_int_then_refused_and_nothing_is_stored(
    ledger_path: Path, ts_ms: object, error: type[Exception]
) -> None:
    with Ledger.open(ledger_path, synchronous="OFF") as ledger:
        with pytest.raises(error, match="ts_ms"):
            ledger.append("anomaly", ts_ms, {"kind": "a", "detail": "x"})  # type: ignore[arg-type]
        ledger.append("anomaly", 2**63 - 1, {"kind": "a", "detail": "last ms SQLite holds"})
        assert [e.seq for e in ledger.events()] == [1]
