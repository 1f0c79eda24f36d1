"""Order lookups, cancels, positions and balances of the paper venue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from livegate.domain.enums import OrderStatus, Side, TimeInForce
from livegate.domain.errors import Rejected
from livegate.domain.market import Quote
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot
from tests.venues.paper_helpers import make_order, make_venue, quote

D = Decimal


async def test_paper_venue_when_cancel_open_order_then_cancelled_report_and_gone(quotes: list[Quote]) -> None:
    venue, sink, clock = make_venue()
    venue.on_quote(quotes[0])
    await venue.submit(make_order("a", Side.BUY, "0.010", "61000.00"))
    clock.advance_to(clock.now_ms() + 5)
    report = await venue.cancel("a", "BTCUSDT")
    assert (report.status, report.filled_quantity, report.venue_order_id) == (OrderStatus.CANCELLED, 0, "paper-o1")
    assert report.ts_ms == clock.now_ms()
    assert await venue.open_orders() == []
    venue.on_quote(quote("60000.0", "60000.1"))
    assert sink.fills == []


@pytest.mark.parametrize(("cid", "symbol"), [("missing", "BTCUSDT"), ("a", "ETHUSDT"), ("filled", "BTCUSDT")])
async def test_paper_venue_when_cancel_unknown_or_finished_order_then_rejected_unknown_order(
    cid: str, symbol: str, quotes: list[Quote]
) -> None:
    venue, _, _ = make_venue()
    venue.on_quote(quotes[0])
    await venue.submit(make_order("a", Side.BUY, "0.010", "61000.00"))
    await venue.submit(make_order("filled", Side.BUY, "0.010"))
    with pytest.raises(Rejected) as info:
        await venue.cancel(cid, symbol)
    assert info.value.code == "UNKNOWN_ORDER"


async def test_paper_venue_when_cancel_all_then_every_open_order_cancelled_oldest_first(
    quotes: list[Quote],
) -> None:
    venue, _, _ = make_venue()
    venue.on_quote(quotes[0])
    for cid, price in (("a", "61000.00"), ("b", "62000.00"), ("c", "60000.00")):
        await venue.submit(make_order(cid, Side.BUY if cid != "b" else Side.SELL, "0.010", price))
    assert [r.client_order_id for r in await venue.cancel_all("ETHUSDT")] == []
    reports = await venue.cancel_all()
    assert [(r.client_order_id, r.status) for r in reports] == [(c, OrderStatus.CANCELLED) for c in "abc"]
    assert await venue.open_orders() == []


async def test_paper_venue_when_fetch_order_then_open_and_finished_orders_found(quotes: list[Quote]) -> None:
    venue, _, _ = make_venue()
    venue.on_quote(quotes[0])
    await venue.submit(make_order("open", Side.BUY, "0.010", "61000.00"))
    await venue.submit(make_order("done", Side.BUY, "0.020", tif=TimeInForce.IOC))
    open_snap = await venue.fetch_order("open", "BTCUSDT")
    done_snap = await venue.fetch_order("done", "BTCUSDT")
    assert open_snap is not None and open_snap.status is OrderStatus.ACCEPTED and open_snap.filled_quantity == 0
    assert done_snap is not None and done_snap.status is OrderStatus.FILLED
    assert done_snap.average_fill_price == quotes[0].ask_price
    assert await venue.fetch_order("never", "BTCUSDT") is None
    assert await venue.fetch_order("open", "ETHUSDT") is None
    assert [s.client_order_id for s in await venue.open_orders("BTCUSDT")] == ["open"]


async def test_paper_venue_when_fills_then_positions_and_balances_follow_them() -> None:
    venue, _, _ = make_venue(starting_balance=D("1000"))
    assert await venue.positions() == []
    assert await venue.balances() == [BalanceSnapshot("USDT", D("1000"), D("1000"))]
    venue.on_quote(quote("100.0", "100.1", ask_size="5.000"))
    await venue.submit(make_order("b", Side.BUY, "2.000"))  # taker 200.2, fee 0.1001
    venue.on_quote(quote("101.0", "101.1", bid_size="5.000"))
    await venue.submit(make_order("s", Side.SELL, "0.500"))  # taker 50.5, fee 0.02525, pnl +0.45
    assert await venue.positions() == [PositionSnapshot("BTCUSDT", D("1.500"), D("100.1"))]
    expected = D("1000") + D("0.45") - D("0.1001") - D("0.02525")
    assert await venue.balances() == [BalanceSnapshot("USDT", expected, expected)]
    await venue.submit(make_order("s2", Side.SELL, "1.500"))
    assert await venue.positions() == []


async def test_paper_venue_when_same_calls_then_same_ids_and_fills() -> None:
    async def run() -> list[str]:
        venue, sink, _ = make_venue(seed=3)
        venue.on_quote(quote("100.0", "100.1", ask_size="0.300"))
        report = await venue.submit(make_order("a", Side.BUY, "0.500", "100.1"))
        venue.on_quote(quote("99.9", "100.0", ask_size="0.300"))
        return [report.venue_order_id] + [str(f.to_record()) for f in sink.fills]

    first = await run()
    assert first == await run()
    assert first[0] == "paper-o1"
    assert "paper-f2" in first[-1]


async def test_paper_venue_when_orders_finish_between_reads_then_open_orders_lists_only_working_in_arrival_order(
    quotes: list[Quote],
) -> None:
    venue, _, _ = make_venue()
    venue.on_quote(quotes[0])
    await venue.submit(make_order("r1", Side.BUY, "0.010", "61000.00"))
    await venue.submit(make_order("ioc", Side.BUY, "0.010", tif=TimeInForce.IOC))  # fills at once
    await venue.submit(make_order("r2", Side.BUY, "0.010", "60000.00"))
    assert [s.client_order_id for s in await venue.open_orders()] == ["r1", "r2"]
    await venue.cancel("r1", "BTCUSDT")
    await venue.submit(make_order("r3", Side.BUY, "0.010", "59000.00"))
    assert [s.client_order_id for s in await venue.open_orders()] == ["r2", "r3"]
    assert [s.client_order_id for s in await venue.open_orders("BTCUSDT")] == ["r2", "r3"]
    assert [r.client_order_id for r in await venue.cancel_all()] == ["r2", "r3"]
    assert await venue.open_orders() == []
