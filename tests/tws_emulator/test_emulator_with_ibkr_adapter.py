"""The TWS emulator through livegate's IBKR adapter and unmodified ib_async (in-process)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from livegate.domain.enums import OrderStatus, Side
from livegate.domain.errors import Fatal, Rejected, Retryable
from livegate.domain.market import Quote, Trade
from livegate.domain.orders import Fill, FillCorrection
from livegate.venues.base import StreamInterrupted
from livegate.venues.ibkr import IbkrAdapter
from livegate.venues.ibkr.factory import PACING_INTERVAL_SECS
from tests.contract.base import CollectingSink, make_order
from tests.tws_emulator import TwsEmulator, synthetic_ticks
from tests.tws_emulator.corrections import correct_execution

SYMBOL = "AAPL"


@pytest.fixture
async def tws() -> AsyncIterator[TwsEmulator]:
    emulator = TwsEmulator(ticks=synthetic_ticks(SYMBOL, 200), pace_ms=5)
    emulator.min_ticks[SYMBOL] = "0.005"
    emulator.size_increments[SYMBOL] = "0.0001"
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.close()


def _adapter(tws: TwsEmulator, client_id: int = 3, **kwargs: object) -> IbkrAdapter:
    return IbkrAdapter(
        "127.0.0.1",
        tws.port,
        client_id,
        symbols=[SYMBOL],
        connect_timeout_secs=2.0,
        submit_ack_timeout_secs=0.5,
        request_timeout_secs=1.0,
        pacing_interval_secs=PACING_INTERVAL_SECS,
        reconnect_initial_secs=0.05,
        reconnect_max_secs=0.2,
        commission_wait_secs=0.5,
        **kwargs,  # type: ignore[arg-type]
    )


async def _until(check: Any, about: object, timeout_secs: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_secs
    while not check():
        assert asyncio.get_running_loop().time() < deadline, about
        await asyncio.sleep(0.02)


async def _events(adapter: IbkrAdapter, count: int) -> list[object]:
    out: list[object] = []
    async for event in adapter.stream_market_data([SYMBOL]):
        out.append(event)
        if len(out) >= count:
            break
    return out


async def test_ibkr_adapter_when_connected_then_instruments_come_from_contract_details(tws: TwsEmulator) -> None:
    adapter = _adapter(tws)
    await adapter.connect()
    try:
        instrument = adapter.instruments()[SYMBOL]
        assert instrument.tick_size == Decimal("0.005")
        assert instrument.lot_size == Decimal("0.0001")
        assert instrument.min_quantity == Decimal("0.0001")
    finally:
        await adapter.close()


@pytest.mark.parametrize("entitled", [True, False])
async def test_ibkr_market_data_when_tick_by_tick_entitled_or_not_then_quotes_and_trades_stream(
    tws: TwsEmulator, entitled: bool
) -> None:
    tws.tick_by_tick_entitled = entitled
    adapter = _adapter(tws)
    await adapter.connect()
    try:
        events = await asyncio.wait_for(_events(adapter, 30), 10)
        assert adapter.market_data_kinds == {SYMBOL: "tick_by_tick" if entitled else "top_of_book"}
    finally:
        await adapter.close()
    quotes = [e for e in events if isinstance(e, Quote)]
    trades = [e for e in events if isinstance(e, Trade)]
    assert quotes and trades
    assert all(q.ask_price - q.bid_price == Decimal("0.01") for q in quotes)
    assert len({t.trade_id for t in trades}) == len(trades)


async def test_ibkr_market_data_when_not_entitled_at_all_then_stream_raises_fatal(tws: TwsEmulator) -> None:
    tws.tick_by_tick_entitled = False
    tws.market_data_entitled = False
    adapter = _adapter(tws)
    await adapter.connect()
    try:
        with pytest.raises(Fatal) as raised:
            await asyncio.wait_for(_events(adapter, 5), 10)
        assert raised.value.code == "354"
    finally:
        await adapter.close()


async def test_ibkr_market_data_when_tws_drops_then_marker_then_quotes_again(tws: TwsEmulator) -> None:
    adapter = _adapter(tws)
    await adapter.connect()
    seen: list[object] = []

    async def consume() -> None:
        async for event in adapter.stream_market_data([SYMBOL]):
            seen.append(event)
            if len(seen) == 10:
                tws.drop_clients()
            if any(isinstance(e, StreamInterrupted) for e in seen) and isinstance(event, Quote):
                return

    try:
        await asyncio.wait_for(consume(), 10)
    finally:
        await adapter.close()
    marker = next(i for i, e in enumerate(seen) if isinstance(e, StreamInterrupted))
    assert isinstance(seen[-1], Quote) and marker < len(seen) - 1


async def test_ibkr_adapter_when_order_filled_in_earlier_session_then_lookup_and_fills_find_it(
    tws: TwsEmulator,
) -> None:
    order = make_order(SYMBOL, Side.BUY, Decimal("3"), Decimal("500"), venue="ibkr:paper")
    first = _adapter(tws)
    sink = CollectingSink()
    first.bind(sink)
    await first.connect()
    try:
        await first.submit(order)
        await asyncio.sleep(0.8)
    finally:
        await first.close()
    assert [f.order_ref for f in tws.fills] == [order.client_order_id]
    second = _adapter(tws)
    await second.connect()
    try:
        snapshot = await second.fetch_order(order.client_order_id, SYMBOL)
        fills = await second.recent_fills()
    finally:
        await second.close()
    assert snapshot is not None
    assert snapshot.status is OrderStatus.FILLED
    assert snapshot.filled_quantity == Decimal(3)
    assert [(f.client_order_id, f.quantity, f.fee) for f in fills] == [
        (order.client_order_id, Decimal(3), Decimal("1"))
    ]


async def test_ibkr_fills_when_tws_corrects_an_execution_while_dropped_then_correction_reported_never_a_fill(
    tws: TwsEmulator,
) -> None:
    adapter = _adapter(tws)
    sink = CollectingSink()
    adapter.bind(sink)
    await adapter.connect()
    order = make_order(SYMBOL, Side.BUY, Decimal("3"), Decimal("500"), venue="ibkr:paper")
    try:
        await adapter.submit(order)
        await _until(lambda: any(isinstance(r, Fill) for r in sink.reports), sink.reports)
        original = tws.fills[0]
        tws.drop_clients()
        corrected = correct_execution(tws, original.exec_id, shares=Decimal(2))  # nobody hears it
        await _until(lambda: any(isinstance(r, FillCorrection) for r in sink.reports), sink.reports)  # reconnected
        imported = await adapter.recent_fills()
    finally:
        await adapter.close()
    fills = [r for r in sink.reports if isinstance(r, Fill)]
    assert [f.fill_id for f in fills] == [original.exec_id]
    (correction,) = [r for r in sink.reports if isinstance(r, FillCorrection)]
    assert (correction.corrects_fill_id, correction.fill.fill_id) == (original.exec_id, corrected.exec_id)
    assert correction.fill.quantity == Decimal(2) and correction.original == fills[0]
    assert [f.fill_id for f in imported] == [original.exec_id]  # reconciliation never imports a correction
    assert tws.position(SYMBOL) == Decimal(2)


async def test_ibkr_submit_when_tws_rejects_order_then_rejected_with_tws_code(tws: TwsEmulator) -> None:
    tws.next_submit_error = (201, "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED.", True)
    adapter = _adapter(tws)
    await adapter.connect()
    try:
        with pytest.raises(Rejected) as raised:
            await adapter.submit(make_order(SYMBOL, Side.BUY, Decimal("1"), Decimal("100"), venue="ibkr:paper"))
    finally:
        await adapter.close()
    assert raised.value.code == "201"
    assert tws.open_orders() == []


async def test_ibkr_fills_when_tws_fills_in_two_parts_then_two_fills_summing_to_the_order(tws: TwsEmulator) -> None:
    tws.partial_fill_next = True
    adapter = _adapter(tws)
    sink = CollectingSink()
    adapter.bind(sink)
    await adapter.connect()
    order = make_order(SYMBOL, Side.BUY, Decimal("4"), Decimal("500"), venue="ibkr:paper")
    try:
        await adapter.submit(order)
        deadline = asyncio.get_running_loop().time() + 5
        while len([r for r in sink.reports if isinstance(r, Fill)]) < 2:
            assert asyncio.get_running_loop().time() < deadline, sink.reports
            await asyncio.sleep(0.02)
    finally:
        await adapter.close()
    fills = [r for r in sink.reports if isinstance(r, Fill)]
    assert [f.quantity for f in fills] == [Decimal(2), Decimal(2)]
    assert {f.fill_id for f in fills} == {e.exec_id for e in tws.fills}


async def test_ibkr_pacing_when_orders_sent_back_to_back_then_at_least_100_ms_apart_and_no_violation(
    tws: TwsEmulator,
) -> None:
    tws.enforce_pacing = True
    adapter = _adapter(tws)
    await adapter.connect()
    try:
        orders = [
            make_order(SYMBOL, Side.BUY, Decimal("1"), Decimal("100"), seq=i, venue="ibkr:paper") for i in range(4)
        ]
        await asyncio.gather(*(adapter.submit(o) for o in orders))
        await adapter.cancel_all()
    finally:
        await adapter.close()
    assert tws.pacing_violations == 0
    gap = tws.min_gap_ms()
    assert gap is not None and gap >= 100


async def test_ibkr_submit_when_tws_answers_pacing_violation_then_retryable_and_nothing_placed(
    tws: TwsEmulator,
) -> None:
    tws.enforce_pacing = True
    tws.min_order_gap_ms = 10_000  # every second order message breaks the venue's rule
    adapter = _adapter(tws)
    await adapter.connect()
    try:
        await adapter.submit(make_order(SYMBOL, Side.BUY, Decimal("1"), Decimal("100"), venue="ibkr:paper"))
        with pytest.raises(Retryable) as raised:
            await adapter.submit(make_order(SYMBOL, Side.BUY, Decimal("1"), Decimal("100"), seq=1, venue="ibkr:paper"))
    finally:
        await adapter.close()
    assert raised.value.code == "100"
    assert len(tws.open_orders()) == 1


async def test_ibkr_reconnect_when_an_attempt_fails_unexpectedly_then_logged_retried_and_quotes_again(
    tws: TwsEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """An error outside the expected connect errors used to end the reconnect task: no more quotes, no log."""
    adapter = _adapter(tws)
    await adapter.connect()
    ib = adapter._tws.ib
    connect = ib.connectAsync
    failed: list[str] = []

    async def connect_failing_once(*args: Any, **kwargs: Any) -> Any:
        if not failed:
            failed.append("once")
            raise ValueError("garbled handshake (test)")
        return await connect(*args, **kwargs)

    seen: list[object] = []

    async def consume() -> None:
        async for event in adapter.stream_market_data([SYMBOL]):
            seen.append(event)
            if len(seen) == 10:
                ib.connectAsync = connect_failing_once  # type: ignore[method-assign]
                tws.drop_clients()
            if failed and isinstance(event, Quote):
                return

    try:
        with caplog.at_level(logging.ERROR, logger="livegate"):
            await asyncio.wait_for(consume(), 10)
    finally:
        await adapter.close()
    assert failed == ["once"]
    logged = [r.getMessage() for r in caplog.records if "ibkr reconnect failed" in r.getMessage()]
    assert logged == ["ibkr reconnect failed: ValueError('garbled handshake (test)'); next try in 0.05s"]
    marker = next(i for i, e in enumerate(seen) if isinstance(e, StreamInterrupted))
    assert isinstance(seen[-1], Quote) and marker < len(seen) - 1


async def test_ibkr_cancel_all_when_client_0_sees_an_order_typed_into_tws_then_left_unless_everything(
    tws: TwsEmulator,
) -> None:
    # with client id 0 this client also hears of orders typed into TWS: its orderRef tells them apart
    adapter = _adapter(tws, client_id=0)
    by_hand = tws.place_outside_order(SYMBOL, "BUY", "1", "90.00", client_id=0)
    await adapter.connect()
    try:
        ours = make_order(SYMBOL, Side.BUY, Decimal("1"), Decimal("95"), seq=1, venue="ibkr:paper")
        await adapter.submit(ours)
        assert {o.client_order_id for o in await adapter.open_orders()} == {ours.client_order_id, ""}
        reports = await adapter.cancel_all()  # a halt's: livegate's orders only
        assert [r.client_order_id for r in reports] == [ours.client_order_id]
        assert by_hand.status not in ("Cancelled", "ApiCancelled")
        await adapter.cancel_all(everything=True)  # livegate cancel-all --venue: reqGlobalCancel
        assert by_hand.status == "Cancelled"
    finally:
        await adapter.close()
