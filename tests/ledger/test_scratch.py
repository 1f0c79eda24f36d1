"""Retired orders' records on disk (issue 14 item 2): a mapping any ``Retirement`` can keep them in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livegate.ledger.db import rows_between
from livegate.ledger.export import iter_rows
from livegate.ledger.fold import LedgerFold, fold_events
from livegate.ledger.fold_retire import NotKept, Retirement
from livegate.ledger.scratch import ScratchInts, ScratchKeys, scratch_db
from tests.ledger.test_fold_retire import _agree, _events


def test_records_when_stored_then_read_back_whole_beyond_64_bits() -> None:
    records = ScratchInts(scratch_db())
    big = (1 << 80) | (7 << 81) | (123_456 << 40) | 42  # lent bit, (venue, symbol) number 7, two seqs
    records["a"] = big
    records["b"] = 5
    records["a"] |= 1  # what take_retired does
    assert records["a"] == big | 1 and records.get("b") == 5 and records.get("c") is None
    assert len(records) == 2 and sorted(records) == ["a", "b"]
    assert records.pop("b") == 5 and records.pop("b", None) is None and len(records) == 1
    del records["a"]
    assert len(records) == 0
    with pytest.raises(KeyError):
        del records["a"]
    with pytest.raises(ValueError, match="non-negative"):
        records["x"] = -1


def test_retiring_fold_when_records_on_disk_then_agrees_with_the_whole_fold(bundled_paper_run: Path) -> None:
    ledger_path = bundled_paper_run / "ledger.sqlite"
    records = ScratchInts(scratch_db())
    retirement = Retirement(lambda first, last: rows_between(ledger_path, first, last), 3, records=records)
    fold = LedgerFold(approved_intents=NotKept(), retirement=retirement)
    for seq, ts_ms, kind, text, _prev, digest in iter_rows(ledger_path):
        fold.apply_payload(seq, ts_ms, kind, json.loads(text), digest)
    _agree(fold, fold_events(_events(bundled_paper_run)))
    assert len(records) == len(retirement) > 100  # the records are the disk's
    handed = retirement.take_retired()
    assert handed and retirement.order_copy(fold, handed[0]) is not None  # rebuilt from its events


def test_records_when_setdefault_then_first_value_stays() -> None:
    submits = ScratchInts(scratch_db(), "submits")
    assert submits.setdefault("a", 10) == 10 and submits.setdefault("a", 20) == 10 and submits["a"] == 10
    assert len(submits) == 1 and list(submits.items()) == [("a", 10)]


def test_records_when_bits_set_on_some_then_only_keys_change_and_are_returned_in_order() -> None:
    records = ScratchInts(scratch_db())
    records["b"], records["a"] = 3 << 40, 1
    assert records.set_bits(["a", "x", "b"], 1 << 80) == ["a", "b"]
    assert records["a"] == 1 | 1 << 80 and records["b"] == 3 << 40 | 1 << 80 and "x" not in records


def test_fill_keys_when_kept_on_disk_then_a_set_iterated_as_sorted_sorts() -> None:
    keys = ScratchKeys(scratch_db())
    given = [("b", "2"), ("a", "10"), ("a", "9"), ("ab", ""), ("a", "é"), ("a", "z"), ("€", "1"), ("a", "9")]
    for key in given:
        keys.add(key)
    assert len(keys) == len(set(given)) and ("a", "9") in keys and ("a", "8") not in keys and "a" not in keys
    assert list(keys) == sorted(set(given))
    assert list(keys.column(0)) == [c for c, _ in sorted(set(given))]
    assert list(keys.column(1)) == [f for _, f in sorted(set(given))]
    keys.discard(("a", "9"))
    keys.discard(("a", "9"))
    assert len(keys) == len(set(given)) - 1 and ("a", "9") not in keys
