"""The emulator's websockets: market streams replay the capture; the private stream and its faults."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from tests.venue_emulator import API_KEY, API_SECRET, Emulator
from tests.venue_emulator.client import call


@asynccontextmanager
async def private_stream(emu: Emulator) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """Subscribe to the spot user data stream as ccxt.pro does (``userDataStream.subscribe.signature``)."""
    params: dict[str, Any] = {"apiKey": API_KEY, "recvWindow": 10000, "timestamp": int(time.time() * 1000)}
    text = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    params["signature"] = hmac.new(API_SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    async with aiohttp.ClientSession() as session, session.ws_connect(emu.ws_url + "/ws-api/v3") as ws:
        await ws.send_str(json.dumps({"id": "1", "method": "userDataStream.subscribe.signature", "params": params}))
        ack = json.loads((await ws.receive(timeout=2)).data)
        assert ack["result"] == {"subscriptionId": 0}
        yield ws


async def events(ws: aiohttp.ClientWebSocketResponse, n: int) -> list[dict[str, Any]]:
    """Return the next ``n`` private events (unwrapped)."""
    return [json.loads((await ws.receive(timeout=2)).data)["event"] for _ in range(n)]


async def market_order(emu: Emulator, cid: str) -> None:
    await call(
        emu,
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="MARKET",
        quantity="0.001",
        newClientOrderId=cid,
    )


async def test_emulator_when_subscribed_to_book_ticker_then_step_sends_captured_quotes(spot_emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(spot_emulator.ws_url + "/ws/0") as ws:
        await ws.send_str(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 1}))
        assert json.loads((await ws.receive(timeout=2)).data) == {"result": None, "id": 1}
        sent = 0
        while sent == 0:
            spot_emulator.step(1)
            sent = sum(1 for e in spot_emulator.events[: spot_emulator.cursor] if e.is_quote)
        quote = json.loads((await ws.receive(timeout=2)).data)
        first = next(e for e in spot_emulator.events if e.is_quote)
        assert (quote["s"], quote["b"], quote["a"]) == ("BTCUSDT", first.data["b"], first.data["a"])


async def test_emulator_private_stream_when_market_order_fills_then_new_and_trade_reports(
    spot_emulator: Emulator,
) -> None:
    spot_emulator.step(3)
    async with private_stream(spot_emulator) as ws:
        await market_order(spot_emulator, "lg-s1")
        new, trade = await events(ws, 2)
    assert (new["x"], new["X"], new["c"]) == ("NEW", "NEW", "lg-s1")
    assert (trade["x"], trade["X"], trade["N"]) == ("TRADE", "FILLED", "BTC")


async def test_emulator_private_stream_when_events_lost_duplicated_reordered_then_sent_so(
    spot_emulator: Emulator,
) -> None:
    spot_emulator.step(3)
    async with private_stream(spot_emulator) as ws:
        spot_emulator.lose_private(1)
        await market_order(spot_emulator, "lg-lost")  # NEW lost, TRADE sent
        assert [e["x"] for e in await events(ws, 1)] == ["TRADE"]
        spot_emulator.duplicate_private(1)
        await market_order(spot_emulator, "lg-dup")
        assert [e["x"] for e in await events(ws, 3)] == ["NEW", "NEW", "TRADE"]
        spot_emulator.reorder_private(1)
        await market_order(spot_emulator, "lg-late")
        assert [e["x"] for e in await events(ws, 2)] == ["TRADE", "NEW"]


async def test_emulator_when_private_stream_dropped_then_client_sees_close(spot_emulator: Emulator) -> None:
    async with private_stream(spot_emulator) as ws:
        assert await spot_emulator.drop_private_stream() == 1
        msg = await ws.receive(timeout=2)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    await asyncio.sleep(0)
    assert not spot_emulator.streams.private_connected()


async def test_emulator_usdm_when_listen_key_stream_then_order_trade_update(usdm_emulator: Emulator) -> None:
    usdm_emulator.step(3)
    key = (await call(usdm_emulator, "POST", "/fapi/v1/listenKey", signed=False)).body["listenKey"]
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{usdm_emulator.ws_url}/private/ws?listenKey={key}") as ws,
    ):
        await asyncio.sleep(0.05)
        await call(
            usdm_emulator,
            "POST",
            "/fapi/v1/order",
            symbol="BTCUSDT",
            side="SELL",
            type="MARKET",
            quantity="0.002",
            newClientOrderId="lg-u1",
        )
        updates = [json.loads((await ws.receive(timeout=2)).data) for _ in range(2)]
    assert [(u["e"], u["o"]["x"], u["o"]["c"]) for u in updates] == [
        ("ORDER_TRADE_UPDATE", "NEW", "lg-u1"),
        ("ORDER_TRADE_UPDATE", "TRADE", "lg-u1"),
    ]
