"""The Binance-compatible exchange emulator: one aiohttp server (REST and websockets) on 127.0.0.1.

Point unmodified ccxt at it with ``[venue] rest_url`` / ``ws_url`` (``Emulator.rest_url``,
``Emulator.ws_url``). Market data comes from a real capture: in step mode (``pace_ms=0``)
nothing moves until :meth:`Emulator.step`; with ``pace_ms`` the emulator replays one
event every ``pace_ms`` once a client has subscribed. Tests read venue truth
(:attr:`book`) and inject faults through the methods below.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from decimal import Decimal
from pathlib import Path

from aiohttp import web

from tests.venue_emulator.book import Book, Execution
from tests.venue_emulator.capture import CAPTURES, MarketEvent, load_capture
from tests.venue_emulator.faults import Faults, HttpFault
from tests.venue_emulator.gate import Gate
from tests.venue_emulator.model import Kind, Market, Order, Trade
from tests.venue_emulator.rest import Rest
from tests.venue_emulator.streams import Streams
from tests.venue_emulator.wire import private_event

__all__ = ["API_KEY", "API_SECRET", "Emulator", "default_markets"]

API_KEY = "EMULATORKEY-4f1d2c"
API_SECRET = "EMULATORSECRET-9b8e7a"

_DEFAULT_CAPTURE = {
    Kind.SPOT: "spot_btcusdt_20240809_head4000.jsonl.gz",
    Kind.USDM: "usdm_btcusdt_20240808_head4000.jsonl.gz",
}


def default_markets(kind: Kind) -> dict[str, Market]:
    """Return BTCUSDT with Binance's recorded filters (``ccxt_fixtures/markets/binance.json``)."""
    if kind is Kind.SPOT:
        m = Market(
            "BTCUSDT",
            "BTC",
            "USDT",
            Decimal("0.01"),
            Decimal("0.00001"),
            Decimal("0.00001"),
            Decimal(9000),
            Decimal("0.01"),
            Decimal(1000000),
            Decimal(5),
        )
    else:
        m = Market(
            "BTCUSDT",
            "BTC",
            "USDT",
            Decimal("0.10"),
            Decimal("0.001"),
            Decimal("0.001"),
            Decimal(1000),
            Decimal("556.80"),
            Decimal(4529764),
            Decimal(5),
        )
    return {m.symbol: m}


