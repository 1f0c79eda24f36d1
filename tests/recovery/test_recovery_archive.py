"""The fold checkpoint's archive on real crash-resume ledgers: what a resume builds lazily equals the full fold,
lookup by lookup; and a resumed run's fill comparison from its last clean reconciliation finds what a full one finds."""

from __future__ import annotations

import random
from decimal import Decimal
from functools import partial
from operator import le
from pathlib import Path

import pytest

from livegate.config.reconcile_models import ReconcileConfig
from livegate.control.resume import rebuild_from_ledger
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.ledger import events as ev
from livegate.ledger.checkpoint import CHECKPOINT_FILE, checkpoint_path, read_checkpoint, write_checkpoint
from livegate.ledger.checkpoint_archive import Archive
from livegate.ledger.checkpoint_job import fold_rows
from livegate.ledger.checkpoint_lists import ArchivedFills, ArchivedList
from livegate.ledger.fold import LedgerFold, fold_events
from livegate.ledger.payload_session import FillsMatched
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.reconcile.drift import DriftRecord
from livegate.reconcile.fills import LedgerFillIndex
from livegate.reconcile.reconciler import Reconciler
from livegate.reconcile.startup_inventory import _adopted_before, first_start
from livegate.venues.base import VenueCapabilities
from tests.recovery.checkpoint_helpers import exact_state
from tests.recovery.test_recovery_checkpoint import _copy_ledger, _split_points
from tests.recovery.test_recovery_checkpoint import crashed_and_resumed as crashed_and_resumed  # the module fixture


def _events(run_dir: Path) -> list[ev.LedgerEvent]:
    with Ledger.open(run_dir / "ledger.sqlite", synchronous="OFF") as ledger:
        return list(ledger.events())


def _loaded(tmp_path: Path, run_dir: Path, split: int) -> tuple[LedgerFold, list[ev.LedgerEvent]]:
    """Return the fold read back from a checkpoint at ``split``, the rest folded on (nothing read whole)."""
    with Ledger.open(run_dir / "ledger.sqlite", synchronous="OFF") as ledger:
        events = list(ledger.events())
        path = tmp_path / CHECKPOINT_FILE
        write_checkpoint(path, fold_events(events[:split]))
        loaded = read_checkpoint(path, ledger.hash_at, ledger.last_seq)
        fold_rows(loaded, ledger.rows(after_seq=split))
    return loaded, events


