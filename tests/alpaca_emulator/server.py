"""An Alpaca venue on 127.0.0.1 that unmodified alpaca-py talks to (trading REST, trade_updates, market data).

Nothing of livegate is imported: this is the venue. Endpoints (Alpaca Trading API v2 and
Market Data API v2, as alpaca-py 0.44 calls them):

* REST: ``GET /v2/account``, ``GET /v2/clock``, ``GET /v2/assets/{symbol}``,
  ``POST /v2/orders`` (``client_order_id`` unique for the account's life, 422 ``40010001``),
  ``GET /v2/orders`` (``status=open``), ``GET /v2/orders:by_client_order_id``,
  ``GET|DELETE /v2/orders/{id}``, ``DELETE /v2/orders`` (207 per order),
  ``GET /v2/positions``, ``GET /v2/account/activities/FILL``. Keys in the
  ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY`` headers, else 401.
* ``/stream``: the ``trade_updates`` websocket (JSON: authenticate, listen; events
  ``new``, ``fill``, ``partial_fill``, ``canceled``, ``rejected``).
* ``/v2/iex``, ``/v2/sip``: the stock data websocket (msgpack: connected, auth,
  subscribe; ``q`` quotes and ``t`` trades), replaying real quotes and trades
  (:mod:`tests.alpaca_emulator.data`) stamped with the emulator's current time, one
  event every ``pace_ms``. Resting limit orders fill when a quote crosses them; market
  orders fill at once at the far side of the current quote.

Faults: :meth:`hang_next_submit` (the order is accepted, the answer comes after the
client's timeout), :meth:`fail_next_submit` (a refusal, nothing placed),
``partial_fills`` (each fill split in two executions), :meth:`drop_streams` (every
websocket closed), :meth:`lose_trade_updates` (the next N events never sent),
:meth:`replay_trade_updates` (a filled order's ``new`` and fill events sent again after
its ``fill``), ``market_open`` (the clock's ``is_open``).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgpack
from aiohttp import WSMsgType, web

from tests.alpaca_emulator.data import MarketRow, load_rows

API_KEY = "PKEMULATOR0ALPACA0KEY"
API_SECRET = "emulator-secret-never-logged"
_WORKING = ("new", "accepted", "pending_new", "partially_filled")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass
class Execution:
    """One fill the venue made (the emulator's own record, checked by tests)."""

    execution_id: str
    order_id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    ts: float


@dataclass
class AlpacaEmulator:
    """State, matching and faults of the emulated venue.

    Parameters
    ----------
    data_root:
        ``../shared/data`` (real quotes and trades to replay).
    symbols:
        Symbols with recorded data to stream (``SPY``, ``AAPL``).
    pace_ms:
        Wall time between two replayed events.
    cash:
        Starting cash in USD.
    """

    data_root: Path
    symbols: tuple[str, ...] = ("SPY",)
    pace_ms: int = 20
    cash: Decimal = Decimal(100_000)
    multiplier: str = "1"
    daytrade_count: int = 0
    status: str = "ACTIVE"
    market_open: bool = True
    partial_fills: bool = False
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_client_id: dict[str, str] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    positions: dict[str, Decimal] = field(default_factory=dict)
    cost: dict[str, Decimal] = field(default_factory=dict)
    submits: list[str] = field(default_factory=list)  # client order ids of every POST /v2/orders, in order
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every HTTP request
    url: str = ""
    _rows: dict[str, list[MarketRow]] = field(default_factory=dict)
    _cursor: int = 0
    _quotes: dict[str, MarketRow] = field(default_factory=dict)
    _trade_ws: list[web.WebSocketResponse] = field(default_factory=list)
    _data_ws: dict[web.WebSocketResponse, set[str]] = field(default_factory=dict)
    _hang: float | None = None
    _fail: tuple[int, dict[str, Any]] | None = None
    _lose: int = 0
    _replay_orders: int = 0
    _replay_times: int = 0
    _sent_frames: dict[str, list[str]] = field(default_factory=dict)
    replayed_frames: int = 0
    _runner: web.AppRunner | None = None
    _task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ faults
    def hang_next_submit(self, secs: float) -> None:
        """Accept the next order, then answer only after ``secs`` (past the client's timeout)."""
        self._hang = secs

    def fail_next_submit(self, status: int, code: int, message: str) -> None:
        """Refuse the next order with ``status`` and an Alpaca error body; nothing is placed."""
        self._fail = (status, {"code": code, "message": message})

    def lose_trade_updates(self, count: int) -> None:
        """Never send the next ``count`` trade_updates events (fills stay visible over REST)."""
        self._lose = count

    def replay_trade_updates(self, orders: int, times: int) -> None:
        """Send the ``new`` and fill events of each of the next ``orders`` filled orders ``times`` more times.

        Each replay follows the order's ``fill`` event and repeats the very frames sent
        before (same ``execution_id``s), as Alpaca's ``trade_updates`` did in production:
        ``pending_new``, ``new``, ``fill``, then ``new``, ``fill``, ``new``, ``fill`` again
        with identical execution ids (QuantConnect/Lean.Brokerages.Alpaca pull request 61,
        "Alpaca replayed the same new and fill trade updates ... after the first terminal
        event"; pull request 44: "duplicate messages with a similar ExecutionId"). A
        replayed ``new`` arrives after the order's ``fill``: the stream goes back in time.
        """
        self._replay_orders, self._replay_times = orders, times

    async def drop_streams(self) -> None:
        """Close every trade_updates and market-data websocket (clients reconnect)."""
        for ws in [*self._trade_ws, *self._data_ws]:
            await ws.close()

    async def fill_order(self, client_order_id: str) -> None:
        """Fill a resting order at its limit price now, as the market would (venue truth moving)."""
        order = self.orders[self.by_client_id[client_order_id]]
        await self._fill(order, Decimal(order["limit_price"]))

    # ------------------------------------------------------------------ facts for tests
    def open_orders(self) -> list[dict[str, Any]]:
        """Return the venue's working orders."""
        return [o for o in self.orders.values() if o["status"] in _WORKING]

    def duplicate_client_order_ids(self) -> list[str]:
        """Return client order ids the venue placed more than one order for (always empty: it refuses reuse)."""
        seen = [o["client_order_id"] for o in self.orders.values()]
        return sorted({cid for cid in seen if seen.count(cid) > 1})

    def position(self, symbol: str) -> Decimal:
        """Return the signed position in ``symbol`` (shares)."""
        return self.positions.get(symbol, Decimal(0))

    def place_external_order(self, symbol: str, side: str, qty: str, limit_price: str, client_order_id: str) -> str:
        """Put a resting limit order on the account as if sent earlier (e.g. by a crashed session)."""
        return self._accept(
            {
                "symbol": symbol,
                "side": side,
                "qty": qty,
                "type": "limit",
                "limit_price": limit_price,
                "time_in_force": "gtc",
                "client_order_id": client_order_id,
            }
        )["id"]

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Load the data, bind a free loopback port and start replaying."""
        self._rows = {s: load_rows(self.data_root, s) for s in self.symbols}
        app = web.Application(middlewares=[self._record])
        add = app.router.add_route
        for method, path, handler in (
            ("GET", "/v2/account", self._account),
            ("GET", "/v2/clock", self._clock),
            ("GET", "/v2/assets/{symbol}", self._asset),
            ("POST", "/v2/orders", self._submit),
            ("GET", "/v2/orders", self._list_orders),
            ("DELETE", "/v2/orders", self._cancel_all),
            ("GET", "/v2/orders:by_client_order_id", self._by_client_id),
            ("GET", "/v2/orders/{order_id}", self._get_order),
            ("DELETE", "/v2/orders/{order_id}", self._cancel),
            ("GET", "/v2/positions", self._positions),
            ("GET", "/v2/account/activities/FILL", self._activities),
            ("GET", "/stream", self._trade_stream),
            ("GET", "/v2/iex", self._data_stream),
            ("GET", "/v2/sip", self._data_stream),
        ):
            add(method, path, handler)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._task = asyncio.create_task(self._replay())

    @property
    def ws_url(self) -> str:
        """Return the websocket base URL (``[venue] ws_url``)."""
        return self.url.replace("http://", "ws://")

    async def stop(self) -> None:
        """Stop replaying and close every connection."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.drop_streams()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ market
    async def _replay(self) -> None:
        merged = sorted(((r.time_ms, i, s, r) for s, rows in self._rows.items() for i, r in enumerate(rows)))
        while True:
            for _, _, symbol, row in merged:
                await asyncio.sleep(self.pace_ms / 1000)
                await self._market_event(symbol, row)

    async def _market_event(self, symbol: str, row: MarketRow) -> None:
        now = time.time()
        stamp = msgpack.Timestamp.from_unix(now)
        if row.kind == "q":
            self._quotes[symbol] = row
            frame = {"T": "q", "S": symbol, "bp": float(row.bid), "bs": row.bid_size, "ap": float(row.ask),
                     "as": row.ask_size, "t": stamp}  # fmt: skip
            await self._match(symbol)
        else:
            frame = {"T": "t", "S": symbol, "i": int(now * 1e6), "p": float(row.price), "s": row.size, "t": stamp}
        payload = msgpack.packb([frame], datetime=False)
        for ws, wanted in list(self._data_ws.items()):
            if symbol in wanted and not ws.closed:
                try:
                    await ws.send_bytes(payload)
                except ConnectionError:
                    self._data_ws.pop(ws, None)

    async def _match(self, symbol: str) -> None:
        quote = self._quotes.get(symbol)
        if quote is None:
            return
        for order in list(self.orders.values()):
            if order["symbol"] != symbol or order["status"] not in ("new", "partially_filled"):
                continue
            price = quote.ask if order["side"] == "buy" else quote.bid
            if order["type"] == "limit":
                limit = Decimal(order["limit_price"])
                if (order["side"] == "buy" and price > limit) or (order["side"] == "sell" and price < limit):
                    continue
            await self._fill(order, price)

    async def _fill(self, order: dict[str, Any], price: Decimal) -> None:
        remaining = Decimal(order["qty"]) - Decimal(order["filled_qty"])
        parts = [remaining]
        if self.partial_fills and remaining >= 2:
            half = (remaining / 2).to_integral_value()
            parts = [half, remaining - half]
        for qty in parts:
            now = time.time()
            execution = Execution(str(uuid.uuid4()), order["id"], order["client_order_id"], order["symbol"],
                                  order["side"], qty, price, now)  # fmt: skip
            self.executions.append(execution)
            sign = 1 if order["side"] == "buy" else -1
            self.positions[order["symbol"]] = self.position(order["symbol"]) + sign * qty
            self.cost[order["symbol"]] = self.cost.get(order["symbol"], Decimal(0)) + sign * qty * price
            self.cash -= sign * qty * price
            filled = Decimal(order["filled_qty"]) + qty
            done = filled == Decimal(order["qty"])
            order.update(
                filled_qty=_plain(filled),
                filled_avg_price=_plain(price),
                status="filled" if done else "partially_filled",
                updated_at=_iso(now),
                filled_at=_iso(now) if done else None,
            )
            event = "fill" if done else "partial_fill"
            await self._push(event, order, price=_plain(price), qty=_plain(qty), execution_id=execution.execution_id)

    # ------------------------------------------------------------------ orders
    def _accept(self, payload: dict[str, Any]) -> dict[str, Any]:
        now = _iso(time.time())
        order_id = str(uuid.uuid4())
        order = {
            "id": order_id,
            "client_order_id": payload["client_order_id"],
            "created_at": now,
            "updated_at": now,
            "submitted_at": now,
            "filled_at": None,
            "canceled_at": None,
            "asset_class": "us_equity",
            "symbol": payload["symbol"],
            "qty": str(payload["qty"]),
            "filled_qty": "0",
            "filled_avg_price": None,
            "type": payload["type"],
            "order_type": payload["type"],
            "side": payload["side"],
            "time_in_force": payload["time_in_force"],
            "limit_price": payload.get("limit_price"),
            "extended_hours": bool(payload.get("extended_hours", False)),
            "status": "new",
        }
        self.orders[order_id] = order
        self.by_client_id[payload["client_order_id"]] = order_id
        return order

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        payload = await request.json()
        cid = str(payload.get("client_order_id", ""))
        self.submits.append(cid)
        fail, self._fail = self._fail, None
        if fail is not None:
            return web.json_response(fail[1], status=fail[0])
        if cid in self.by_client_id:
            return self._error(422, 40010001, "client_order_id must be unique")
        order = self._accept(payload)
        await self._push("new", order)
        if order["type"] == "market":
            quote = self._quotes.get(order["symbol"])
            if quote is not None:
                await self._fill(order, quote.ask if order["side"] == "buy" else quote.bid)
        elif order["time_in_force"] == "ioc":
            await self._match(order["symbol"])
            if order["status"] in _WORKING:
                await self._cancel_order(order)
        hang, self._hang = self._hang, None
        if hang is not None:
            await asyncio.sleep(hang)
        return web.json_response(order)

    async def _list_orders(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        symbols = set(filter(None, request.query.get("symbols", "").split(",")))
        rows = [o for o in self.open_orders() if not symbols or o["symbol"] in symbols]
        return web.json_response(rows if request.query.get("direction") == "asc" else rows[::-1])

    async def _by_client_id(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        order_id = self.by_client_id.get(request.query.get("client_order_id", ""))
        if order_id is None:
            return self._error(404, 40410000, "order not found")
        return web.json_response(self.orders[order_id])

    async def _get_order(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        order = self.orders.get(request.match_info["order_id"])
        if order is None:
            return self._error(404, 40410000, "order not found")
        return web.json_response(order)

    async def _cancel_order(self, order: dict[str, Any]) -> None:
        now = _iso(time.time())
        order.update(status="canceled", canceled_at=now, updated_at=now)
        await self._push("canceled", order)

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        order = self.orders.get(request.match_info["order_id"])
        if order is None:
            return self._error(404, 40410000, "order not found")
        if order["status"] not in _WORKING:
            return self._error(422, 42210000, f'order is already in "{order["status"]}" state')
        await self._cancel_order(order)
        return web.Response(status=204)

    async def _cancel_all(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        rows = []
        for order in self.open_orders():
            await self._cancel_order(order)
            rows.append({"id": order["id"], "status": 200, "body": order})
        return web.json_response(rows, status=207)

    # ------------------------------------------------------------------ account
    def _equity(self) -> Decimal:
        value = self.cash
        for symbol, qty in self.positions.items():
            quote = self._quotes.get(symbol)
            if quote is not None:
                value += qty * (quote.bid + quote.ask) / 2
        return value

    async def _account(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        cash = _plain(self.cash)
        return web.json_response(
            {
                "id": "emulator-account",
                "account_number": "PAEMULATOR",
                "status": self.status,
                "currency": "USD",
                "cash": cash,
                "equity": _plain(self._equity()),
                "buying_power": cash,
                "non_marginable_buying_power": cash,
                "multiplier": self.multiplier,
                "daytrade_count": self.daytrade_count,
                "pattern_day_trader": False,
                "trading_blocked": False,
                "account_blocked": False,
                "shorting_enabled": True,
            }
        )

    async def _clock(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        now = datetime.now(tz=UTC)
        if self.market_open:
            next_open, next_close = now + timedelta(hours=20), now + timedelta(hours=2)
        else:
            next_open, next_close = now + timedelta(hours=14), now + timedelta(hours=20)
        return web.json_response(
            {
                "timestamp": now.isoformat(),
                "is_open": self.market_open,
                "next_open": next_open.isoformat(),
                "next_close": next_close.isoformat(),
            }
        )

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        symbol = request.match_info["symbol"]
        if symbol not in self._rows:
            return self._error(404, 40410000, f"asset not found for {symbol}")
        return web.json_response(
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, symbol)),
                "class": "us_equity",
                "exchange": "ARCA",
                "symbol": symbol,
                "name": symbol,
                "status": "active",
                "tradable": True,
                "marginable": True,
                "shortable": True,
                "easy_to_borrow": True,
                "fractionable": True,
            }
        )

    async def _positions(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        rows = []
        for symbol, qty in self.positions.items():
            if qty == 0:
                continue
            rows.append(
                {
                    "symbol": symbol,
                    "qty": _plain(qty),
                    "side": "long" if qty > 0 else "short",
                    "avg_entry_price": _plain(abs(self.cost[symbol] / qty)),
                    "asset_class": "us_equity",
                }
            )
        return web.json_response(rows)

    async def _activities(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        after = request.query.get("after")
        rows = []
        for e in self.executions:
            stamp = _iso(e.ts)
            if after and stamp <= after:
                continue
            rows.append(
                {
                    "id": f"{stamp.replace('-', '').replace(':', '').replace('T', '')[:17]}::{e.execution_id}",
                    "activity_type": "FILL",
                    "transaction_time": stamp,
                    "type": "fill",
                    "price": _plain(e.price),
                    "qty": _plain(e.qty),
                    "side": e.side,
                    "symbol": e.symbol,
                    "order_id": e.order_id,
                }
            )
        return web.json_response(rows if request.query.get("direction") == "asc" else rows[::-1])

    # ------------------------------------------------------------------ streams
    async def _push(self, event: str, order: dict[str, Any], **extra: str) -> None:
        if self._lose > 0:
            self._lose -= 1
            return
        frame = {"stream": "trade_updates",
                 "data": {"event": event, "timestamp": _iso(time.time()), "order": dict(order), **extra}}  # fmt: skip
        text = json.dumps(frame)
        await self._send_trade_update(text)
        if self._replay_orders <= 0 or event not in ("new", "partial_fill", "fill"):
            return
        self._sent_frames.setdefault(order["id"], []).append(text)
        if event == "fill":
            self._replay_orders -= 1
            frames = self._sent_frames.pop(order["id"])
            for _ in range(self._replay_times):
                for replayed in frames:
                    self.replayed_frames += 1
                    await self._send_trade_update(replayed)

    async def _send_trade_update(self, text: str) -> None:
        for ws in list(self._trade_ws):
            if not ws.closed:
                try:
                    await ws.send_str(text)
                except ConnectionError:
                    self._trade_ws.remove(ws)

    async def _trade_stream(self, request: web.Request) -> web.StreamResponse:
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
                    self._trade_ws.append(ws)
                    await ws.send_str(json.dumps({"stream": "listening", "data": {"streams": ["trade_updates"]}}))
        finally:
            if ws in self._trade_ws:
                self._trade_ws.remove(ws)
        return ws

    async def _data_stream(self, request: web.Request) -> web.StreamResponse:
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
                    self._data_ws[ws] = self._data_ws.get(ws, set()) | wanted
        finally:
            self._data_ws.pop(ws, None)
        return ws

    # ------------------------------------------------------------------ helpers
    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        response: web.StreamResponse = await handler(request)
        return response

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
