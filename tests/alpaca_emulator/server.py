"""An Alpaca venue on 127.0.0.1 that unmodified alpaca-py talks to (trading REST, trade_updates, market data).

Nothing of livegate is imported: this is the venue. Endpoints (Alpaca Trading API v2 and
Market Data API v2, as alpaca-py 0.44 calls them):

* REST: ``GET /v2/account``, ``GET /v2/clock``, ``GET /v2/assets/{symbol}``,
  ``GET /v2/positions``, ``GET /v2/account/activities/FILL``
  (:mod:`tests.alpaca_emulator.account`); ``POST /v2/orders`` (``client_order_id`` unique
  for the account's life, 422 ``40010001``), ``GET /v2/orders`` (``status=open``),
  ``GET /v2/orders:by_client_order_id``, ``GET|DELETE /v2/orders/{id}``, ``DELETE
  /v2/orders`` (207 per order) (:mod:`tests.alpaca_emulator.orders`). Keys in the
  ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY`` headers, else 401.
* ``/stream`` and ``/v2/iex``, ``/v2/sip``: the ``trade_updates`` and stock data
  websockets (:mod:`tests.alpaca_emulator.streams`), the latter replaying real quotes and
  trades (:mod:`tests.alpaca_emulator.data`) stamped with the emulator's current time, one
  event every ``pace_ms``. Resting limit orders fill when a quote crosses them; market
  orders fill at once at the far side of the current quote.

This module holds the venue's state, its matching and the middlewares (authorization,
rate limits, the request log). Faults (:mod:`tests.alpaca_emulator.faults`):
:meth:`hang_next_submit` (the order is accepted, the answer comes after the client's
timeout), :meth:`fail_next_submit` (a refusal, nothing placed), ``partial_fills`` (each
fill split in two executions), :meth:`drop_streams` (every websocket closed, optionally
kept down), :meth:`lose_trade_updates` (the next N events never sent),
:meth:`replay_trade_updates` (a filled order's ``new`` and fill events sent again after
its ``fill``), :meth:`rate_limit_next_submit` (HTTP 429 on every REST request for a window
opened by the next submit), :meth:`lag_order_lookups` (new orders not found by lookups for
a while), ``market_open`` (the clock's ``is_open``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import msgpack
from aiohttp import web

from tests.alpaca_emulator import account, orders
from tests.alpaca_emulator.data import MarketRow, load_rows
from tests.alpaca_emulator.faults import AlpacaFaults
from tests.alpaca_emulator.streams import MarketDataHub, TradeUpdatesHub, close_all
from tests.alpaca_emulator.wire import API_KEY, API_SECRET, WORKING, authorized, error, iso, plain

__all__ = ["API_KEY", "API_SECRET", "AlpacaEmulator", "Execution"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Paths served without the REST keys (websockets authenticate in their own protocol).
_STREAM_PATHS = ("/stream", "/v2/iex", "/v2/sip")


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
    submits: list[str] = field(default_factory=list)  # client order ids of every POST /v2/orders (even refused)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every HTTP request
    timed_requests: list[tuple[float, str, str]] = field(default_factory=list)  # (epoch secs, method, path)
    quotes: dict[str, MarketRow] = field(default_factory=dict)
    faults: AlpacaFaults = field(default_factory=AlpacaFaults)
    url: str = ""
    _rows: dict[str, list[MarketRow]] = field(default_factory=dict)
    accepted_at: dict[str, float] = field(default_factory=dict)  # epoch secs by order id
    trade_updates: TradeUpdatesHub = field(init=False)
    _data: MarketDataHub = field(default_factory=MarketDataHub)
    _runner: web.AppRunner | None = None
    _task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.trade_updates = TradeUpdatesHub(self.faults)

    @property
    def replayed_frames(self) -> int:
        """Return how many ``trade_updates`` frames were sent again (:meth:`replay_trade_updates`)."""
        return self.trade_updates.replayed_frames

    # ------------------------------------------------------------------ faults
    def hang_next_submit(self, secs: float) -> None:
        """Accept the next order, then answer only after ``secs`` (past the client's timeout)."""
        self.faults.hang_secs = secs

    def fail_next_submit(self, status: int, code: int, message: str) -> None:
        """Refuse the next order with ``status`` and an Alpaca error body; nothing is placed."""
        self.faults.fail = (status, {"code": code, "message": message})

    def lose_trade_updates(self, count: int) -> None:
        """Never send the next ``count`` trade_updates events (fills stay visible over REST)."""
        self.faults.lose = count

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
        self.faults.replay_orders, self.faults.replay_times = orders, times

    def rate_limit_next_submit(self, secs: float) -> None:
        """Answer the next ``POST /v2/orders``, and every REST request for ``secs`` after it, with HTTP 429.

        Nothing is placed. The window ends on the whole second ``X-RateLimit-Reset`` names
        (:meth:`AlpacaFaults.rate_limit`); :attr:`AlpacaFaults.rate_limited` lists the refused requests.
        """
        self.faults.rate_limit_next_submit_secs = secs

    def lag_order_lookups(self, secs: float) -> None:
        """Answer 404 to lookups of an order (by id or client order id) for ``secs`` after it was accepted."""
        self.faults.lookup_lag_secs = secs

    async def drop_streams(self, *, keep_down: bool = False) -> None:
        """Close every trade_updates and market-data websocket (clients reconnect).

        ``keep_down`` refuses the reconnects too (HTTP 503) until :meth:`restore_streams`.
        """
        self.faults.streams_down = keep_down
        await close_all(self.trade_updates, self._data)

    def restore_streams(self) -> None:
        """Take websocket connections again (after ``drop_streams(keep_down=True)``)."""
        self.faults.streams_down = False

    async def fill_order(self, client_order_id: str) -> None:
        """Fill a resting order at its limit price now, as the market would (venue truth moving)."""
        order = self.orders[self.by_client_id[client_order_id]]
        await self.execute(order, Decimal(order["limit_price"]))

    # ------------------------------------------------------------------ facts for tests
    def open_orders(self) -> list[dict[str, Any]]:
        """Return the venue's working orders."""
        return [o for o in self.orders.values() if o["status"] in WORKING]

    def duplicate_client_order_ids(self) -> list[str]:
        """Return client order ids the venue placed more than one order for (always empty: it refuses reuse)."""
        seen = [o["client_order_id"] for o in self.orders.values()]
        return sorted({cid for cid in seen if seen.count(cid) > 1})

    def position(self, symbol: str) -> Decimal:
        """Return the signed position in ``symbol`` (shares)."""
        return self.positions.get(symbol, Decimal(0))

    def place_external_order(self, symbol: str, side: str, qty: str, limit_price: str, client_order_id: str) -> str:
        """Put a resting limit order on the account as if sent earlier (e.g. by a crashed session)."""
        return self.accept(
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
        app = web.Application(middlewares=[self._record, self._guard])
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/v2/account", partial(account.account, self)),
            ("GET", "/v2/clock", partial(account.clock, self)),
            ("GET", "/v2/assets/{symbol}", partial(account.asset, self)),
            ("POST", "/v2/orders", partial(orders.submit, self)),
            ("GET", "/v2/orders", partial(orders.list_orders, self)),
            ("DELETE", "/v2/orders", partial(orders.cancel_all, self)),
            ("GET", "/v2/orders:by_client_order_id", partial(orders.by_client_id, self)),
            ("GET", "/v2/orders/{order_id}", partial(orders.get_order, self)),
            ("DELETE", "/v2/orders/{order_id}", partial(orders.cancel, self)),
            ("GET", "/v2/positions", partial(account.positions, self)),
            ("GET", "/v2/account/activities/FILL", partial(account.activities, self)),
            ("GET", "/stream", self.trade_updates.handler),
            ("GET", "/v2/iex", self._data.handler),
            ("GET", "/v2/sip", self._data.handler),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
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
            self.quotes[symbol] = row
            frame = {"T": "q", "S": symbol, "bp": float(row.bid), "bs": row.bid_size, "ap": float(row.ask),
                     "as": row.ask_size, "t": stamp}  # fmt: skip
            await self.match(symbol)
        else:
            frame = {"T": "t", "S": symbol, "i": int(now * 1e6), "p": float(row.price), "s": row.size, "t": stamp}
        await self._data.broadcast(symbol, frame)

    async def match(self, symbol: str) -> None:
        """Fill the working orders of ``symbol`` the current quote crosses."""
        quote = self.quotes.get(symbol)
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
            await self.execute(order, price)

    async def execute(self, order: dict[str, Any], price: Decimal) -> None:
        """Fill what is left of ``order`` at ``price`` (in two executions with ``partial_fills``)."""
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
                filled_qty=plain(filled),
                filled_avg_price=plain(price),
                status="filled" if done else "partially_filled",
                updated_at=iso(now),
                filled_at=iso(now) if done else None,
            )
            event = "fill" if done else "partial_fill"
            await self.trade_updates.push(
                event, order, price=plain(price), qty=plain(qty), execution_id=execution.execution_id
            )

    # ------------------------------------------------------------------ orders (endpoints: orders.py)
    def accept(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Place the order ``payload`` describes (status ``new``) and return it."""
        accepted_at = time.time()
        now = iso(accepted_at)
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
        self.accepted_at[order_id] = accepted_at
        return order

    async def cancel_order(self, order: dict[str, Any]) -> None:
        """Cancel ``order`` and send its ``canceled`` event."""
        now = iso(time.time())
        order.update(status="canceled", canceled_at=now, updated_at=now)
        await self.trade_updates.push("canceled", order)

    # ------------------------------------------------------------------ middlewares
    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        self.timed_requests.append((time.time(), request.method, request.path))
        return await handler(request)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse a REST request without the keys (401), or inside a rate-limit window (429)."""
        if request.path in _STREAM_PATHS:
            if self.faults.streams_down:
                return web.Response(status=503, text="service unavailable")
            return await handler(request)
        if not authorized(request):
            return error(401, 40110000, "request is not authorized")
        if (request.method, request.path) == ("POST", "/v2/orders"):
            self.submits.append(str((await request.json()).get("client_order_id", "")))
        limited = self.faults.rate_limit(request, time.time())
        if limited is not None:
            return limited
        return await handler(request)
