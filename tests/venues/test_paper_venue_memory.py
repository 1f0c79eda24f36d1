"""The paper venue holds its open orders in memory, not every order of the session (issue 14 item 2).

With a store, a finished order leaves memory once its final state is committed; the venue
still answers for it exactly as before: a reused client order id is refused, a status
query returns the same snapshot, a cancel is refused as for any finished order, and a
restart from the store gives the same answers. Each scenario runs twice, on a venue with a
store and on its twin without one (which keeps every order, the behaviour before this
change), and the answers are compared field by field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import OrderStatus, Side, TimeInForce
from livegate.domain.errors import Rejected
from livegate.domain.market import Trade
from livegate.domain.snapshots import VenueOrderSnapshot
from livegate.venues.paper import PaperParams, PaperVenue
from livegate.venues.paper_store import PaperStore
from tests.venues.paper_helpers import BTCUSDT, Recorder, make_order, quote

START_MS = 1_723_161_256_313
#: Client order ids of the scenario by how they end.
FILLED_TAKER = [f"take-{i}" for i in range(10)]
CANCELLED = [f"cancel-{i}" for i in range(10)]
FILLED_MAKER = [f"make-{i}" for i in range(10)]
FILLED_BY_TRADE = [f"print-{i}" for i in range(5)]
OPEN = [f"open-{i}" for i in range(10)]
PARTIAL_CANCELLED = "partial"
FINISHED = [*FILLED_TAKER, *CANCELLED, *FILLED_MAKER, *FILLED_BY_TRADE, PARTIAL_CANCELLED]


def _venue(store: PaperStore | None, clock: ReplayClock) -> tuple[PaperVenue, Recorder]:
    venue = PaperVenue({"BTCUSDT": BTCUSDT}, PaperParams(), clock, store=store)
    sink = Recorder()
    venue.bind(sink)
    return venue, sink


async def _trade(venue: PaperVenue, clock: ReplayClock) -> None:
    """Send 46 orders: 36 finish (taker fills, cancels, maker fills, a partial fill then cancel), 10 stay open."""

    def tick() -> None:
        clock.advance_to(clock.now_ms() + 3)

    venue.on_quote(quote("100.0", "100.1", bid_size="5.000", ask_size="5.000"))
    for taker, cancelled, maker, still_open in zip(FILLED_TAKER, CANCELLED, FILLED_MAKER, OPEN, strict=True):
        tick()
        await venue.submit(make_order(taker, Side.BUY, "0.100", tif=TimeInForce.IOC))
        await venue.submit(make_order(cancelled, Side.BUY, "0.100", "99.0"))
        await venue.submit(make_order(maker, Side.SELL, "0.100", "100.5"))
        await venue.submit(make_order(still_open, Side.BUY, "0.100", "90.0"))
        tick()
        await venue.cancel(cancelled, "BTCUSDT")
    for cid in FILLED_BY_TRADE:
        await venue.submit(make_order(cid, Side.BUY, "0.100", "99.5"))
    tick()
    venue.on_quote(quote("100.6", "100.7", bid_size="100.000", ask_size="0.300"))  # the makers' sells fill
    tick()
    venue.on_trade(Trade("BTCUSDT", Decimal("99.4"), Decimal("1.000"), Side.SELL, "t1", clock.now_ms()))
    tick()
    await venue.submit(make_order(PARTIAL_CANCELLED, Side.BUY, "0.500", "100.7"))  # 0.300 of 0.500 fills
    tick()
    await venue.cancel(PARTIAL_CANCELLED, "BTCUSDT")


def _fields(snapshot: VenueOrderSnapshot | None) -> list[tuple[str, str]]:
    """Every field of ``snapshot`` as its repr, so Decimals compare with their exponent."""
    assert snapshot is not None
    return [(f.name, repr(getattr(snapshot, f.name))) for f in fields(snapshot)]


async def _rejection(venue: PaperVenue, call: str, cid: str) -> tuple[str | None, str]:
    with pytest.raises(Rejected) as info:
        if call == "submit":
            await venue.submit(make_order(cid, Side.BUY, "0.100", "90.0"))
        else:
            await venue.cancel(cid, "BTCUSDT")
    return info.value.code, str(info.value)


@dataclass(frozen=True)
class Twins:
    """The scenario played on a venue with a store and on its twin without one."""

    stored: PaperVenue
    kept: PaperVenue
    path: Path
    end_ms: int


@pytest.fixture
async def twins(tmp_path: Path) -> AsyncIterator[Twins]:
    path = tmp_path / "paper_venue.sqlite"
    with PaperStore.open(path, fresh=True) as store:
        stored_clock, kept_clock = ReplayClock(START_MS), ReplayClock(START_MS)
        stored, _ = _venue(store, stored_clock)
        kept, _ = _venue(None, kept_clock)
        await _trade(stored, stored_clock)
        await _trade(kept, kept_clock)
        assert stored_clock.now_ms() == kept_clock.now_ms()
        yield Twins(stored, kept, path, stored_clock.now_ms())


async def test_paper_venue_when_scenario_played_then_orders_end_as_planned(
    twins: Twins,
) -> None:
    kept = twins.kept
    ends = {cid: (await kept.fetch_order(cid, "BTCUSDT")) for cid in [*FINISHED, *OPEN]}
    status = {cid: s.status for cid, s in ends.items() if s is not None}
    assert {status[c] for c in [*FILLED_TAKER, *FILLED_MAKER, *FILLED_BY_TRADE]} == {OrderStatus.FILLED}
    assert {status[c] for c in [*CANCELLED, PARTIAL_CANCELLED]} == {OrderStatus.CANCELLED}
    assert {status[c] for c in OPEN} == {OrderStatus.ACCEPTED}
    partial = ends[PARTIAL_CANCELLED]
    assert partial is not None and partial.filled_quantity == Decimal("0.300")


async def test_paper_venue_when_orders_finish_with_a_store_then_only_open_orders_held_in_memory(
    twins: Twins,
) -> None:
    stored = twins.stored
    assert stored.held_order_ids() == OPEN
    assert [s.client_order_id for s in await stored.open_orders()] == OPEN


async def test_paper_venue_when_no_store_then_every_order_held_in_memory(
    twins: Twins,
) -> None:
    kept = twins.kept
    assert sorted(kept.held_order_ids()) == sorted([*FINISHED, *OPEN])


async def test_paper_venue_when_forgotten_finished_order_fetched_then_same_snapshot_as_kept_one(
    twins: Twins,
) -> None:
    stored, kept = twins.stored, twins.kept
    for cid in [*FINISHED, *OPEN]:
        assert _fields(await stored.fetch_order(cid, "BTCUSDT")) == _fields(await kept.fetch_order(cid, "BTCUSDT"))
    assert await stored.fetch_order(FILLED_TAKER[0], "ETHUSDT") is None  # same as a kept order on another symbol
    assert await stored.fetch_order("never-sent", "BTCUSDT") is None


@pytest.mark.parametrize("call", ["submit", "cancel"])
async def test_paper_venue_when_forgotten_finished_order_id_reused_then_refused_exactly_as_kept_one(
    call: str, twins: Twins
) -> None:
    stored, kept = twins.stored, twins.kept
    for cid in (FILLED_TAKER[3], CANCELLED[0], FILLED_MAKER[9], FILLED_BY_TRADE[2], PARTIAL_CANCELLED):
        code, message = await _rejection(stored, call, cid)
        assert (code, message) == await _rejection(kept, call, cid)
        assert code == ("DUPLICATE_CLIENT_ORDER_ID" if call == "submit" else "UNKNOWN_ORDER")
    assert stored.held_order_ids() == OPEN


async def test_paper_venue_when_restarted_from_store_then_only_open_orders_held_and_same_answers(
    twins: Twins,
) -> None:
    kept = twins.kept
    with PaperStore.open(twins.path) as store:
        again, _ = _venue(store, ReplayClock(twins.end_ms))
        await _expect_same_answers_after_restart(again, kept)


async def _expect_same_answers_after_restart(again: PaperVenue, kept: PaperVenue) -> None:
    assert again.held_order_ids() == OPEN
    assert [_fields(s) for s in await again.open_orders()] == [_fields(s) for s in await kept.open_orders()]
    for cid in [*FINISHED, *OPEN]:
        assert _fields(await again.fetch_order(cid, "BTCUSDT")) == _fields(await kept.fetch_order(cid, "BTCUSDT"))
    for cid in (FILLED_TAKER[0], CANCELLED[9], PARTIAL_CANCELLED):
        assert await _rejection(again, "submit", cid) == await _rejection(kept, "submit", cid)
        assert await _rejection(again, "cancel", cid) == await _rejection(kept, "cancel", cid)
    # the last stored order is finished and not loaded: venue order ids still continue after it
    report = await again.submit(make_order("after-restart", Side.BUY, "0.100", "90.0"))
    assert report.venue_order_id == f"paper-o{len(FINISHED) + len(OPEN) + 1}"


async def test_paper_venue_when_restarted_then_cancel_all_cancels_the_open_orders_oldest_first(
    twins: Twins,
) -> None:
    with PaperStore.open(twins.path) as store:
        again, _ = _venue(store, ReplayClock(twins.end_ms))
        reports = await again.cancel_all("BTCUSDT")
        assert [(r.client_order_id, r.status) for r in reports] == [(c, OrderStatus.CANCELLED) for c in OPEN]
        assert again.held_order_ids() == []
        assert await again.open_orders() == []


def test_paper_store_when_order_looked_up_by_client_order_id_then_stored_row_or_none(
    twins: Twins,
) -> None:
    with PaperStore.open(twins.path) as store:
        found = store.load_order(CANCELLED[4])
        assert found is not None and (found.client_order_id, found.status) == (CANCELLED[4], OrderStatus.CANCELLED)
        assert store.load_order("never-sent") is None
        state = store.load(finished=False)
        assert [o.client_order_id for o in state.orders] == OPEN
        assert state.client_order_ids == {*FINISHED, *OPEN}
        assert state.order_seq == len(FINISHED) + len(OPEN)
