"""Property tests: random order streams on real BTCUSDT USD-M quotes never break the fill arithmetic."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from livegate.domain.enums import OrderType, Side, TimeInForce
from livegate.domain.errors import Rejected
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, Order
from livegate.domain.positions import Position
from tests.venues.paper_helpers import BTCUSDT, Recorder, make_order, make_venue

D = Decimal
TICK = BTCUSDT.tick_size
LOT = BTCUSDT.lot_size

quote_step = st.tuples(st.just("quote"), st.integers(1, 8))
trade_step = st.tuples(
    st.just("trade"), st.integers(-6, 6), st.integers(1, 3000), st.sampled_from([Side.BUY, Side.SELL])
)
submit_step = st.tuples(
    st.just("submit"),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.sampled_from([OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET]),
    st.integers(-6, 6),  # limit price in ticks from the near side (positive = more aggressive)
    st.integers(1, 4000),  # quantity in lots
    st.sampled_from([TimeInForce.GTC, TimeInForce.IOC]),
    st.sampled_from([False, False, False, True]),  # post-only
)
cancel_step = st.tuples(st.just("cancel"), st.integers(0, 50))
steps = st.lists(st.one_of(quote_step, trade_step, submit_step, submit_step, cancel_step), min_size=5, max_size=60)
params = st.fixed_dictionaries(
    {
        "fill_mode": st.sampled_from(["marketable", "marketable", "mid", "always", "none"]),
        "slippage_bps": st.sampled_from([D(0), D("0.5"), D(3)]),
        "touch_fill_probability": st.sampled_from([D(0), D("0.5"), D(1)]),
        "seed": st.integers(0, 2**16),
    }
)


async def _run(
    quotes: list[Quote], plan: list[tuple[object, ...]], kwargs: dict[str, object]
) -> tuple[Recorder, dict[str, Order], Quote, list[Decimal]]:
    venue, sink, clock = make_venue(**kwargs)
    orders: dict[str, Order] = {}
    index = 0
    venue.on_quote(quotes[0])
    for n, step in enumerate(plan):
        q = quotes[index]
        kind = step[0]
        if kind == "quote":
            index = min(index + int(step[1]), len(quotes) - 1)  # type: ignore[call-overload]
            clock.advance_to(quotes[index].ts_event_ms)
            venue.on_quote(quotes[index])
        elif kind == "trade":
            _, ticks, lots, aggressor = step
            price = q.mid_price.quantize(TICK) + TICK * ticks  # type: ignore[operator]
            venue.on_trade(Trade("BTCUSDT", price, LOT * lots, aggressor, f"t{n}", q.ts_event_ms))  # type: ignore[arg-type, operator]
        elif kind == "submit":
            _, side, order_type, ticks, lots, tif, post_only = step
            near = q.bid_price if side is Side.BUY else q.ask_price
            price = None if order_type is OrderType.MARKET else str(near + TICK * ticks * side.sign)  # type: ignore[attr-defined, operator]
            order = make_order(f"o{n}", side, str(LOT * lots), price, tif=tif, post_only=bool(post_only))  # type: ignore[arg-type, operator]
            try:
                await venue.submit(order)
            except Rejected:
                continue
            orders[order.client_order_id] = order
        elif orders:
            cid = list(orders)[int(step[1]) % len(orders)]  # type: ignore[call-overload]
            try:
                await venue.cancel(cid, "BTCUSDT")
            except Rejected:
                pass
    positions = [p.quantity for p in await venue.positions()]
    filled = [(await venue.fetch_order(cid, "BTCUSDT")).filled_quantity for cid in orders]  # type: ignore[union-attr]
    assert filled == [sum((f.quantity for f in sink.fills if f.client_order_id == cid), D(0)) for cid in orders]
    return sink, orders, quotes[index], positions


def _check(fills: list[Fill], orders: dict[str, Order], mark_quote: Quote, positions: list[Decimal]) -> None:
    # (a) never overfilled
    for cid, order in orders.items():
        assert sum((f.quantity for f in fills if f.client_order_id == cid), D(0)) <= order.quantity
    # (b) the venue position is the signed sum of fills
    net = sum((f.quantity * f.side.sign for f in fills), D(0))
    assert positions == ([] if net == 0 else [net])
    # (c) realized + unrealized from a rebuilt Position equals cash-flow PnL
    position = Position("BTCUSDT")
    for f in fills:
        position.apply_fill(f)
    mark = mark_quote.mid_price
    cash_flow = sum((-f.price * f.quantity * f.side.sign for f in fills), D(0)) + net * mark
    # Position.average_price is a Decimal division (28 significant digits), so the identity
    # holds to context precision, not bit-exactly: e.g. 0.002 @ 61800.20 + 0.001 @ 61800.30
    # has an average of 61800.2333... The bound is ~10^5 times the worst rounding seen.
    assert abs(position.realized_pnl + position.unrealized_pnl(mark) - cash_flow) <= D("1e-18")
    # (d) buys never above the limit, sells never below; every price and quantity on the grid
    for f in fills:
        limit = orders[f.client_order_id].price
        if limit is not None:
            assert f.price <= limit if f.side is Side.BUY else f.price >= limit
        assert BTCUSDT.quantity_on_lot(f.quantity) and f.quantity > 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps, kwargs=params)
def test_paper_venue_when_random_order_stream_then_fill_arithmetic_holds(
    quotes: list[Quote], plan: list[tuple[object, ...]], kwargs: dict[str, object]
) -> None:
    sink, orders, mark_quote, positions = asyncio.run(_run(quotes, plan, kwargs))
    _check(sink.fills, orders, mark_quote, positions)
    event(f"fills>0: {bool(sink.fills)}, mode: {kwargs['fill_mode']}")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps, kwargs=params)
def test_paper_venue_when_stream_replayed_with_same_seed_then_identical_fills(
    quotes: list[Quote], plan: list[tuple[object, ...]], kwargs: dict[str, object]
) -> None:
    first = asyncio.run(_run(quotes, plan, kwargs))[0].fills
    second = asyncio.run(_run(quotes, plan, kwargs))[0].fills
    assert first == second
