"""A dropped private stream: the session is told to reconcile and the gap's fills are imported (§3k).

Real ccxt.pro against the loopback websocket: the recorded Binance spot order lifecycle
(``ws/binance.json`` watchOrders: NEW, then TRADE/FILLED with trade id) is sent, then the
server drops the connection. The adapter must put a ``StreamInterrupted`` marker into its
market-data stream and fetch ``GET /api/v3/myTrades`` from the last reported trade id + 1,
reporting the trade made while it was down.
"""

from __future__ import annotations

import asyncio
import copy
from decimal import Decimal

import pytest

from livegate.domain.orders import Fill
from livegate.venues.base import StreamInterrupted
from tests.contract.base import CollectingSink
from tests.contract.ccxt_harness import BINANCE_CREDS, case, fixture, make_adapter, servers
from tests.contract.loopback import Reply

pytestmark = pytest.mark.asyncio


async def test_private_stream_when_dropped_then_reconcile_asked_and_fills_since_last_trade_id_imported() -> None:
    lifecycle = case(
        fixture("ws", "binance"), "watchOrders", "spot market order lifecycle from open to closed after fill"
    )
    trade_id = str(lifecycle["messages"][2]["event"]["t"])
    missed = copy.deepcopy(case(fixture("response", "binance"), "fetchMyTrades", "Spot private trade")["httpResponse"])
    missed[0].update(symbol="BTCUSDT", id=str(int(trade_id) + 1), price="63817.60", qty="0.00020000",
                     time=str(lifecycle["messages"][2]["event"]["T"] + 5_000))  # fmt: skip
    async with servers() as lb:
        lb.ws.script("/ws-api/v3", lifecycle["messages"], hold=False, close_after=True)
        lb.http.route("GET", "/api/v3/myTrades", Reply(missed))
        adapter = make_adapter(lb, "binance", "binance", BINANCE_CREDS, 2)
        sink = CollectingSink()
        adapter.bind(sink)
        stream = adapter.stream_market_data(["BTC/USDT"])
        first_marker = asyncio.ensure_future(_private_marker(stream))
        await asyncio.sleep(0)  # the market-data stream is open before the private one drops
        await adapter.connect()
        try:
            marker = await asyncio.wait_for(first_marker, 10)
            async with asyncio.timeout(10):
                while not any(isinstance(r, Fill) and r.fill_id == missed[0]["id"] for r in sink.reports):
                    await asyncio.sleep(0.01)
        finally:
            await stream.aclose()
            await adapter.close()
    assert marker.reason.startswith("private stream reconnect")
    stream_fill = next(r for r in sink.reports if isinstance(r, Fill) and r.fill_id == trade_id)
    gap_fill = next(r for r in sink.reports if isinstance(r, Fill) and r.fill_id == missed[0]["id"])
    assert gap_fill.quantity == Decimal("0.0002") and gap_fill.symbol == "BTC/USDT"
    assert stream_fill.ts_ms < gap_fill.ts_ms
    asked = lb.http.seen("GET", "/api/v3/myTrades")
    assert asked and asked[0].query.get("fromId") == str(int(trade_id) + 1)
    assert sum(1 for r in sink.reports if isinstance(r, Fill) and r.fill_id == missed[0]["id"]) == 1


async def _private_marker(stream: object) -> StreamInterrupted:
    async for event in stream:  # type: ignore[attr-defined]
        if isinstance(event, StreamInterrupted) and event.reason.startswith("private stream"):
            return event
    raise AssertionError("stream ended without a private-stream marker")
