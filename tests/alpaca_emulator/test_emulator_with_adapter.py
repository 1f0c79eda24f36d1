"""The emulator speaks Alpaca as alpaca-py and livegate's adapter use it (in-process, loopback)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.market import Quote
from livegate.domain.orders import Order, OrderIntent
from livegate.venues.alpaca import AlpacaAdapter
from tests.alpaca_emulator import API_KEY, API_SECRET, AlpacaEmulator

#: A client order id of livegate's form (lg<session>-<tag>-<seq>): a halt's cancel-all cancels it.
LIVEGATE_CID = "lg0123456789-abcd-2"


def adapter_for(emu: AlpacaEmulator) -> AlpacaAdapter:
    return AlpacaAdapter(
        API_KEY,
        API_SECRET,
        symbols=["SPY"],
        url_override=emu.url,
        stream_url_override=f"{emu.ws_url}/stream",
        stock_data_url_override=f"{emu.ws_url}/v2/iex",
        request_timeout_secs=2,
    )


def order(cid: str, qty: str = "2", price: str | None = None) -> Order:
    intent = OrderIntent("SPY", Side.BUY, Decimal(qty), OrderType.LIMIT if price else OrderType.MARKET,
                         Decimal(price) if price else None, TimeInForce.GTC, False, False, "t", 0, 0)  # fmt: skip
    return Order(cid, intent, "alpaca:paper")


@pytest.mark.asyncio
async def test_emulator_when_adapter_trades_then_quotes_fills_positions_and_cancels_agree(shared_data: Path) -> None:
    emu = AlpacaEmulator(shared_data, pace_ms=2)
    await emu.start()
    adapter = adapter_for(emu)
    reports: list[object] = []
    adapter.bind(reports.append)
    try:
        await adapter.connect()
        assert adapter.instruments()["SPY"].lot_size == 1
        hours = adapter.market_hours()
        assert hours is not None and hours.is_open(hours.read_ms)
        stream = adapter.stream_market_data(["SPY"])
        first = await asyncio.wait_for(anext(stream), 5)
        while not isinstance(first, Quote):
            first = await asyncio.wait_for(anext(stream), 5)
        assert 100 < first.bid_price < first.ask_price < 200  # SPY on 2013-10-08
        await adapter.submit(order("c-1"))  # market: fills at the ask
        resting = await adapter.submit(order(LIVEGATE_CID, price="100.00"))  # far below: rests
        assert resting.status in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED)
        positions = await adapter.positions()
        assert [(p.symbol, p.quantity) for p in positions] == [("SPY", Decimal(2))]
        assert [o.client_order_id for o in await adapter.open_orders()] == [LIVEGATE_CID]
        fills = await adapter.recent_fills()
        assert [(f.client_order_id, f.quantity) for f in fills] == [("c-1", Decimal(2))]
        assert fills[0].fill_id == emu.executions[0].execution_id
        await adapter.cancel_all()
        assert emu.open_orders() == []
        await stream.aclose()
    finally:
        await adapter.close()
        await emu.stop()
