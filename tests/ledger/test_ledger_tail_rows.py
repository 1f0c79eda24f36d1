"""A reader that follows the ledger gets the appended rows from memory: the same rows, never a rolled back one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livegate.ledger import Ledger, store
from livegate.ledger import events as ev

Row = tuple[int, int, str, object, str, str]


def _as_stored(row: Row) -> tuple[int, int, str, str, str, str]:
    seq, ts_ms, kind, payload, prev, digest = row
    text = payload if isinstance(payload, str) else ev.canonical_json(payload)
    return seq, ts_ms, kind, text, prev, digest


def _append_some(ledger: Ledger, start_ms: int) -> None:
    ledger.append(ev.INTENT, start_ms, {"client_order_id": "c1", "symbol": "BTCUSDT", "quantity": "0.002"})
    ledger.append(ev.FILL, start_ms + 1, {"client_order_id": "c1", "fill_id": "f1", "price": "1.5"}, durable=False)
    # a decoder iterates this mapping: the reader must get the stored key order (the text), not the caller's
    ledger.append(ev.RECONCILED, start_ms + 2, {"venue": "paper", "balance_baseline": {"USDT": "1", "BTC": "2"}})
    ledger.append(ev.MARKOUT, start_ms + 3, {"client_order_id": "c1", "mid_after": "1.6"}, durable=False)


def test_ledger_tail_rows_when_followed_then_rows_are_the_stored_rows_dicts_only_for_kinds_read_by_name(
    tmp_path: Path,
) -> None:
    with Ledger.open(tmp_path, synchronous="OFF") as ledger:
        _append_some(ledger, 1_000)
        first = list(ledger.tail_rows(0))  # the first read comes from SQLite
        _append_some(ledger, 2_000)
        kept = list(ledger.tail_rows(first[-1][0]))
        stored = list(ledger.rows())
        assert [_as_stored(r) for r in first + kept] == stored
        kinds_as_dict = {r[2] for r in kept if isinstance(r[3], dict)}
        assert kinds_as_dict == {ev.INTENT, ev.FILL, ev.MARKOUT}
        for row, (*_, text, _prev, _digest) in zip(kept, stored[len(first) :], strict=True):
            if isinstance(row[3], dict):
                assert row[3] == json.loads(text)
        assert list(ledger.tail_rows(ledger.last_seq)) == []


def test_ledger_tail_rows_when_a_block_was_rolled_back_then_its_rows_are_never_handed_out(tmp_path: Path) -> None:
    with Ledger.open(tmp_path, synchronous="OFF") as ledger:
        assert list(ledger.tail_rows(0)) == []
        ledger.append(ev.ANOMALY, 1_000, {"kind": "test", "detail": "kept"})
        with pytest.raises(RuntimeError), ledger.transaction():
            ledger.append(ev.ANOMALY, 2_000, {"kind": "test", "detail": "rolled back"})
            raise RuntimeError("the block fails")
        ledger.append(ev.ANOMALY, 3_000, {"kind": "test", "detail": "after"})
        rows = list(ledger.tail_rows(0))
        assert [_as_stored(r) for r in rows] == list(ledger.rows())
        assert [r[3]["detail"] for r in rows] == ["kept", "after"]  # type: ignore[index]


def test_ledger_tail_rows_when_more_rows_than_kept_then_sqlite_gives_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "TAIL_LIMIT", 3)
    with Ledger.open(tmp_path, synchronous="OFF") as ledger:
        list(ledger.tail_rows(0))
        for i in range(8):
            ledger.append(ev.ANOMALY, 1_000 + i, {"kind": "test", "detail": str(i)})
        rows = list(ledger.tail_rows(0))
        assert [_as_stored(r) for r in rows] == list(ledger.rows())
        assert all(isinstance(r[3], str) for r in rows)  # read from SQLite: the kept ones had a gap before them
