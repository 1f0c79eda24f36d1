"""The shadow venue records approved orders and never fills them."""

from __future__ import annotations

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import OrderStatus, Side, TimeInForce
from livegate.domain.errors import Rejected
from livegate.domain.market import Quote, Trade
from livegate.venues.base import SimulatedVenue, VenueAdapter
from livegate.venues.shadow import ShadowVenue
from tests.venues.paper_helpers import BTCUSDT, Recorder, make_order


def make_shadow() -> tuple[ShadowVenue, Recorder]:
    venue = ShadowVenue({"BTCUSDT": BTCUSDT}, ReplayClock(1_000))
    sink = Recorder()
    venue.bind(sink)
    return venue, sink


async def test_shadow_venue_when_orders_submitted_then_recorded_accepted_and_never_filled(
    quotes: list[Quote],
) -> None:
    venue, sink = make_shadow()
    assert isinstance(venue, VenueAdapter) and isinstance(venue, SimulatedVenue)
    assert venue.capabilities.simulated
    venue.on_quote(quotes[0])
    orders = [make_order("a", Side.BUY, "1.000", "99999.00"), make_order("b", Side.SELL, "1.000")]
    reports = [await venue.submit(o) for o in orders]
    for q in quotes[:50]:
        venue.on_quote(q)
    venue.on_trade(Trade("BTCUSDT", q.bid_price, q.bid_size, Side.SELL, "t", 0))
    assert [r.status for r in reports] == [OrderStatus.ACCEPTED, OrderStatus.ACCEPTED]
    assert [r.filled_quantity for r in reports] == [0, 0]
    assert venue.recorded_orders == orders
    assert sink.reports == []
    assert await venue.positions() == []
    assert await venue.balances() == []
    assert venue.last_quote("BTCUSDT") == quotes[49]


async def test_shadow_venue_when_cancel_and_cancel_all_then_open_orders_shrink() -> None:
    venue, _ = make_shadow()
    for cid in "abc":
        await venue.submit(make_order(cid, Side.BUY, "0.010", "60000.00"))
    assert (await venue.cancel("a", "BTCUSDT")).status is OrderStatus.CANCELLED
    with pytest.raises(Rejected) as info:
        await venue.cancel("a", "BTCUSDT")
    assert info.value.code == "UNKNOWN_ORDER"
    assert [s.client_order_id for s in await venue.open_orders()] == ["b", "c"]
    assert [r.client_order_id for r in await venue.cancel_all("BTCUSDT")] == ["b", "c"]
    assert await venue.open_orders() == []
    snap = await venue.fetch_order("b", "BTCUSDT")
    assert snap is not None and snap.status is OrderStatus.CANCELLED
    assert await venue.fetch_order("zzz", "BTCUSDT") is None


async def test_shadow_venue_when_ioc_then_cancelled_with_nothing_filled() -> None:
    venue, _ = make_shadow()
    report = await venue.submit(make_order("i", Side.BUY, "0.010", "60000.00", tif=TimeInForce.IOC))
    assert (report.status, report.filled_quantity) == (OrderStatus.CANCELLED, 0)
    assert await venue.open_orders() == []


@pytest.mark.parametrize(
    ("cid", "symbol", "code"), [("a", "BTCUSDT", "DUPLICATE_CLIENT_ORDER_ID"), ("n", "ETHUSDT", "UNKNOWN_SYMBOL")]
)
async def test_shadow_venue_when_duplicate_or_unknown_symbol_then_rejected(cid: str, symbol: str, code: str) -> None:
    venue, _ = make_shadow()
    await venue.submit(make_order("a", Side.BUY, "0.010", "60000.00"))
    with pytest.raises(Rejected) as info:
        await venue.submit(make_order(cid, Side.BUY, "0.010", "60000.00", symbol=symbol))
    assert info.value.code == code
    assert len(venue.recorded_orders) == 1
