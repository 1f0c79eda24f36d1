"""A loopback Alpaca: REST (``/v2/...``), the trade-updates stream and the market-data streams.

Bodies are the recorded ones in ``tests/data/ccxt_fixtures`` where a recording exists
(account, crypto asset list, the DOGE/USD ``trade_updates`` session, BTC/USD quote and
trade); orders are stateful copies of the recorded order body with our client order id,
quantity and price substituted. Nothing of livegate is imported: this is the venue.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack
from aiohttp import WSMsgType, web

API_KEY = "PKTEST0LOOPBACK0KEY"
API_SECRET = "loopback-secret-never-logged"


def load_recordings(data_dir: Path) -> dict[str, Any]:
    """Return the recorded Alpaca bodies and frames this server replays."""
    fixtures = data_dir / "ccxt_fixtures"
    ws = json.loads((fixtures / "ws" / "alpaca.json").read_text())
    rest = json.loads((fixtures / "response" / "alpaca.json").read_text())
    session = ws["methods"]["watchMyTrades"][0]
    methods = rest["methods"]
    return {
        "assets": session["httpResponse"],
        "stream_messages": session["messages"],
        "account": methods["fetchBalance"][0]["httpResponse"],
        "ticker": methods["fetchTicker"][0]["httpResponse"],
        "trades": methods["fetchTrades"][0]["httpResponse"],
    }


def _now_iso() -> str:
    return datetime.now(tz=UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Failure:
    """A one-shot answer for the next matching request."""

    status: int
    body: str
    content_type: str = "application/json"


@dataclass
class AlpacaLoopback:
    """State and failure injection of the loopback venue."""

    recordings: dict[str, Any]
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # by order id
    recorded_ids: dict[str, str] = field(default_factory=dict)  # client order id -> order id
    positions: list[dict[str, Any]] = field(default_factory=list)
    submit_requests: int = 0
    next_submit_failure: Failure | None = None
    next_submit_hang: tuple[float, bool] | None = None  # (seconds, venue keeps the order)
    url: str = ""
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _trade_ws: list[web.WebSocketResponse] = field(default_factory=list)
    _listening: asyncio.Event = field(default_factory=asyncio.Event)
    data_requests: list[dict[str, Any]] = field(default_factory=list)

    # ------------------------------------------------------------ arrange
    def template_order(self) -> dict[str, Any]:
        """Return the recorded DOGE/USD order body (from the ``pending_new`` frame)."""
        first = next(m for m in self.recordings["stream_messages"] if m.get("stream") == "trade_updates")
        return copy.deepcopy(first["data"]["order"])

    def seed_order(
        self, client_order_id: str, symbol: str, side: str, qty: str, limit_price: str | None, order_id: str
    ) -> dict[str, Any]:
        """Put a working (``new``) order on the venue, as if submitted earlier."""
        body = self.template_order()
        stamp = "2026-09-18T13:24:50.034105424Z"
        body.update(
            id=order_id,
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            qty=qty,
            filled_qty="0",
            filled_avg_price=None,
            order_type="limit" if limit_price else "market",
            type="limit" if limit_price else "market",
            limit_price=limit_price,
            status="new",
            updated_at=stamp,
            position_intent="sell_to_close" if side == "sell" else "buy_to_open",
        )
        self.orders[order_id] = body
        self.recorded_ids[client_order_id] = order_id
        return body

    def forget(self, client_order_id: str) -> None:
        """Remove an order so that the venue has never seen it (its recorded id is kept)."""
        order_id = self.recorded_ids.get(client_order_id)
        if order_id is not None:
            self.orders.pop(order_id, None)

    def fail_next_submit(self, status: int, body: object) -> None:
        """Answer the next ``POST /v2/orders`` with ``status`` and ``body`` (JSON, or text if str)."""
        if isinstance(body, str):
            self.next_submit_failure = Failure(status, body, "text/plain")
        else:
            self.next_submit_failure = Failure(status, json.dumps(body))

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v2/account", self._account)
        app.router.add_get("/v2/clock", self._clock)
        app.router.add_get("/v2/assets", self._assets)
        app.router.add_get("/v2/assets/{symbol}", self._asset)
        app.router.add_post("/v2/orders", self._submit)
        app.router.add_get("/v2/orders", self._list_orders)
        app.router.add_delete("/v2/orders", self._cancel_all)
        app.router.add_get("/v2/orders:by_client_order_id", self._by_client_id)
        app.router.add_get("/v2/orders/{order_id}", self._get_order)
        app.router.add_delete("/v2/orders/{order_id}", self._cancel)
        app.router.add_get("/v2/positions", self._positions)
        app.router.add_get("/stream", self._trade_stream)
        app.router.add_get("/v1beta3/crypto/us", self._data_stream)
        app.router.add_get("/v2/iex", self._data_stream)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    async def close(self) -> None:
        self._closing.set()
        for ws in list(self._trade_ws):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _authorized(request: web.Request) -> bool:
        return (
            request.headers.get("APCA-API-KEY-ID") == API_KEY
            and request.headers.get("APCA-API-SECRET-KEY") == API_SECRET
        )

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"code": code, "message": message}, status=status)

    def _unauthorized(self) -> web.Response:
        return self._error(401, 40110000, "request is not authorized")

    # ------------------------------------------------------------ REST
    async def _account(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        return web.json_response(self.recordings["account"])

    async def _clock(self, request: web.Request) -> web.StreamResponse:
        rest = json.loads(json.dumps(self.recordings.get("clock", {"timestamp": _now_iso(), "is_open": True})))
        return web.json_response(rest)

    async def _assets(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        if request.query.get("asset_class") not in (None, "crypto"):
            return web.json_response([])
        return web.json_response(self.recordings["assets"])

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        symbol = request.match_info["symbol"]
        for asset in self.recordings["assets"]:
            if asset["symbol"] == symbol:
                return web.json_response(asset)
        return self._error(404, 40410000, "asset not found")

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        self.submit_requests += 1
        if not self._authorized(request):
            return self._unauthorized()
        failure, self.next_submit_failure = self.next_submit_failure, None
        if failure is not None:
            return web.Response(status=failure.status, text=failure.body, content_type=failure.content_type)
        payload = await request.json()
        cid = payload["client_order_id"]
        existing = self.recorded_ids.get(cid)
        if existing in self.orders and self.orders[existing].get("_posted"):
            return self._error(422, 40010001, "client_order_id must be unique")
        hang, self.next_submit_hang = self.next_submit_hang, None
        body = self._accept(payload, keep=hang is None or hang[1])
        if hang is not None:
            try:
                await asyncio.wait_for(self._closing.wait(), hang[0])
            except TimeoutError:
                pass
        answer = {k: v for k, v in body.items() if not k.startswith("_")}
        answer["status"] = "pending_new"
        return web.json_response(answer)

    def _accept(self, payload: dict[str, Any], *, keep: bool) -> dict[str, Any]:
        cid = payload["client_order_id"]
        order_id = self.recorded_ids.get(cid) or str(uuid.uuid4())
        body = self.orders.get(order_id) or self.seed_order(
            cid, payload["symbol"], payload["side"], payload["qty"], payload.get("limit_price"), order_id
        )
        body.update(
            symbol=payload["symbol"],
            side=payload["side"],
            qty=payload["qty"],
            type=payload["type"],
            order_type=payload["type"],
            time_in_force=payload["time_in_force"],
            limit_price=payload.get("limit_price"),
            _posted=True,
        )
        if not keep:
            self.orders.pop(order_id, None)
        return body

    def _public(self, body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if not k.startswith("_")}

    async def _list_orders(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        symbols = set(filter(None, request.query.get("symbols", "").split(",")))
        working = ("new", "accepted", "pending_new", "partially_filled", "pending_cancel")
        rows = [
            self._public(o)
            for o in self.orders.values()
            if o["status"] in working and (not symbols or o["symbol"] in symbols)
        ]
        if request.query.get("direction") != "asc":
            rows.reverse()
        return web.json_response(rows)

    async def _by_client_id(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        cid = request.query.get("client_order_id", "")
        order_id = self.recorded_ids.get(cid)
        if order_id is None or order_id not in self.orders:
            return self._error(404, 40410000, f"order not found for {cid}")
        return web.json_response(self._public(self.orders[order_id]))

    async def _get_order(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        body = self.orders.get(request.match_info["order_id"])
        if body is None:
            return self._error(404, 40410000, "order not found")
        return web.json_response(self._public(body))

    def _do_cancel(self, body: dict[str, Any]) -> None:
        body.update(status="canceled", canceled_at=_now_iso(), updated_at=_now_iso())

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        body = self.orders.get(request.match_info["order_id"])
        if body is None:
            return self._error(404, 40410000, "order not found")
        if body["status"] not in ("new", "accepted", "pending_new", "partially_filled"):
            return self._error(422, 42210000, f'order is already in "{body["status"]}" state')
        self._do_cancel(body)
        return web.Response(status=204)

    async def _cancel_all(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        rows = []
        for order_id, body in self.orders.items():
            if body["status"] in ("new", "accepted", "pending_new", "partially_filled"):
                body["status"] = "pending_cancel"
                rows.append({"id": order_id, "status": 200, "body": self._public(body)})
                self._do_cancel(body)
        return web.json_response(rows, status=207)

    async def _positions(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        return web.json_response(self.positions)

    # ------------------------------------------------------------ trade-updates stream (JSON)
    async def _trade_stream(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._trade_ws.append(ws)
        recorded = self.recordings["stream_messages"]
        auth_reply = next(m for m in recorded if m.get("stream") == "authorization")
        listen_reply = next(m for m in recorded if m.get("stream") == "listening")
        async for msg in ws:
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            frame = json.loads(msg.data)
            action = frame.get("action")
            if action in ("authenticate", "auth"):
                data = frame.get("data", frame)
                ok = data.get("key_id", data.get("key")) == API_KEY
                reply = auth_reply if ok else {"stream": "authorization", "data": {"status": "unauthorized"}}
                await ws.send_str(json.dumps(reply))
            elif action == "listen":
                await ws.send_str(json.dumps(listen_reply))
                self._listening.set()
        self._trade_ws.remove(ws)
        return ws

    async def replay_trade_updates(self) -> None:
        """Send the recorded ``trade_updates`` frames to every listening client."""
        await asyncio.wait_for(self._listening.wait(), 5.0)
        frames = [m for m in self.recordings["stream_messages"] if m.get("stream") == "trade_updates"]
        for ws in list(self._trade_ws):
            for frame in frames:
                await ws.send_str(json.dumps(frame))

    # ------------------------------------------------------------ market-data stream (msgpack)
    async def _data_stream(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_bytes(msgpack.packb([{"T": "success", "msg": "connected"}]))
        async for msg in ws:
            if msg.type is not WSMsgType.BINARY:
                break
            frame = msgpack.unpackb(msg.data)
            self.data_requests.append(frame)
            if frame.get("action") == "auth":
                if frame.get("key") != API_KEY:
                    await ws.send_bytes(msgpack.packb([{"T": "error", "code": 402, "msg": "auth failed"}]))
                    continue
                await ws.send_bytes(msgpack.packb([{"T": "success", "msg": "authenticated"}]))
            elif frame.get("action") == "subscribe":
                ack = {"T": "subscription", "trades": frame.get("trades", []), "quotes": frame.get("quotes", [])}
                await ws.send_bytes(msgpack.packb([ack]))
                await ws.send_bytes(msgpack.packb(self.market_frames(frame.get("quotes", [])), datetime=False))
        return ws

    def market_frames(self, symbols: list[str]) -> list[dict[str, Any]]:
        """Return the recorded BTC/USD latest quote and trade as stream frames (``T`` = q, t)."""
        frames: list[dict[str, Any]] = []
        for symbol in symbols:
            snap = self.recordings["ticker"]["snapshots"].get(symbol)
            trades = self.recordings["trades"]["trades"].get(symbol, [])
            if snap is not None:
                q = snap["latestQuote"]
                frames.append(
                    {
                        "T": "q",
                        "S": symbol,
                        "bp": q["bp"],
                        "bs": q["bs"],
                        "ap": q["ap"],
                        "as": q["as"],
                        "t": _ts(q["t"]),
                    }
                )
            for t in trades:
                frames.append(
                    {"T": "t", "S": symbol, "i": t["i"], "p": t["p"], "s": t["s"], "tks": t["tks"], "t": _ts(t["t"])}
                )
        return frames


def _ts(text: str) -> msgpack.Timestamp:
    """Return an RFC 3339 nanosecond time as the msgpack timestamp Alpaca's stream sends."""
    head, _, frac = text.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
    return msgpack.Timestamp(seconds, int((frac + "000000000")[:9]))
