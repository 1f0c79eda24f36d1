"""Specification of ``verify_ledger``: every kind of tampering is found and named by seq."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from livegate.domain.errors import DataError
from livegate.ledger import GENESIS_HASH, LEDGER_FILENAME, Ledger, verify_ledger
from livegate.ledger.events import chain_hash
from tests.ledger.helpers import tamper

EVENTS = 300


@pytest.fixture
def filled_ledger(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / LEDGER_FILENAME
    with Ledger.open(path, synchronous="OFF") as ledger:
        for i in range(EVENTS):
            kind = ("intent", "decision", "fill", "order_report")[i % 4]
            ledger.append(kind, 1_000 + i, {"client_order_id": f"c{i // 4}", "n": i, "price": "100.50"})
        return path, ledger.head_hash


def test_verify_when_untouched_then_ok_with_count_and_head(filled_ledger: tuple[Path, str]) -> None:
    path, head = filled_ledger
    result = verify_ledger(path)
    assert (result.ok, result.events, result.head_hash, result.first_bad_seq, result.reason) == (
        True,
        EVENTS,
        head,
        None,
        "ok",
    )


def test_verify_when_ledger_empty_then_ok_with_genesis(tmp_path: Path) -> None:
    Ledger.open(tmp_path / LEDGER_FILENAME).close()
    result = verify_ledger(tmp_path / LEDGER_FILENAME)
    assert result.ok and result.events == 0 and result.head_hash == GENESIS_HASH


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payload", '{"client_order_id":"c1","n":5,"price":"100.51"}'),
        ("payload", '{"client_order_id": "c1", "n": 5, "price": "100.50"}'),
        ("payload", "not json"),
        ("ts_ms", 999),
        ("kind", "fill"),
        ("hash", "f" * 64),
        ("prev_hash", "e" * 64),
    ],
)
@pytest.mark.parametrize("seq", [1, 6, EVENTS])
def test_verify_when_one_column_edited_then_fails_at_that_seq(
    filled_ledger: tuple[Path, str], column: str, value: object, seq: int
) -> None:
    path, _ = filled_ledger
    tamper(path, f"UPDATE events SET {column} = ? WHERE seq = ?", (value, seq))
    result = verify_ledger(path)
    assert not result.ok
    assert result.first_bad_seq == seq
    assert result.events == seq - 1
    assert result.reason.startswith(f"seq {seq}:")


def test_verify_when_edited_row_rehashed_then_next_link_breaks(filled_ledger: tuple[Path, str]) -> None:
    path, _ = filled_ledger
    conn = sqlite3.connect(path)
    prev = conn.execute("SELECT prev_hash FROM events WHERE seq = 10").fetchone()[0]
    conn.close()
    payload = {"client_order_id": "forged", "n": 9, "price": "1"}
    forged = chain_hash(prev, 10, 1009, "decision", payload)
    tamper(
        path,
        "UPDATE events SET payload = ?, hash = ? WHERE seq = 10",
        (json.dumps(payload, sort_keys=True, separators=(",", ":")), forged),
    )
    result = verify_ledger(path)
    assert (result.ok, result.first_bad_seq) == (False, 11)
    assert "prev_hash" in result.reason


def test_verify_when_row_deleted_then_fails_at_missing_seq(filled_ledger: tuple[Path, str]) -> None:
    path, _ = filled_ledger
    tamper(path, "DELETE FROM events WHERE seq = 42")
    result = verify_ledger(path)
    assert (result.ok, result.first_bad_seq, result.events) == (False, 42, 41)
    assert "deleted" in result.reason


def test_verify_when_row_inserted_before_first_then_fails(filled_ledger: tuple[Path, str]) -> None:
    path, _ = filled_ledger
    tamper(path, "INSERT INTO events VALUES (0, 1, 'fill', '{}', ?, ?)", (GENESIS_HASH, "a" * 64))
    result = verify_ledger(path)
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert "inserted" in result.reason


def test_verify_when_row_appended_without_chain_then_fails(filled_ledger: tuple[Path, str]) -> None:
    path, head = filled_ledger
    tamper(path, "INSERT INTO events VALUES (?, 1, 'fill', '{}', ?, ?)", (EVENTS + 1, head, "b" * 64))
    result = verify_ledger(path)
    assert (result.ok, result.first_bad_seq) == (False, EVENTS + 1)


def test_verify_when_tail_cut_then_only_expected_head_detects_it(filled_ledger: tuple[Path, str]) -> None:
    path, head = filled_ledger
    tamper(path, "DELETE FROM events WHERE seq = ?", (EVENTS,))
    assert verify_ledger(path).ok
    result = verify_ledger(path, expected_head_hash=head)
    assert (result.ok, result.first_bad_seq) == (False, EVENTS)
    assert verify_ledger(path, expected_head_hash=result.head_hash).ok


def test_verify_when_file_missing_then_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        verify_ledger(tmp_path / "nope.sqlite")


def test_verify_when_file_not_a_ledger_then_data_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"garbage" * 1000)
    with pytest.raises(DataError):
        verify_ledger(junk)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(DataError, match="no events table"):
        verify_ledger(other)


def test_verify_when_writer_still_open_then_reads_committed_events(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILENAME
    ledger = Ledger.open(path)
    ledger.append("anomaly", 1, {"kind": "a", "detail": "x"})
    result = verify_ledger(path)
    ledger.close()
    assert result.ok and result.events == 1
