"""Fill rules of the paper venue (docs/architecture.md §5) on real BTCUSDT USD-M quotes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from livegate.domain.enums import Liquidity, OrderStatus, Side, TimeInForce
from livegate.domain.market import Quote, Trade
from tests.venues.paper_helpers import make_order, make_venue, quote

D = Decimal


def trade(price: str, size: str, aggressor: Side, trade_id: str = "t1") -> Trade:
    return Trade("BTCUSDT", D(price), D(size), aggressor, trade_id, 0)


async def test_paper_venue_when_marketable_gtc_buy_exceeds_displayed_ask_then_fills_ask_size_and_rests(
    quotes: list[Quote],
) -> None:
    venue, sink, _ = make_venue()
    q = quotes[0]  # 61800.20 x 2.507 / 61800.30 x 2.510
    venue.on_quote(q)
    report = await venue.submit(make_order("b1", Side.BUY, "3.000", "61800.30"))
    assert [(f.price, f.quantity, f.liquidity) for f in sink.fills] == [(q.ask_price, q.ask_size, Liquidity.TAKER)]
    assert report.status is OrderStatus.PARTIALLY_FILLED
    assert report.filled_quantity == q.ask_size
    (snap,) = await venue.open_orders()
    assert snap.price == D("61800.30")
    assert snap.quantity - snap.filled_quantity == D("3.000") - q.ask_size


async def test_paper_venue_when_marketable_ioc_buy_exceeds_displayed_ask_then_remainder_cancelled(
    quotes: list[Quote],
) -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quotes[0])
    report = await venue.submit(make_order("b1", Side.BUY, "3.000", "61800.30", tif=TimeInForce.IOC))
    assert report.status is OrderStatus.CANCELLED
    assert report.filled_quantity == quotes[0].ask_size
    assert sum(f.quantity for f in sink.fills) == quotes[0].ask_size
    assert await venue.open_orders() == []


async def test_paper_venue_when_displayed_size_consumed_then_next_order_waits_for_new_quote(
    quotes: list[Quote],
) -> None:
    venue, _sink, _ = make_venue()
    q = quotes[0]
    venue.on_quote(q)
    await venue.submit(make_order("b1", Side.BUY, "2.000", "61800.30", tif=TimeInForce.IOC))
    report = await venue.submit(make_order("b2", Side.BUY, "1.000", "61800.30", tif=TimeInForce.IOC))
    assert report.filled_quantity == q.ask_size - D("2.000")
    venue.on_quote(q)  # a new quote restores the displayed size
    report = await venue.submit(make_order("b3", Side.BUY, "1.000", "61800.30", tif=TimeInForce.IOC))
    assert report.status is OrderStatus.FILLED


async def test_paper_venue_when_gtc_market_order_exceeds_size_then_keeps_taking_on_later_quotes(
    quotes: list[Quote],
) -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quote("100.0", "100.1", ask_size="0.400"))
    report = await venue.submit(make_order("m1", Side.BUY, "1.000"))
    assert report.status is OrderStatus.PARTIALLY_FILLED
    venue.on_quote(quote("100.1", "100.2", ask_size="0.500"))
    venue.on_quote(quote("100.2", "100.3", ask_size="0.500"))
    assert [(f.price, f.quantity) for f in sink.fills] == [
        (D("100.1"), D("0.400")),
        (D("100.2"), D("0.500")),
        (D("100.3"), D("0.100")),
    ]
    assert all(f.liquidity is Liquidity.TAKER for f in sink.fills)
    assert await venue.open_orders() == []


async def test_paper_venue_when_slippage_then_taker_price_moves_against_taker_rounded_to_tick() -> None:
    venue, sink, _ = make_venue(slippage_bps=D("1"))
    venue.on_quote(quote("61800.20", "61800.30"))
    await venue.submit(make_order("b1", Side.BUY, "0.010"))
    await venue.submit(make_order("s1", Side.SELL, "0.010"))
    # 61800.30 * 1.0001 = 61806.48003 -> up to 61806.50; 61800.20 * 0.9999 = 61794.01998 -> down to 61794.00
    assert [f.price for f in sink.fills] == [D("61806.50"), D("61794.00")]


async def test_paper_venue_when_slippage_exceeds_limit_then_fill_capped_at_limit() -> None:
    venue, sink, _ = make_venue(slippage_bps=D("10"))
    venue.on_quote(quote("61800.20", "61800.30"))
    await venue.submit(make_order("b1", Side.BUY, "0.010", "61801.00"))
    await venue.submit(make_order("s1", Side.SELL, "0.010", "61799.50"))
    assert [f.price for f in sink.fills] == [D("61801.00"), D("61799.50")]


async def test_paper_venue_when_later_quote_crosses_resting_buy_then_maker_fill_at_limit() -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quote("61800.20", "61800.30"))
    await venue.submit(make_order("b1", Side.BUY, "0.500", "61800.00"))
    assert sink.fills == []
    venue.on_quote(quote("61799.80", "61799.90", ask_size="0.200"))
    venue.on_quote(quote("61799.80", "61799.90", ask_size="0.200"))
    fills = sink.fills
    assert [(f.price, f.quantity, f.liquidity) for f in fills] == [(D("61800.00"), D("0.200"), Liquidity.MAKER)] * 2
    assert all(f.price >= D("61799.90") for f in fills)  # never better than the book


async def test_paper_venue_when_later_quote_crosses_resting_sell_then_maker_fill_at_limit() -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quote("61800.20", "61800.30"))
    await venue.submit(make_order("s1", Side.SELL, "0.100", "61800.50"))
    venue.on_quote(quote("61800.40", "61800.50"))
    assert sink.fills == []
    venue.on_quote(quote("61800.60", "61800.70"))
    assert [(f.price, f.quantity) for f in sink.fills] == [(D("61800.50"), D("0.100"))]


async def test_paper_venue_when_resting_orders_share_a_crossing_quote_then_price_time_priority() -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quote("100.0", "100.5"))
    await venue.submit(make_order("low", Side.BUY, "0.300", "100.1"))
    await venue.submit(make_order("high", Side.BUY, "0.300", "100.2"))
    await venue.submit(make_order("high2", Side.BUY, "0.300", "100.2"))
    venue.on_quote(quote("99.9", "100.0", ask_size="0.500"))
    assert [(f.client_order_id, f.quantity) for f in sink.fills] == [("high", D("0.300")), ("high2", D("0.200"))]


async def test_paper_venue_when_trade_prints_through_resting_buy_then_fills_up_to_trade_size_at_limit() -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quote("61800.20", "61800.30"))
    await venue.submit(make_order("b1", Side.BUY, "0.500", "61800.00"))
    venue.on_trade(trade("61800.00", "1.000", Side.BUY))  # at our price, buy aggressor: cannot hit a buy
    venue.on_trade(trade("61801.00", "1.000", Side.SELL))  # above our price: not through
    assert sink.fills == []
    venue.on_trade(trade("61799.90", "0.150", Side.BUY))
    assert [(f.price, f.quantity, f.liquidity) for f in sink.fills] == [(D("61800.00"), D("0.150"), Liquidity.MAKER)]


async def test_paper_venue_when_trade_prints_through_resting_sell_then_fills_at_limit_not_trade_price() -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quote("61800.20", "61800.30"))
    await venue.submit(make_order("s1", Side.SELL, "0.100", "61801.00"))
    venue.on_trade(trade("61805.00", "5.000", Side.BUY))
    assert [(f.price, f.quantity) for f in sink.fills] == [(D("61801.00"), D("0.100"))]
    assert (await venue.fetch_order("s1", "BTCUSDT")).status is OrderStatus.FILLED  # type: ignore[union-attr]


@pytest.mark.parametrize("probability", ["0", "1"])
async def test_paper_venue_when_touch_probability_is_certain_then_touch_fill_follows_it(probability: str) -> None:
    venue, sink, _ = make_venue(touch_fill_probability=D(probability))
    venue.on_quote(quote("61800.20", "61800.30"))
    await venue.submit(make_order("b1", Side.BUY, "0.100", "61800.00"))
    venue.on_trade(trade("61800.00", "1.000", Side.SELL))
    assert len(sink.fills) == int(probability)


async def _touch_pattern(seed: int) -> list[str]:
    venue, sink, _ = make_venue(seed=seed, touch_fill_probability=D("0.5"))
    venue.on_quote(quote("61800.20", "61800.30"))
    for i in range(40):
        await venue.submit(make_order(f"b{i}", Side.BUY, "0.001", "61800.00"))
    venue.on_trade(trade("61800.00", "0.040", Side.SELL))  # one draw per resting order
    return [f"{f.fill_id}:{f.client_order_id}" for f in sink.fills]


async def test_paper_venue_when_same_seed_then_same_touch_fills() -> None:
    first = await _touch_pattern(7)
    assert first == await _touch_pattern(7)
    assert 0 < len(first) < 40


async def test_paper_venue_when_different_seeds_then_touch_fills_can_differ() -> None:
    patterns = {tuple(await _touch_pattern(seed)) for seed in range(4)}
    assert len(patterns) > 1


async def test_paper_venue_when_taker_and_maker_fills_then_fees_exact_in_quote_currency() -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quote("61800.20", "61800.30"))
    await venue.submit(make_order("t", Side.BUY, "0.010", "61800.30"))
    await venue.submit(make_order("m", Side.SELL, "0.010", "61801.00"))
    venue.on_quote(quote("61801.00", "61801.10"))
    taker, maker = sink.fills
    assert taker.fee == D("618.003") * D("5") / D("10000") == D("0.3090015")
    assert maker.fee == D("618.010") * D("2") / D("10000") == D("0.1236020")
    assert (taker.liquidity, maker.liquidity) == (Liquidity.TAKER, Liquidity.MAKER)


async def test_paper_venue_when_fill_mode_none_then_accepts_and_never_fills() -> None:
    venue, sink, _ = make_venue(fill_mode="none")
    venue.on_quote(quote("100.0", "100.1"))
    gtc = await venue.submit(make_order("b1", Side.BUY, "0.100", "101.0"))
    ioc = await venue.submit(make_order("b2", Side.BUY, "0.100", "101.0", tif=TimeInForce.IOC))
    venue.on_quote(quote("90.0", "90.1"))
    venue.on_trade(trade("80.0", "9.000", Side.SELL))
    assert (gtc.status, ioc.status) == (OrderStatus.ACCEPTED, OrderStatus.CANCELLED)
    assert sink.fills == []


async def test_paper_venue_when_fill_mode_mid_then_taker_fills_at_mid_and_limits_rest() -> None:
    venue, sink, _ = make_venue(fill_mode="mid")
    venue.on_quote(quote("61800.20", "61800.30", ask_size="0.050"))
    await venue.submit(make_order("b1", Side.BUY, "0.100", "61800.30"))
    assert [(f.price, f.quantity) for f in sink.fills] == [(D("61800.25"), D("0.050"))]
    venue.on_quote(quote("61800.00", "61800.10"))
    assert sink.fills[-1].price == D("61800.30")
    assert sink.fills[-1].liquidity is Liquidity.MAKER


async def test_paper_venue_when_fill_mode_always_then_every_order_fills_fully_at_once() -> None:
    venue, sink, _ = make_venue(fill_mode="always")
    venue.on_quote(quote("100.0", "100.1", bid_size="0.001", ask_size="0.001"))
    reports = [
        await venue.submit(make_order("far", Side.BUY, "5.000", "90.0")),
        await venue.submit(make_order("mkt", Side.SELL, "5.000")),
    ]
    assert [r.status for r in reports] == [OrderStatus.FILLED, OrderStatus.FILLED]
    assert [(f.price, f.quantity, f.liquidity) for f in sink.fills] == [
        (D("90.0"), D("5.000"), Liquidity.MAKER),
        (D("100.0"), D("5.000"), Liquidity.TAKER),
    ]


async def test_paper_venue_when_fill_mode_marketable_then_non_marketable_limit_rests_unfilled() -> None:
    venue, sink, _ = make_venue(fill_mode="marketable")
    venue.on_quote(quote("100.0", "100.1"))
    report = await venue.submit(make_order("b1", Side.BUY, "0.100", "99.0"))
    assert report.status is OrderStatus.ACCEPTED
    assert sink.fills == []


async def test_paper_venue_when_immediate_fill_then_pushed_before_submit_returns() -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quote("100.0", "100.1"))
    seen: list[int] = []
    original = sink.__call__

    def spy(report: object) -> None:
        seen.append(len(sink.reports))
        original(report)  # type: ignore[arg-type]

    venue.bind(spy)
    await venue.submit(make_order("b1", Side.BUY, "0.100"))
    assert seen == [0]
    assert sink.fills[0].fill_id == "paper-f1"