class Emulator:
    """A Binance Spot or USD-M venue for tests.

    Parameters
    ----------
    kind:
        ``Kind.SPOT`` (``/api/v3``, spot balances) or ``Kind.USDM`` (``/fapi``, positions).
    balances:
        Starting free balances by asset; default 10,000 USDT (spot also 0.1 BTC).
    capture, max_events:
        Real capture to replay (default: a BTCUSDT capture of the kind) and how many events.
    pace_ms:
        0 = step mode; else replay one market event every ``pace_ms`` after the first subscription.
    api_key, secret:
        The one account's credentials (HMAC-SHA256).
    """

    def __init__(
        self,
        kind: Kind = Kind.SPOT,
        *,
        balances: dict[str, Decimal] | None = None,
        capture: Path | None = None,
        max_events: int = 2000,
        pace_ms: int = 0,
        api_key: str = API_KEY,
        secret: str = API_SECRET,
    ) -> None:
        self.kind = kind
        self.faults = Faults()
        self.stopping = asyncio.Event()  # set by stop(): answers held back by a fault end at once
        self.book = Book(kind, default_markets(kind), self.now_ms)
        start = (
            balances
            if balances is not None
            else ({"USDT": Decimal(10000), "BTC": Decimal("0.1")} if kind is Kind.SPOT else {"USDT": Decimal(10000)})
        )
        for asset, amount in start.items():
            self.book.deposit(asset, amount)
        limit = 6000 if kind is Kind.SPOT else 2400
        self.gate = Gate(
            kind, api_key, secret, weight_limit_1m=limit, orders_limit_10s=100 if kind is Kind.SPOT else 300
        )
        self.streams = Streams(api_key, secret, self.faults.private, revoked=lambda: self.faults.revoked_key)
        self.listen_key = secrets.token_hex(32)
        self.rest = Rest(self)
        self.events: list[MarketEvent] = load_capture(capture or CAPTURES / _DEFAULT_CAPTURE[kind], limit=max_events)
        self.cursor = 0
        self.pace_ms = pace_ms
        self.book.listen(self._on_execution)
        self._runner: web.AppRunner | None = None
        self._pacer: asyncio.Task[None] | None = None
        self.base_port = 0
        self._printed_trades = 0

    # ------------------------------------------------------------------ lifecycle
    @property
    def rest_url(self) -> str:
        """Return ``http://127.0.0.1:<port>`` (the ``[venue] rest_url``)."""
        return f"http://127.0.0.1:{self.base_port}"

    @property
    def ws_url(self) -> str:
        """Return ``ws://127.0.0.1:<port>`` (the ``[venue] ws_url``)."""
        return f"ws://127.0.0.1:{self.base_port}"

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (a free port when 0) and start the pacer in paced mode."""
        app = web.Application()
        for prefix in ("/ws", "/ws-api", "/public/ws", "/market/ws", "/private/ws"):
            app.router.add_get(prefix, self.streams.handle)
            app.router.add_get(prefix + "/{tail:.*}", self.streams.handle)
        app.router.add_route("*", "/{tail:.*}", self.rest.handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.base_port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        if self.pace_ms:
            self._pacer = asyncio.create_task(self._pace())

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        self.stopping.set()
        if self._pacer is not None:
            self._pacer.cancel()
        await self.streams.drop(private=True)
        await self.streams.drop(private=False)
        if self._runner is not None:
            await self._runner.cleanup()

    def now_ms(self) -> int:
        """Return the venue clock: wall time plus the injected skew (ms)."""
        return int(time.time() * 1000) + self.faults.clock_skew_ms

    # ------------------------------------------------------------------ market data
    def step(self, n: int = 1) -> int:
        """Replay the next ``n`` market events (matching resting orders, publishing them); return how many."""
        done = 0
        while done < n and self.cursor < len(self.events):
            event = self.events[self.cursor]
            self.cursor += 1
            done += 1
            symbol = event.data["s"]
            first, second = event.prices()
            now = self.now_ms()
            data = dict(event.data)
            if "E" in data or self.kind is Kind.USDM:
                data["E"] = now
            if "T" in data:
                data["T"] = now
            if event.is_quote:
                self.streams.publish(event.stream, data)
                self.book.on_quote(symbol, first, second)
            else:
                self.streams.publish(event.stream, data)
                self.book.on_trade(symbol, first, second)
        return done

    async def _pace(self) -> None:
        await self.streams.subscribed.wait()
        while self.cursor < len(self.events):
            self.step(1)
            await asyncio.sleep(self.pace_ms / 1000)

    def _on_execution(self, event: Execution) -> None:
        self.streams.publish_private(private_event(self.kind, event))

    # ------------------------------------------------------------------ faults
    def fail_next(self, fault: HttpFault) -> None:
        """Answer the next matching request(s) with ``fault`` (see :class:`HttpFault`)."""
        self.faults.http.append(fault)

    def hide_new_orders(self, secs: float) -> None:
        """Keep orders placed from now on invisible to lookups and open-order lists for ``secs``."""
        self.book.hide_new_orders_ms = int(secs * 1000)

    def revoke_key(self, revoked: bool = True) -> None:
        """Answer every private request with 401 -2015 (a revoked API key)."""
        self.faults.revoked_key = revoked

    def set_clock_skew(self, ms: int) -> None:
        """Move the venue clock ``ms`` ahead (negative: behind) of the wall clock."""
        self.faults.clock_skew_ms = ms

    def lose_private(self, n: int = 1) -> None:
        """Lose the next ``n`` private events."""
        self.faults.private.lose += n

    def duplicate_private(self, n: int = 1) -> None:
        """Send each of the next ``n`` private events twice."""
        self.faults.private.duplicate += n

    def reorder_private(self, n: int = 1) -> None:
        """Hold each of the next ``n`` private events back until after the one that follows it."""
        self.faults.private.reorder += n

    def print_trade(self, price: Decimal, quantity: Decimal, symbol: str = "BTCUSDT") -> None:
        """Print one public trade now, as :meth:`step` replays a captured one: publish it, then match it.

        The print is a seller taking ``quantity`` at ``price`` (Binance ``"m": true``, the
        buyer is the maker): resting buys at or above ``price`` fill up to ``quantity``, as
        maker, at their own price (:meth:`Book.on_trade`).
        """
        self._printed_trades += 1
        now = self.now_ms()
        self.streams.publish(
            f"{symbol.lower()}@trade",
            {
                "e": "trade",
                "E": now,
                "s": symbol,
                "t": 9_000_000_000 + self._printed_trades,
                "p": f"{price:f}",
                "q": f"{quantity:f}",
                "T": now,
                "m": True,
                "M": True,
            },
        )
        self.book.on_trade(symbol, price, quantity)

    async def drop_private_stream(self) -> int:
        """Close the private stream connections (the client must reconnect); return how many."""
        return await self.streams.drop(private=True)

    async def drop_market_streams(self) -> int:
        """Close the market stream connections; return how many."""
        return await self.streams.drop(private=False)

    def external_order(
        self, side: str, quantity: Decimal, price: Decimal | None, *, client_order_id: str = ""
    ) -> Order:
        """Place an order made outside livegate (e.g. by hand in the web UI) on BTCUSDT."""
        return self.book.place(
            symbol="BTCUSDT",
            side=side,
            type_="LIMIT" if price is not None else "MARKET",
            quantity=quantity,
            price=price,
            time_in_force="GTC" if price is not None else "",
            client_order_id=client_order_id or f"web_{secrets.token_hex(10)}",
            external=True,
        )

    def adjust_balance(self, asset: str, delta: Decimal) -> None:
        """Change a free balance from outside (deposit > 0, withdrawal < 0)."""
        self.book.deposit(asset, delta)

    # ------------------------------------------------------------------ venue truth
    def open_orders(self) -> list[Order]:
        """Return every open order, visible or not, oldest first."""
        return [o for o in sorted(self.book.orders.values(), key=lambda o: o.order_id) if o.is_open]

    def fills(self) -> list[Trade]:
        """Return every fill of the account, in venue order."""
        return list(self.book.trades)

    def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        """Return (free, locked) of ``asset``."""
        free, locked = self.book.balances.get(asset, [Decimal(0), Decimal(0)])
        return free, locked

    def position(self, symbol: str = "BTCUSDT") -> Decimal:
        """Return the signed USD-M position of ``symbol`` (base units)."""
        pos = self.book.positions.get(symbol)
        return pos.amount if pos else Decimal(0)

    def duplicate_client_order_ids(self) -> list[str]:
        """Return client order ids the venue accepted more than once (a resent order)."""
        seen: dict[str, int] = {}
        for order in self.book.orders.values():
            seen[order.client_order_id] = seen.get(order.client_order_id, 0) + 1
        return sorted(cid for cid, n in seen.items() if n > 1)
