"""A loopback TWS / IB Gateway speaking the TWS API wire protocol (server version 176).

Wire format (TWS API "Message Protocol"): the client opens with ``API\\0`` and a
length-prefixed ``v157..178``; every later message is a 4-byte big-endian length then
NUL-terminated fields. The server answers the handshake with its version and connection
time, then ``nextValidId`` (9) and ``managedAccounts`` (15) after ``startApi`` (71).
Encoded here, far enough for ib_async: positions (61/62), account values (6/8/54), open
orders (5/53), order status (3), errors (4), executions (11), commission reports (59),
contract details (10/52), current time (49) and completed orders (101/102).
:class:`tests.tws_emulator.TwsEmulator` adds market data, matching and faults.
Field orders follow ib_async's decoder for server version 176. Nothing of livegate is
imported: this is the venue.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field

SERVER_VERSION = 176
ACCOUNT = "DU1234567"
CONNECTION_TIME = "20260918 13:24:50 UTC"


@dataclass
class TwsOrder:
    """An order as the loopback TWS holds it."""

    order_id: int
    client_id: int
    perm_id: int
    symbol: str
    action: str
    quantity: str
    order_type: str
    limit_price: str
    tif: str
    order_ref: str
    status: str = "Submitted"
    filled: str = "0"
    bound: bool = False
    avg_price: str = ""
    silent: bool = False  # placed without an answer: no stream messages until looked up


@dataclass
class TwsLoopback:
    """State, failure injection and encoders of the loopback TWS."""

    positions: list[tuple[str, str, str]] = field(default_factory=list)  # (symbol, qty, avg cost)
    account_values: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, value, currency)
    orders: dict[int, TwsOrder] = field(default_factory=dict)  # by perm id
    recorded_perm_ids: dict[str, int] = field(default_factory=dict)  # orderRef -> perm id
    submit_requests: int = 0
    next_submit_error: tuple[int, str, bool] | None = None  # (code, text, about the order id)
    next_submit_silent: bool | None = None  # None: answer; True: keep silently; False: drop
    port: int = 0
    min_ticks: dict[str, str] = field(default_factory=dict)  # symbol -> minTick (default 0.01)
    size_increments: dict[str, str] = field(default_factory=dict)  # symbol -> sizeIncrement (default 1)
    now_secs: int = 1_789_737_890
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    _next_perm_id: int = 1_880_000_100
    _client_id: int = 0

    # ------------------------------------------------------------ arrange
    def seed_order(self, order_ref: str, symbol: str, action: str, qty: str, price: str, perm_id: int) -> TwsOrder:
        """Put a working order of this API client on the venue, as placed in an earlier session."""
        order = TwsOrder(900 + len(self.orders), 1, perm_id, symbol, action, qty, "LMT", price, "GTC", order_ref)
        self.orders[perm_id] = order
        self.recorded_perm_ids[order_ref] = perm_id
        return order

    def forget(self, order_ref: str) -> None:
        """Remove the orders with ``order_ref``: the venue has never seen it."""
        for perm_id in [p for p, o in self.orders.items() if o.order_ref == order_ref]:
            del self.orders[perm_id]

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.drop_clients()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def drop_clients(self) -> None:
        """Close every client connection (TWS restarting)."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    @property
    def connections(self) -> int:
        return len(self._writers)

    # ------------------------------------------------------------ wire
    @staticmethod
    def _frame(*fields: object) -> bytes:
        payload = "".join(f"{f}\0" for f in fields).encode()
        return struct.pack(">I", len(payload)) + payload

    def _send(self, writer: asyncio.StreamWriter, *fields: object) -> None:
        writer.write(self._frame(*fields))

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> list[str]:
        size = struct.unpack(">I", await reader.readexactly(4))[0]
        return (await reader.readexactly(size)).decode().split("\0")[:-1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await reader.readexactly(4) != b"API\0":
                writer.close()
                return
            await self._read(reader)  # "v157..178"
            self._send(writer, SERVER_VERSION, CONNECTION_TIME)
            self._writers.append(writer)
            while True:
                fields = await self._read(reader)
                self._dispatch(writer, fields)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if writer in self._writers:
                self._writers.remove(writer)
            writer.close()

    def _dispatch(self, w: asyncio.StreamWriter, f: list[str]) -> None:
        msg = int(f[0])
        if msg == 71:  # startApi: version, clientId, optCapab
            self._client_id = int(f[2])
            used = [o.order_id for o in self.orders.values() if o.client_id == self._client_id]
            self._send(w, 9, 1, max(used, default=0) + 1)  # TWS: the next id above this client's orders
            self._send(w, 15, 1, ACCOUNT)
        elif msg == 61:  # reqPositions
            for symbol, qty, avg in self.positions:
                self._send(w, 61, 3, ACCOUNT, *self._contract(symbol, with_exchange=True), qty, avg)
            self._send(w, 62, 1)
        elif msg == 6:  # reqAccountUpdates
            for tag, value, currency in self.account_values:
                self._send(w, 6, 2, tag, value, currency, ACCOUNT)
            self._send(w, 8, 1, "13:24")
            self._send(w, 54, 1, ACCOUNT)
        elif msg == 5:  # reqOpenOrders
            for order in self.orders.values():
                if order.status in ("Submitted", "PreSubmitted") and order.client_id == self._client_id:
                    order.silent = False
                    self._send_order(w, order)
            self._send(w, 53, 1)
        elif msg == 3:
            self._place(w, f)
        elif msg == 4:  # cancelOrder: version, orderId, manualCancelOrderTime
            self._cancel(w, int(f[2]))
        elif msg == 58:  # reqGlobalCancel
            for order in list(self.orders.values()):
                if order.status in ("Submitted", "PreSubmitted"):
                    self._cancel(w, order.order_id)
        elif msg == 7:  # reqExecutions: version, reqId, ...
            self._executions(w, int(f[2]))
        elif msg == 9:  # reqContractDetails: version, reqId, contract (12 fields), ...
            self._contract_details(w, int(f[2]), f[4])
        elif msg == 49:  # reqCurrentTime
            self._send(w, 49, 1, self.now_secs)
        elif msg == 99:  # reqCompletedOrders: apiOnly
            for order in self.orders.values():
                if order.status in ("Filled", "Cancelled", "ApiCancelled", "Inactive"):
                    self._send(w, *self.completed_order_fields(order))
            self._send(w, 102)
        else:
            self.on_message(w, msg, f)

    def on_message(self, w: asyncio.StreamWriter, msg: int, f: list[str]) -> None:
        """Handle a message the loopback does not know (subclasses add market data, ...)."""

    def _executions(self, w: asyncio.StreamWriter, req_id: int) -> None:
        self._send(w, 55, 1, req_id)

    def _contract_details(self, w: asyncio.StreamWriter, req_id: int, symbol: str) -> None:
        con_id, _, _, _, _, _, _, _, currency, local, trading_class = self._contract(symbol, with_exchange=True)
        tick = self.min_ticks.get(symbol, "0.01")
        increment = self.size_increments.get(symbol, "1")
        self._send(
            w,
            10,
            req_id,
            symbol,
            "STK",
            "",
            "0",
            "",
            "SMART",
            currency,
            local,
            trading_class,
            trading_class,
            con_id,
            tick,
            "",  # multiplier
            "LMT,MKT",
            "SMART,NASDAQ,NYSE",
            1,
            0,
            f"{symbol} INC",
            "NASDAQ",
            "",
            "Technology",
            "Computers",
            "Computers",
            "US/Eastern",
            "",
            "",
            "",
            "",
            0,  # secIdList
            1,
            "",
            "",
            "26",
            "",
            "COMMON",
            increment,  # minSize
            increment,  # sizeIncrement
            increment,  # suggestedSizeIncrement
        )
        self._send(w, 52, 1, req_id)

    def _place(self, w: asyncio.StreamWriter, f: list[str]) -> None:
        self.submit_requests += 1
        order_id, symbol, action, qty, order_type, price, tif, ref = (
            int(f[1]),
            f[3],
            f[16],
            f[17],
            f[18],
            f[19],
            f[21],
            f[26],
        )
        error, self.next_submit_error = self.next_submit_error, None
        if error is not None:
            code, text, about_order = error
            self._send(w, 4, 2, order_id if about_order else -1, code, text, "")
            return
        perm_id = self.recorded_perm_ids.get(ref)
        seeded = self.orders.get(perm_id) if perm_id is not None else None
        if seeded is not None and not seeded.bound:
            order = seeded
        else:
            perm_id = perm_id if perm_id is not None and perm_id not in self.orders else self._new_perm_id()
            order = TwsOrder(0, self._client_id, perm_id, symbol, action, qty, order_type, price, tif, ref)
        order.order_id, order.client_id, order.bound = order_id, self._client_id, True
        order.quantity, order.limit_price, order.order_type, order.tif = qty, price, order_type, tif
        silent, self.next_submit_silent = self.next_submit_silent, None
        if silent is False:
            self.orders.pop(order.perm_id, None)
            return
        self.orders[order.perm_id] = order
        self.recorded_perm_ids.setdefault(ref, order.perm_id)
        order.silent = silent is True
        if silent is None:
            self._send_order(w, order)

    def _new_perm_id(self) -> int:
        self._next_perm_id += 1
        return self._next_perm_id

    def _cancel(self, w: asyncio.StreamWriter, order_id: int) -> None:
        mine = [o for o in self.orders.values() if o.order_id == order_id and o.client_id == self._client_id]
        order = next((o for o in mine if o.status in ("Submitted", "PreSubmitted")), mine[-1] if mine else None)
        if order is None:
            self._send(w, 4, 2, order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found.", "")
            return
        if order.status not in ("Submitted", "PreSubmitted"):
            self._send(w, 4, 2, order_id, 161, "Cancel attempted when order is not in a cancellable state.", "")
            return
        order.status = "Cancelled"
        self._send_status(w, order)
        self._send(w, 4, 2, order_id, 202, "Order Canceled - reason:", "")

    # ------------------------------------------------------------ encoders
    @staticmethod
    def _contract(symbol: str, *, with_exchange: bool) -> list[object]:
        # conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange, currency,
        # localSymbol, tradingClass (decoder order for position, openOrder, execDetails)
        con_id = {"AAPL": 265598, "MSFT": 272093}.get(symbol, 1)
        return [con_id, symbol, "STK", "", "0", "", "", "SMART" if with_exchange else "", "USD", symbol, "NMS"]

    def _send_order(self, w: asyncio.StreamWriter, o: TwsOrder) -> None:
        self._send(w, *self.open_order_fields(o))
        self._send_status(w, o)

    def _send_status(self, w: asyncio.StreamWriter, o: TwsOrder) -> None:
        remaining = "0" if o.status in ("Cancelled", "Filled") else str(float(o.quantity) - float(o.filled))
        avg = "0" if o.filled == "0" else (o.avg_price or o.limit_price)
        self._send(w, 3, o.order_id, o.status, o.filled, remaining, avg, o.perm_id, 0, avg, o.client_id, "", "")

    def open_order_fields(self, o: TwsOrder) -> list[object]:
        """Return the ``openOrder`` (5) fields of ``o`` for server version 176."""
        head: list[object] = [5, o.order_id, *self._contract(o.symbol, with_exchange=True)]
        order: list[object] = [
            o.action,
            o.quantity,
            o.order_type,
            o.limit_price if o.order_type == "LMT" else "",
            "",
            o.tif,
            "",
            ACCOUNT,
            "O",
            0,
            o.order_ref,
            o.client_id,
            o.perm_id,
            0,
            0,
            "0",
            "",
            "",
            "",
            "",
            "",  # sharesAllocation, faGroup, faMethod, faPercentage
            "",  # faProfile (server version < 177)
        ]
        order += [
            "",
            "",
            "0",
            "",
            "",
            0,
            "",
            "",
            0,
            "",
            "",
            "",
            "",
            "",
            "",
            0,
            0,
            0,
            "",
            3,
            0,
            0,
            "",
            0,
            0,
            "",
            0,
            "",
            "",
        ]  # modelCode .. deltaNeutralAuxPrice (deltaNeutralOrderType empty)
        order += [0, 0, "", "", "", "", ""]  # continuousUpdate .. comboLegsDescrip
        order += [0, 0, 0]  # combo legs, order combo legs, smart combo routing params
        order += ["", "", ""]  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
        order += [""]  # hedgeType
        order += [0, "", "", 0, 0]  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld, dncPresent
        order += [""]  # algoStrategy
        order += [0, 0, o.status, "", "", "", "", "", "", "", "", "", "", "", "", "", "", 0, 0]
        order += [0]  # conditions
        order += ["", "", "", "", "", "", "", 0, "", "", "", "", 0, 0, "", 0]  # adjustedOrderType .. usePriceMgmtAlgo
        order += ["", 0, 0]  # duration, postToAts, autoCancelParent
        order += ["", "", 0, "", ""]  # minTradeQty .. midOffsetAtHalf
        return head + order

    def completed_order_fields(self, o: TwsOrder) -> list[object]:
        """Return the ``completedOrder`` (101) fields of ``o`` for server version 176."""
        fields: list[object] = [101, *self._contract(o.symbol, with_exchange=True)]
        fields += [o.action, o.quantity, o.order_type, o.limit_price if o.order_type == "LMT" else "", "", o.tif]
        fields += ["", ACCOUNT, "O", 0, o.order_ref, o.perm_id, 0, 0, 0, "", "", "", ""]  # ocaGroup .. faPercentage
        fields += [""]  # faProfile (server version < 177)
        fields += ["", "", "", "", "", 0, "", "", "", "", "", "", "", "", 0, 0, "", 0, "", "", 0, "", ""]
        fields += [0, 0, "", "", ""]  # continuousUpdate .. comboLegsDescrip
        fields += [0, 0, 0]  # combo legs, order combo legs, smart combo routing params
        fields += ["", "", ""]  # scale sizes and increment
        fields += [""]  # hedgeType
        fields += ["", "", 0, 0]  # clearingAccount, clearingIntent, notHeld, dncPresent
        fields += [""]  # algoStrategy
        fields += [0, o.status, 0, 0]  # solicited, status, randomizeSize, randomizePrice
        fields += [0]  # conditions
        fields += ["", "", "", 0, 0, "", o.filled, 0, 0, "", 0, 0, 0]  # trailStopPrice .. parentPermId
        fields += [CONNECTION_TIME, "Filled Size: " + o.filled if o.status == "Filled" else o.status]
        fields += ["", "", "", "", ""]  # minTradeQty .. midOffsetAtHalf
        return fields

    # ------------------------------------------------------------ private stream
    def replay_fill(self, order_ref: str, exec_id: str, commission: str, last_liquidity: int = 1) -> None:
        """Push the order with ``order_ref`` to every client, then fill it fully with a commission report."""
        order = next(o for o in self.orders.values() if o.order_ref == order_ref)
        for w in self._writers:
            self._send_order(w, order)
            self._send(
                w,
                11,
                -1,
                order.order_id,
                *self._contract(order.symbol, with_exchange=False)[:7],
                "ISLAND",
                "USD",
                order.symbol,
                "NMS",
                exec_id,
                CONNECTION_TIME,
                ACCOUNT,
                "ISLAND",
                "BOT" if order.action == "BUY" else "SLD",
                order.quantity,
                order.limit_price,
                order.perm_id,
                order.client_id,
                0,
                order.quantity,
                order.limit_price,
                order.order_ref,
                "",
                "",
                "",
                last_liquidity,
            )
            self._send(w, 59, 1, exec_id, commission, "USD", "1.7976931348623157E308", "1.7976931348623157E308", "")
            order.filled, order.status = order.quantity, "Filled"
            self._send_status(w, order)

    def push_error(self, req_id: int, code: int, text: str) -> None:
        for w in self._writers:
            self._send(w, 4, 2, req_id, code, text, "")
