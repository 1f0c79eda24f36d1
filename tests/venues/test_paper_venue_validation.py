"""Instrument filters, duplicate ids and wiring errors of the paper venue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Side
from livegate.domain.errors import InvariantViolation, Rejected
from livegate.domain.market import Quote
from livegate.domain.orders import Order
from livegate.venues.base import SimulatedVenue, VenueAdapter
from livegate.venues.paper import PaperParams, PaperVenue
from tests.venues.paper_helpers import BTCUSDT, make_order, make_venue, quote


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (make_order("x", Side.BUY, "0.010", "61800.25"), "TICK_SIZE"),
        (make_order("x", Side.BUY, "0.0105", "61800.00"), "LOT_SIZE"),
        (make_order("x", Side.BUY, "0.0001", "61800.00"), "LOT_SIZE"),
        (make_order("x", Side.BUY, "0", "61800.00"), "INVALID_QUANTITY"),
        (make_order("x", Side.BUY, "0.001", "4000.00"), "MIN_NOTIONAL"),  # 4.00 USDT < 5
        (make_order("x", Side.BUY, "0.001", "0"), "INVALID_PRICE"),
        (make_order("x", Side.BUY, "0.010", "61800.00", symbol="ETHUSDT"), "UNKNOWN_SYMBOL"),
        (make_order("x", Side.BUY, "0.010", "61800.30", post_only=True), "POST_ONLY_WOULD_CROSS"),
        (make_order("x", Side.SELL, "0.010", "61800.20", post_only=True), "POST_ONLY_WOULD_CROSS"),
        (make_order("x", Side.SELL, "0.010", post_only=True), "INVALID_ORDER"),
    ],
)
async def test_paper_venue_when_order_breaks_a_rule_then_rejected_with_code(
    order: Order, code: str, quotes: list[Quote]
) -> None:
    venue, sink, _ = make_venue()
    venue.on_quote(quotes[0])
    with pytest.raises(Rejected) as info:
        await venue.submit(order)
    assert info.value.code == code
    assert sink.reports == []
    assert await venue.fetch_order("x", order.symbol) is None


async def test_paper_venue_when_post_only_does_not_cross_then_rests(quotes: list[Quote]) -> None:
    venue, _sink, _ = make_venue()
    venue.on_quote(quotes[0])
    await venue.submit(make_order("p", Side.BUY, "0.010", "61800.20", post_only=True))
    assert len(await venue.open_orders()) == 1


async def test_paper_venue_when_market_notional_below_min_at_far_side_then_rejected() -> None:
    venue, _, _ = make_venue()
    venue.on_quote(quote("4000.0", "4999.9"))
    with pytest.raises(Rejected) as info:
        await venue.submit(make_order("m", Side.BUY, "0.001"))
    assert info.value.code == "MIN_NOTIONAL"


async def test_paper_venue_when_market_order_without_quote_then_rejected_no_market() -> None:
    venue, _, _ = make_venue()
    with pytest.raises(Rejected) as info:
        await venue.submit(make_order("m", Side.BUY, "0.010"))
    assert info.value.code == "NO_MARKET"


async def test_paper_venue_when_quote_crossed_then_market_order_rejected_no_market() -> None:
    venue, _, _ = make_venue()
    venue.on_quote(quote("100.2", "100.1"))
    with pytest.raises(Rejected) as info:
        await venue.submit(make_order("m", Side.BUY, "0.100"))
    assert info.value.code == "NO_MARKET"


async def test_paper_venue_when_client_order_id_reused_then_rejected_duplicate(quotes: list[Quote]) -> None:
    venue, _, _ = make_venue()
    venue.on_quote(quotes[0])
    await venue.submit(make_order("dup", Side.BUY, "0.010", "61000.00"))
    await venue.cancel("dup", "BTCUSDT")
    with pytest.raises(Rejected) as info:
        await venue.submit(make_order("dup", Side.BUY, "0.010", "61000.00"))
    assert info.value.code == "DUPLICATE_CLIENT_ORDER_ID"


async def test_paper_venue_when_no_sink_bound_then_submit_raises_invariant_violation() -> None:
    venue = PaperVenue({"BTCUSDT": BTCUSDT}, PaperParams(), ReplayClock())
    with pytest.raises(InvariantViolation):
        await venue.submit(make_order("b", Side.BUY, "0.010", "61000.00"))


def test_paper_venue_when_built_then_implements_adapter_protocols() -> None:
    venue = PaperVenue({"BTCUSDT": BTCUSDT}, PaperParams(), ReplayClock())
    assert isinstance(venue, VenueAdapter)
    assert isinstance(venue, SimulatedVenue)
    caps = venue.capabilities
    assert (caps.simulated, caps.native_cancel_all, caps.positions, caps.fetch_by_client_order_id) == (True,) * 4
    assert venue.instruments() == {"BTCUSDT": BTCUSDT}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fill_mode": "sometimes"},
        {"slippage_bps": Decimal(-1)},
        {"touch_fill_probability": Decimal("1.5")},
        {"taker_fee_bps": Decimal("NaN")},
    ],
)
def test_paper_params_when_out_of_range_then_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PaperParams(**kwargs)  # type: ignore[arg-type]
