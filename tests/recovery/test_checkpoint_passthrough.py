"""A checkpoint written from a read checkpoint writes its unbuilt items from their columns (issue 14 item 2).

What the checkpoint job writes must be the bytes a fold of every event gives, whichever of
the read checkpoint's orders, entries, intents and fills were built before (looked up by a
late event, by a reader) and whichever were not: the unbuilt ones are never built to be written.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from livegate.domain.enums import OrderStatus
from livegate.domain.orders import OrderIntent
from livegate.ledger.checkpoint import encode_checkpoint
from livegate.ledger.checkpoint_archive import Archive
from livegate.ledger.checkpoint_lists import ArchivedList
from livegate.ledger.checkpoint_rows import StoredRows
from livegate.ledger.fold import LedgerFold, fold_events
from tests.recovery.test_recovery_archive import _events, _loaded
from tests.recovery.test_recovery_checkpoint import _split_points
from tests.recovery.test_recovery_checkpoint import crashed_and_resumed as crashed_and_resumed  # the module fixture


def _body(fold: LedgerFold) -> bytes:
    data = encode_checkpoint(fold)
    return data[data.index(b"\n") + 1 :]


def test_checkpoint_when_written_from_a_read_checkpoint_then_bytes_equal_the_full_folds_and_nothing_is_built(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run_dir = crashed_and_resumed
    events = _events(run_dir)
    full = fold_events(events)
    expected = _body(full)
    cids = [o.client_order_id for o in full.portfolio.all_orders()]
    rng = random.Random(11)
    for split in _split_points(len(events)):
        loaded, _ = _loaded(tmp_path, run_dir, split)
        index, entries = loaded.portfolio.orders_by_id(), loaded.entries
        assert isinstance(index, Archive) and isinstance(entries, Archive)
        assert isinstance(loaded.fills, ArchivedList) and isinstance(loaded.approved_intents, ArchivedList)
        # some orders and entries built (their intents with them), others not: an intent may be
        # named by a built order and by an unbuilt entry, and must get one number
        for cid in rng.sample(cids, len(cids) // 3):
            loaded.order(cid)
        for cid in rng.sample(cids, len(cids) // 3):
            entries.get(cid)
        archived_fills = loaded.fills.archived
        assert _body(loaded) == expected, f"split at seq {split}"
        assert index.archived and entries.archived, "writing built the archive"
        assert loaded.fills.archived == archived_fills, "writing built the fills"


def test_checkpoint_when_every_item_built_then_bytes_equal_the_unbuilt_write(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run_dir = crashed_and_resumed
    events = _events(run_dir)
    split = len(events) // 2
    loaded, _ = _loaded(tmp_path, run_dir, split)
    unbuilt = _body(loaded)
    list(loaded.portfolio.all_orders()), list(loaded.entries.values()), list(loaded.fills)
    list(loaded.approved_intents)
    assert not loaded.portfolio.orders_by_id().archived  # type: ignore[attr-defined]
    assert unbuilt == _body(loaded) == _body(fold_events(events))


def test_stored_rows_when_equal_decimals_differ_in_exponent_then_each_keeps_its_own_text() -> None:
    one, one_00 = Decimal("1.0"), Decimal("1.00")  # equal values, hash alike: texts must not be shared
    intents: list[list[object]] = [[] for _ in range(13)]
    orders = [["a", "b"], [0, 0], ["v", "v"], [OrderStatus.FILLED] * 2, [one, one_00], [one_00, one], ["", ""],
              ["", ""], [1, 2]]  # fmt: skip
    rows = StoredRows(intents, [OrderIntent.__new__(OrderIntent)], orders, [], [], [], [], [])
    first, second = rows.order_row(0, lambda _i: 0), rows.order_row(1, lambda _i: 0)
    assert (first[4], first[5], second[4], second[5]) == ("1.0", "1.00", "1.00", "1.0")