def test_archive_when_orders_looked_up_by_client_order_id_then_each_equals_the_full_fold_one(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run_dir = crashed_and_resumed
    events = _events(run_dir)
    full = fold_events(events)
    cids = [o.client_order_id for o in full.portfolio.all_orders()]
    assert any(o.status.is_terminal for o in full.portfolio.all_orders())
    rng = random.Random(7)
    for split in _split_points(len(events)):
        loaded, _ = _loaded(tmp_path, run_dir, split)
        index = loaded.portfolio.orders_by_id()
        assert isinstance(index, Archive) and index.archived  # the lazy path, nothing read whole yet
        assert isinstance(loaded.fills, ArchivedFills) and isinstance(loaded.approved_intents, ArchivedList)
        assert loaded.fill_ids() == full.fill_ids()  # from the columns, no fill built
        assert loaded.fill_ids("paper") == full.fill_ids("paper")
        assert sorted(loaded.portfolio.fill_keys()) == sorted(full.portfolio.fill_keys())
        working = sorted(o.client_order_id for o in loaded.portfolio.working_orders())
        assert working == sorted(o.client_order_id for o in full.portfolio.working_orders())
        assert exact_state(loaded.portfolio.positions()) == exact_state(full.portfolio.positions())
        for cid in rng.sample(cids, len(cids)):
            assert exact_state(loaded.order(cid)) == exact_state(full.order(cid)), f"split {split}: order {cid}"
            assert exact_state(loaded.entries.get(cid)) == exact_state(full.entries.get(cid)), f"entry {cid}"
        assert loaded.order("lg-not-an-order") is None and "lg-not-an-order" not in loaded.entries
        assert index.archived  # still lazy after every lookup by id
        assert exact_state(loaded) == exact_state(full), f"split at seq {split}"  # and as a whole


def test_archive_when_checkpoint_fold_forked_unread_then_copy_evolves_alone_and_equals_the_full_fold(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run_dir = crashed_and_resumed
    events = _events(run_dir)
    split = len(events) // 2
    with Ledger.open(run_dir / "ledger.sqlite", synchronous="OFF") as ledger:
        write_checkpoint(tmp_path / CHECKPOINT_FILE, fold_events(events[:split]))
        loaded = read_checkpoint(tmp_path / CHECKPOINT_FILE, ledger.hash_at, ledger.last_seq)
    fork = loaded.fork()
    copy = loaded.copy_portfolio()
    assert isinstance(fork.portfolio.orders_by_id(), Archive) and isinstance(copy.orders_by_id(), Archive)
    for event in events[split:]:
        fork.apply(event)  # late fills and status reports reach archived orders of the fork only
    assert exact_state(fork) == exact_state(fold_events(events))
    half = fold_events(events[:split])
    assert exact_state(loaded) == exact_state(half)  # the original did not move
    assert exact_state(copy) == exact_state(half.portfolio)


def test_rebuild_when_from_checkpoint_then_todays_intents_equal_the_full_fold_ones_and_fills_stay_archived(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    crashed, _ = crashed_and_resumed
    ledger_file = _copy_ledger(crashed, tmp_path / "run")
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        events = list(ledger.events())
        write_checkpoint(checkpoint_path(ledger_file), fold_events(events[: len(events) - 3]))
        fast = rebuild_from_ledger(ledger)
        full = rebuild_from_ledger(ledger, use_checkpoint=False)
    assert fast.checkpoint_seq == len(events) - 3
    times = sorted(i.ts_ms for i in full.approved_intents)
    assert len(times) > 4
    for cut in (times[0], times[len(times) // 2], times[-1], times[-1] + 1):
        assert fast.approved_intents_at(partial(le, cut)) == [i for i in full.approved_intents if i.ts_ms >= cut]
    assert isinstance(fast.approved_intents, ArchivedList) and fast.approved_intents.archived  # only those built
    assert fast.fill_ids == full.fill_ids
    assert isinstance(fast.fold.fills, ArchivedFills) and fast.fold.fills.archived


def _fill(fill_id: str, venue: str = "paper") -> Fill:
    return Fill(f"c-{fill_id}", fill_id, "BTCUSDT", Side.BUY, Decimal(1), Decimal(1), Decimal(0), Liquidity.TAKER, 1,
                venue)  # fmt: skip


def test_archived_fills_when_ids_read_by_range_and_venue_then_equal_the_built_fills() -> None:
    archived = [_fill(f"a{i}", "paper" if i % 3 else ("" if i % 2 else "other")) for i in range(9)]
    built: list[int] = []

    def build(i: int) -> Fill:
        built.append(i)
        return archived[i]

    fills = ArchivedFills(9, build, [f.fill_id for f in archived], [f.venue for f in archived])
    fills.append(_fill("b0"))
    fills.append(_fill("b1", "other"))
    every = [*archived, _fill("b0"), _fill("b1", "other")]
    for start in range(12):
        for stop in (None, *range(12)):
            for venue in (None, "paper", "other"):
                want = [f.fill_id for f in every[start:stop] if venue is None or f.venue in (venue, "")]
                assert fills.ids(start, venue, stop) == want, (start, stop, venue)
    assert built == [] and len(fills) == 11
    assert list(fills) == every and built == list(range(9))  # read whole: built once, in order
    assert fills.ids(2, "paper", 10) == [f.fill_id for f in every[2:10] if f.venue in ("paper", "")]


class JournalVenue:
    """A venue numbering its fills (a paper store's journal); records every cursor it was asked from."""

    name = "paper"
    capabilities = VenueCapabilities(positions=True, simulated=True)

    def __init__(self, fills: list[Fill]) -> None:
        self.fills = list(fills)
        self.asked: list[int] = []

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        return []

    async def positions(self) -> list[PositionSnapshot]:
        return []

    async def balances(self) -> list[BalanceSnapshot]:
        return []

    async def fills_after(self, cursor: int) -> tuple[list[Fill], int]:
        self.asked.append(cursor)
        return self.fills[cursor:], len(self.fills)


def _reconciler(
    venue: JournalVenue, index: LedgerFillIndex, matched: FillsMatched | None, ledger: Ledger | None = None
) -> Reconciler:
    return Reconciler(
        venue=venue,  # type: ignore[arg-type]
        portfolio=Portfolio(),
        config=ReconcileConfig(),
        clock=ReplayClock(1_000),
        currency_of={"BTCUSDT": "USDT"},
        ledger_fills=index,
        fills_matched=matched,
        ledger=ledger,
    )


def _fill_drift(records: list[DriftRecord]) -> list[tuple[str, str, str, str]]:
    return sorted(
        (r.kind.value, r.client_order_id, r.internal_value, r.venue_value) for r in records if r.source == "fills"
    )


@pytest.mark.parametrize("change", ["none", "venue_extra", "venue_lacks_last", "ledger_count_beyond"])
async def test_reconciler_when_resumed_from_a_clean_fill_point_then_drift_equals_the_full_comparison(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path, change: str
) -> None:
    _, run_dir = crashed_and_resumed
    ledger_file = _copy_ledger(run_dir, tmp_path / "run")
    with Ledger.open(ledger_file, synchronous="OFF") as ledger:
        events = list(ledger.events())
        write_checkpoint(checkpoint_path(ledger_file), fold_events(events[: len(events) // 2]))
        lazy = rebuild_from_ledger(ledger).fold  # archived fills: the resume's own path
        eager = fold_events(events)
        fills = list(eager.fills)
        assert len(fills) > 3
        at = len(fills) - 2  # the last clean comparison had seen all but the last two fills
        venue_fills = [*fills, _fill("x-extra")] if change == "venue_extra" else list(fills)
        if change == "venue_lacks_last":
            venue_fills = venue_fills[:-1]
        count = len(fills) + 5 if change == "ledger_count_beyond" else at
        resumed_venue, full_venue = JournalVenue(venue_fills), JournalVenue(venue_fills)
        resumed = _reconciler(resumed_venue, LedgerFillIndex(ledger, lazy), FillsMatched(count, at, None))
        full = _reconciler(full_venue, LedgerFillIndex(ledger), None)
        got, want = await resumed.reconcile("startup"), await full.reconcile("startup")
    assert _fill_drift(got.records) == _fill_drift(want.records)
    assert bool(_fill_drift(got.records)) == (change in ("venue_extra", "venue_lacks_last"))
    assert resumed_venue.asked == [0 if change == "ledger_count_beyond" else at]  # only fills after the point
    assert full_venue.asked == [0]


async def test_reconciler_when_fills_compare_equal_then_reconciled_event_records_the_point(
    crashed_and_resumed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run_dir = crashed_and_resumed
    ledger_file = _copy_ledger(run_dir, tmp_path / "run")
    with Ledger.open(ledger_file) as ledger:
        fills = list(fold_events(ledger.events()).fills)
        venue = JournalVenue(fills)
        clean = await _reconciler(venue, LedgerFillIndex(ledger), None, ledger).reconcile("startup")
        venue.fills.append(_fill("x-extra"))
        dirty = await _reconciler(venue, LedgerFillIndex(ledger), None, ledger).reconcile("startup")
        recorded = [e.payload for e in ledger.events(ev.RECONCILED)][-2:]
        fold = fold_events(ledger.events())
    assert clean.clean and not dirty.clean
    assert recorded[0]["fills_matched"] == {
        "ledger_fills": len(fills),
        "venue_cursor": len(fills),
        "venue_newest_ms": None,
    }
    assert "fills_matched" not in recorded[1]  # not equal: a resume compares every fill again
    assert "paper" not in fold.fills_matched  # the fold keeps the last reconciliation's point, here none


def test_startup_inventory_when_history_given_then_it_says_what_the_ledger_scan_says(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "ledger.sqlite") as ledger:
        assert first_start(ledger, None) and first_start(None, fold_events(ledger.events()))
        ledger.append(ev.SESSION_STARTED, 1, {"session_id": "s", "mode": "paper", "config_hash": "h", "inputs": []})
        for k, qty in enumerate(("0.5", "-0.2")):
            fills = [{**_fill(f"inv{k}").to_record()}]
            ledger.append(
                ev.INVENTORY_ADOPTED, 2 + k, {"venue": "paper", "positions": {"BTCUSDT": qty}, "fills": fills}
            )
        fold = fold_events(ledger.events())
        assert _adopted_before(ledger, fold) == _adopted_before(ledger, None)
        assert _adopted_before(None, fold) == ({"BTCUSDT": Decimal("0.3")}, {"inv0", "inv1"})
        assert first_start(ledger, fold) and first_start(ledger, None)
        ledger.append(ev.RECONCILED, 5, {"trigger": "startup", "venue": "paper", "clean": True})
        fold = fold_events(ledger.events())
        assert not first_start(ledger, fold) and not first_start(ledger, None)
