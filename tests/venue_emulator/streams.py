"""Websocket side of the emulated venue: market streams and the private order/fill stream.

Market streams (``/ws/<n>``, USD-M ``/public/ws/<n>`` and ``/market/ws/<n>``) take
Binance's ``{"method": "SUBSCRIBE", "params": [...], "id": n}`` and send raw stream
payloads. The private stream is the spot WebSocket API (``/ws-api/v3``,
``userDataStream.subscribe.signature``; events wrapped as ``{"subscriptionId", "event"}``)
or, for USD-M, the listen-key stream (``/private/ws?listenKey=`` or ``/ws/<listenKey>``).
Private-stream faults (lost, duplicated, reordered events) apply where events are sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

from tests.venue_emulator.faults import PrivateStreamFaults

__all__ = ["Streams"]


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    private: bool
    streams: set[str] = field(default_factory=set)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)


@dataclass
class Streams:
    """Every websocket connection of one emulator and what it is subscribed to."""

    api_key: str
    secret: str
    faults: PrivateStreamFaults
    listen_keys: set[str] = field(default_factory=set)
    revoked: Callable[[], bool] = lambda: False
    conns: list[_Conn] = field(default_factory=list)
    private_sent: list[dict[str, Any]] = field(default_factory=list)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    _held: list[dict[str, Any]] = field(default_factory=list)

    # ------------------------------------------------------------------ publishing
    def publish(self, stream: str, payload: dict[str, Any]) -> None:
        """Send a market payload to every connection subscribed to ``stream`` (e.g. ``btcusdt@trade``)."""
        text = json.dumps(payload)
        for conn in self.conns:
            if not conn.private and stream in conn.streams:
                conn.queue.put_nowait(text)

    def publish_private(self, event: dict[str, Any]) -> None:
        """Send one private event to the private subscribers, applying the private-stream faults."""
        f = self.faults
        if f.lose > 0:
            f.lose -= 1
            return
        if f.reorder > 0 and not self._held:
            f.reorder -= 1
            self._held.append(event)
            return
        out = [event, *self._held]
        self._held.clear()
        if f.duplicate > 0:
            f.duplicate -= 1
            out.insert(1, event)
        for item in out:
            self.private_sent.append(item)
            for conn in self.conns:
                if conn.private:
                    wrapped = {"subscriptionId": 0, "event": item} if "ws-api" in conn.streams else item
                    conn.queue.put_nowait(json.dumps(wrapped))

    def private_connected(self) -> bool:
        """Return True while a private stream is subscribed."""
        return any(c.private for c in self.conns)

    async def drop(self, *, private: bool) -> int:
        """Close every private (or every market) connection, as a network fault; return how many."""
        victims = [c for c in self.conns if c.private is private]
        for conn in victims:
            conn.queue.put_nowait(None)
            await conn.ws.close(code=1006 if private else 1001, message=b"emulator drops the stream")
        return len(victims)

    # ------------------------------------------------------------------ handler
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one websocket connection until either side closes it."""
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        path = request.path
        key = request.query.get("listenKey") or path.rstrip("/").rsplit("/", 1)[-1]
        conn = _Conn(ws, private=False)
        if path.startswith("/ws-api/"):
            conn.streams.add("ws-api")
        elif key in self.listen_keys:
            conn.private = True
        self.conns.append(conn)
        writer = asyncio.create_task(self._write(conn))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                answer = self._answer(conn, json.loads(msg.data))
                if answer is not None:
                    conn.queue.put_nowait(json.dumps(answer))
        finally:
            conn.queue.put_nowait(None)
            self.conns.remove(conn)
            await asyncio.gather(writer, return_exceptions=True)
        return ws

    async def _write(self, conn: _Conn) -> None:
        while (text := await conn.queue.get()) is not None:
            if conn.ws.closed:
                return
            await conn.ws.send_str(text)

    def _answer(self, conn: _Conn, msg: dict[str, Any]) -> dict[str, Any] | None:
        method = msg.get("method")
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            names = {str(p) for p in msg.get("params") or []}
            conn.streams = conn.streams | names if method == "SUBSCRIBE" else conn.streams - names
            self.subscribed.set()
            return {"result": None, "id": msg.get("id")}
        if method == "userDataStream.subscribe.signature":
            return self._subscribe_signature(conn, msg)
        if "ws-api" in conn.streams:
            return {"id": msg.get("id"), "status": 200, "result": {}}
        return None

    def _subscribe_signature(self, conn: _Conn, msg: dict[str, Any]) -> dict[str, Any]:
        params = dict(msg.get("params") or {})
        signature = str(params.pop("signature", ""))
        payload = urlencode(sorted(params.items()))
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if self.revoked() or params.get("apiKey") != self.api_key:
            return _ws_error(msg, 401, -2015, "Invalid API-key, IP, or permissions for action.")
        if not hmac.compare_digest(expected, signature):
            return _ws_error(msg, 400, -1022, "Signature for this request is not valid.")
        conn.private = True
        return {
            "id": msg.get("id"),
            "status": 200,
            "result": {"subscriptionId": 0},
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000, "count": 2}
            ],
        }


def _ws_error(msg: dict[str, Any], status: int, code: int, text: str) -> dict[str, Any]:
    return {"id": msg.get("id"), "status": status, "error": {"code": code, "msg": text}}
