"""The emulator's websockets: ``trade_updates`` (JSON) and the stock data stream (msgpack).

``/stream`` speaks Alpaca's trading stream: ``authenticate`` (or ``auth``), ``listen``,
then ``trade_updates`` events (``new``, ``fill``, ``partial_fill``, ``canceled``,
``rejected``). ``/v2/iex`` and ``/v2/sip`` speak the stock data stream: ``connected``,
``auth``, ``subscribe``, then ``q`` quotes and ``t`` trades. The faults of the
``trade_updates`` stream (events lost, events replayed after a fill) are applied here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import msgpack
from aiohttp import WSMsgType, web

from tests.alpaca_emulator.faults import AlpacaFaults
from tests.alpaca_emulator.wire import API_KEY, API_SECRET, iso

__all__ = ["MarketDataHub", "TradeUpdatesHub"]


@dataclass
class TradeUpdatesHub:
    """The ``trade_updates`` websockets of the account and what was sent on them."""

    faults: AlpacaFaults
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    replayed_frames: int = 0
    _sent_frames: dict[str, list[str]] = field(default_factory=dict)

    async def push(self, event: str, order: dict[str, Any], **extra: str) -> None:
        """Send one ``trade_updates`` event about ``order`` (unless lost; replayed after a fill when armed)."""
        if self.faults.take_lost():
            return
        frame = {"stream": "trade_updates",
                 "data": {"event": event, "timestamp": iso(time.time()), "order": dict(order), **extra}}  # fmt: skip
        text = json.dumps(frame)
        await self._send(text)
        faults = self.faults
        if faults.replay_orders <= 0 or event not in ("new", "partial_fill", "fill"):
            return
        self._sent_frames.setdefault(order["id"], []).append(text)
        if event == "fill":
            faults.replay_orders -= 1
            frames = self._sent_frames.pop(order["id"])
            for _ in range(faults.replay_times):
                for replayed in frames:
                    self.replayed_frames += 1
                    await self._send(replayed)

    async def _send(self, text: str) -> None:
        for ws in list(self.sockets):
            if not ws.closed:
                try:
                    await ws.send_str(text)
                except ConnectionError:
                    self.sockets.remove(ws)

    async def handler(self, request: web.Request) -> web.StreamResponse:
        """Serve one ``/stream`` connection: authenticate, listen, then events until it closes."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                frame = json.loads(msg.data)
                action = frame.get("action")
                if action in ("authenticate", "auth"):
                    data = frame.get("data", {})
                    ok = data.get("key_id") == API_KEY and data.get("secret_key") == API_SECRET
                    status = "authorized" if ok else "unauthorized"
                    reply = {"stream": "authorization", "data": {"status": status, "action": "authenticate"}}
                    await ws.send_str(json.dumps(reply))
                elif action == "listen":
                    self.sockets.append(ws)
                    await ws.send_str(json.dumps({"stream": "listening", "data": {"streams": ["trade_updates"]}}))
        finally:
            if ws in self.sockets:
                self.sockets.remove(ws)
        return ws


@dataclass
class MarketDataHub:
    """The stock data websockets and the symbols each subscribed to."""

    sockets: dict[web.WebSocketResponse, set[str]] = field(default_factory=dict)

    async def broadcast(self, symbol: str, frame: dict[str, Any]) -> None:
        """Send one quote or trade frame of ``symbol`` to every subscriber of it."""
        payload = msgpack.packb([frame], datetime=False)
        for ws, wanted in list(self.sockets.items()):
            if symbol in wanted and not ws.closed:
                try:
                    await ws.send_bytes(payload)
                except ConnectionError:
                    self.sockets.pop(ws, None)

    async def handler(self, request: web.Request) -> web.StreamResponse:
        """Serve one data-stream connection: connected, auth, subscribe, then quotes and trades."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_bytes(msgpack.packb([{"T": "success", "msg": "connected"}]))
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.BINARY:
                    break
                frame = msgpack.unpackb(msg.data)
                if frame.get("action") == "auth":
                    if frame.get("key") != API_KEY or frame.get("secret") != API_SECRET:
                        await ws.send_bytes(msgpack.packb([{"T": "error", "code": 402, "msg": "auth failed"}]))
                        continue
                    await ws.send_bytes(msgpack.packb([{"T": "success", "msg": "authenticated"}]))
                elif frame.get("action") == "subscribe":
                    wanted = set(frame.get("quotes", [])) | set(frame.get("trades", []))
                    ack = {"T": "subscription", "trades": frame.get("trades", []), "quotes": frame.get("quotes", [])}
                    await ws.send_bytes(msgpack.packb([ack]))
                    self.sockets[ws] = self.sockets.get(ws, set()) | wanted
        finally:
            self.sockets.pop(ws, None)
        return ws


async def close_all(trade: TradeUpdatesHub, data: MarketDataHub) -> None:
    """Close every ``trade_updates`` and market-data websocket (clients reconnect)."""
    for ws in [*trade.sockets, *data.sockets]:
        await ws.close()
