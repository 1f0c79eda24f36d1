"""Archived order entries: built on first lookup, all of them in fold order when read as a whole."""

from __future__ import annotations

from livegate.ledger.checkpoint_archive import Archive
from livegate.ledger.fold import OrderEntry


def _archive(cids: list[str], built: list[int]) -> Archive[OrderEntry]:
    def build(i: int) -> OrderEntry:
        built.append(i)
        return OrderEntry(cids[i], 1000 + i)

    return Archive(cids, build)


def test_archived_entries_when_one_looked_up_then_only_that_one_built() -> None:
    built: list[int] = []
    entries = _archive(["a", "b", "c"], built)
    assert "b" in entries and "z" not in entries
    assert entries.get("b") is entries["b"]  # built once, then kept
    assert entries.get("z") is None
    assert built == [1]


def test_archived_entries_when_new_entry_added_then_full_read_keeps_fold_order() -> None:
    built: list[int] = []
    entries = _archive(["a", "b", "c"], built)
    first_b = entries["b"]
    entries["d"] = OrderEntry("d", 2000)  # a later event's order
    assert list(entries) == ["a", "b", "c", "d"]
    assert entries["b"] is first_b and len(entries) == 4
    assert [e.first_ts_ms for e in entries.values()] == [1000, 1001, 1002, 2000]
    assert sorted(built) == [0, 1, 2]
    assert entries == {e.client_order_id: e for e in entries.values()}
