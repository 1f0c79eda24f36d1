"""A TWS with market data, matching, executions, positions and faults, on the loopback wire protocol.

Extends :class:`tests.contract.tws_server.TwsLoopback` (handshake, orders, positions,
account values, contract details, completed orders) with:

* market data: ``reqMktData`` (1) answered with ``tickPrice`` (1: bid 1, ask 2, last 4),
  ``reqTickByTickData`` (97) with tick-by-tick ``BidAsk`` / ``AllLast`` (99); entitlement
  switches answer TWS's refusals (354 "Requested market data is not subscribed", 10189
  "Failed to request tick-by-tick data");
* a pacer that plays :class:`~tests.tws_emulator.ticks.Tick` rows every ``pace_ms`` and
  matches working orders against them (marketable limits and market orders fill at the
  touch; resting limits when the touch reaches them), with execution (11), commission
  report (59, IBKR Fixed: 0.005 USD a share, at least 1 USD) and order status (3);
* positions moved by fills, ``reqExecutions`` (7) answered from the fills;
* faults: an order kept silently after it was placed (timeout after accept), client
  drops, TWS down (:meth:`TwsEmulator.go_down`: connections refused until
  ``accepting``), order rejects (201), partial fills, read-only API (321), the pacing rule:
  order messages (place, cancel, global cancel) closer than ``min_order_gap_ms`` are
  counted and, with ``enforce_pacing``, refused with error 100; TWS's own message rate
  limit (``rate_limit``, tests/tws_emulator/pacing.py: 50 messages a second, error 100,
  the client closed after repeats); execution corrections
  (tests/tws_emulator/corrections.py);
* outside orders (:meth:`TwsEmulator.place_outside_order`): working orders of the account
  placed in TWS by hand or by another API client, which this client is never told of and
  which ``reqGlobalCancel`` (58) cancels like every other open order of the account.

Nothing of livegate is imported: this is the venue.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from tests.contract.tws_server import TwsLoopback, TwsOrder
from tests.tws_emulator.executions import Execution, commission, commission_fields, exec_fields
from tests.tws_emulator.pacing import PACING_TEXT, MessageRateLimit
from tests.tws_emulator.ticks import Tick

__all__ = ["Execution", "TwsEmulator"]

_WORKING = ("Submitted", "PreSubmitted")
_ORDER_MESSAGES = frozenset({3, 4, 58})


@dataclass
class _Sub:
    writer: asyncio.StreamWriter
    req_id: int
    kind: str  # top | BidAsk | AllLast
    symbol: str


@dataclass
class TwsEmulator(TwsLoopback):
    """The loopback TWS plus market data, matching and faults (see the module docstring)."""

    ticks: list[Tick] = field(default_factory=list)
    pace_ms: float = 20.0
    loop_ticks: bool = True
    tick_by_tick_entitled: bool = True
    market_data_entitled: bool = True
    read_only: bool = False
    enforce_pacing: bool = False
    min_order_gap_ms: float = 100.0
    partial_fill_next: bool = False
    clock_skew_secs: int = 0
    silence_order_number: int | None = None  # the Nth placed order is kept silently (timeout after accept)
    silent_cancel: bool = False  # ... and cancelled by the venue at once, still silently
    accepting: bool = True  # False: TWS is down (closed, restarting): every new API connection is closed at once
    rate_limit: MessageRateLimit | None = None  # TWS's 50 messages a second per client (tests/tws_emulator/pacing.py)
    fills: list[Execution] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)  # corrected execId -> its correction's execId
    placements: list[str] = field(default_factory=list)  # orderRef of every placeOrder that placed
    order_message_ms: list[float] = field(default_factory=list)
    pacing_violations: int = 0
    cancel_requests: int = 0
    global_cancels: int = 0
    completed_order_requests: int = 0
    tick_index: int = 0
    _subs: list[_Sub] = field(default_factory=list)
    _book: dict[str, Tick] = field(default_factory=dict)
    _writer_of: dict[int, asyncio.StreamWriter] = field(default_factory=dict)
    _pacer: asyncio.Task[None] | None = None
    _exec_seq: int = 0
    _partial: set[int] = field(default_factory=set)
    _client_of_writer: dict[int, int] = field(default_factory=dict)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        await super().start()
        self._pacer = asyncio.get_running_loop().create_task(self._play())

    async def close(self) -> None:
        if self._pacer is not None:
            self._pacer.cancel()
            await asyncio.gather(self._pacer, return_exceptions=True)
        await super().close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.accepting:
            writer.close()
            return
        await super()._serve(reader, writer)

    def go_down(self) -> None:
        """Drop every client and refuse new ones until :attr:`accepting` is set again (TWS shut down)."""
        self.accepting = False
        self.drop_clients()

    # ------------------------------------------------------------ queries (tests)
    def open_orders(self) -> list[TwsOrder]:
        """Return the orders working at the venue."""
        return [o for o in self.orders.values() if o.status in _WORKING]

    def position(self, symbol: str) -> Decimal:
        """Return the venue's signed position in ``symbol`` (shares)."""
        return next((Decimal(q) for s, q, _ in self.positions if s == symbol), Decimal(0))

    def duplicate_order_refs(self) -> list[str]:
        """Return the orderRefs placed more than once (a resent client order id)."""
        return sorted({r for r in self.placements if r and self.placements.count(r) > 1})

    def min_gap_ms(self) -> float | None:
        """Return the smallest gap between two order messages, in ms (None below two)."""
        times = self.order_message_ms
        return min((b - a for a, b in itertools.pairwise(times)), default=None)

    # ------------------------------------------------------------ dispatch
    def _dispatch(self, w: asyncio.StreamWriter, f: list[str]) -> None:
        msg = int(f[0])
        if self.rate_limit is not None and not self.rate_limit.admit(id(w), time.monotonic()):
            order_id = int(f[1]) if msg == 3 else int(f[2]) if msg == 4 else -1
            self._send(w, 4, 2, order_id, 100, PACING_TEXT, "")  # the message is dropped
            if self.rate_limit.refuse(id(w), msg, order_id):
                self._drop(w)
            return
        if msg == 71:
            self._client_of_writer[id(w)] = int(f[2])
            self._writer_of[int(f[2])] = w
        if msg in _ORDER_MESSAGES:
            now = time.monotonic() * 1000
            if self.order_message_ms and now - self.order_message_ms[-1] < self.min_order_gap_ms:
                self.pacing_violations += 1
                if self.enforce_pacing:
                    self.order_message_ms.append(now)
                    self._send(
                        w,
                        4,
                        2,
                        int(f[1]) if msg == 3 else -1,
                        100,
                        PACING_TEXT,
                        "",
                    )
                    return
            self.order_message_ms.append(now)
        if msg == 49:  # reqCurrentTime: the venue's wall clock
            self._send(w, 49, 1, int(time.time()) + self.clock_skew_secs)
            return
        if msg == 3 and self.read_only:
            text = "Error validating request.-'bN' : cause - The API interface is currently in Read-Only mode."
            self._send(w, 4, 2, int(f[1]), 321, text, "")
            return
        if msg == 3 and len(f) > 85 and f[85] == "1":
            self._what_if(w, f)
            return
        if msg == 4:
            self.cancel_requests += 1
        if msg == 58:
            self.global_cancels += 1
        if msg == 99:
            self.completed_order_requests += 1
        self._client_id = self._client_of_writer.get(id(w), self._client_id)
        if msg == 58:
            self._global_cancel(w)
            return
        super()._dispatch(w, f)
        if msg == 3:
            self._after_place(f)

    def _place(self, w: asyncio.StreamWriter, f: list[str]) -> None:
        if self.silence_order_number == len(self.placements) + 1:
            self.next_submit_silent = True
        super()._place(w, f)

    def place_outside_order(
        self, symbol: str, action: str, quantity: str, limit_price: str, *, client_id: int = 0, order_ref: str = ""
    ) -> TwsOrder:
        """Put a working GTC limit order on the account as placed by someone else; return it.

        ``client_id`` 0 is an order entered by hand in TWS, any other id one of another API
        program. TWS reports an order (``openOrder``, ``orderStatus``, ``execDetails``) to
        the client that placed it, and ``reqOpenOrders`` returns "all open orders placed
        by this specific API client" (TWS API "Open Orders"), so a client with another id
        hears nothing of it; it still fills against the ticks and moves the account's
        position like any order.
        """
        order = TwsOrder(
            10_000 + len(self.orders), client_id, self._new_perm_id(), symbol, action, quantity, "LMT",
            limit_price, "GTC", order_ref, bound=True,
        )  # fmt: skip
        self.orders[order.perm_id] = order
        return order

    def _global_cancel(self, w: asyncio.StreamWriter) -> None:
        """``reqGlobalCancel``: cancel every open order of the account, whoever placed it.

        TWS API "Cancelling Orders": ``cancelOrder`` "can only be used to cancel an order
        that was placed originally by a client with the same client ID (or from TWS for
        client ID 0)", while ``reqGlobalCancel`` "will cancel all open orders, regardless
        of how they were originally placed". Each order's status goes to its own client.
        """
        for order in self.open_orders():
            if order.client_id == self._client_id:
                self._cancel(w, order.order_id)  # as the loopback cancels this client's orders
                continue
            order.status = "Cancelled"
            owner = self._writer_of.get(order.client_id)
            if owner is not None and owner in self._writers:
                self._send_status(owner, order)

    def fill_while_dropped(self, order_ref: str) -> Execution:
        """Drop every client, then fill the working order ``order_ref`` at its limit (nobody hears it)."""
        self.drop_clients()
        order = next(o for o in self.open_orders() if o.order_ref == order_ref)
        self._fill(order, Decimal(order.quantity) - Decimal(order.filled), Decimal(order.limit_price))
        return self.fills[-1]

    def effective_fills(self) -> list[Execution]:
        """Return the executions in force: each corrected one replaced by its correction."""
        return [e for e in self.fills if e.exec_id not in self.corrections]

    def _after_place(self, f: list[str]) -> None:
        order = next(
            (o for o in self.orders.values() if o.order_id == int(f[1]) and o.client_id == self._client_id), None
        )
        if order is not None:
            self.placements.append(order.order_ref)
            if self.partial_fill_next:
                self.partial_fill_next = False
                self._partial.add(order.perm_id)
            if order.silent and self.silent_cancel:
                order.status = "Cancelled"
                return
            book = self._book.get(order.symbol)
            if book is not None:
                self._match(order, book)

    def _what_if(self, w: asyncio.StreamWriter, f: list[str]) -> None:
        probe = TwsOrder(int(f[1]), self._client_id, 0, f[3], f[16], f[17], f[18], f[19], f[21], f[26], "PreSubmitted")
        fields = self.open_order_fields(probe)
        state = fields.index("PreSubmitted", 20)
        fields[state - 1] = 1  # whatIf
        for i in range(state + 1, state + 10):
            fields[i] = "1000.0"  # margin before / change / after
        self._send(w, *fields)

    def on_message(self, w: asyncio.StreamWriter, msg: int, f: list[str]) -> None:
        if msg == 1:  # reqMktData: version, reqId, contract (12), dnc flag, ticks, snapshot, ...
            if not self.market_data_entitled:
                self._send(w, 4, 2, int(f[2]), 354, "Requested market data is not subscribed.", "")
                return
            self._subs.append(_Sub(w, int(f[2]), "top", f[4]))
        elif msg == 97:  # reqTickByTickData: reqId, contract (12), tickType, numberOfTicks, ignoreSize
            if not self.tick_by_tick_entitled:
                text = (
                    f"Failed to request tick-by-tick data.{f[14]} tick-by-tick requests are not supported for {f[3]}."
                )
                self._send(w, 4, 2, int(f[1]), 10189, text, "")
                return
            self._subs.append(_Sub(w, int(f[1]), f[14], f[3]))
        elif msg in (2, 98):  # cancelMktData (version, reqId) / cancelTickByTickData (reqId)
            req_id = int(f[2] if msg == 2 else f[1])
            self._subs = [s for s in self._subs if not (s.writer is w and s.req_id == req_id)]

    def _executions(self, w: asyncio.StreamWriter, req_id: int) -> None:
        for execution in self.fills:
            self._send(w, *self._exec_fields(req_id, execution))
        for execution in self.fills:
            self._send(w, *self._commission_fields(execution))
        self._send(w, 55, 1, req_id)

    def drop_clients(self) -> None:
        self._subs.clear()
        super().drop_clients()

    def _drop(self, w: asyncio.StreamWriter) -> None:
        """Close one client connection (TWS closing a client that broke the message rate)."""
        self._subs = [s for s in self._subs if s.writer is not w]
        if w in self._writers:
            self._writers.remove(w)
        w.close()

    # ------------------------------------------------------------ market
    async def _play(self) -> None:
        while True:
            await asyncio.sleep(self.pace_ms / 1000)
            if not self.ticks:
                continue
            if self.tick_index >= len(self.ticks):
                if not self.loop_ticks:
                    continue
                self.tick_index = 0
            self.step()

    def step(self) -> Tick:
        """Play the next tick: send it to subscribers, then match working orders against it."""
        tick = self.ticks[self.tick_index % len(self.ticks)]
        self.tick_index += 1
        self._book[tick.symbol] = tick
        now = int(time.time())
        for sub in list(self._subs):
            if sub.symbol != tick.symbol or sub.writer.is_closing():
                continue
            if sub.kind == "top":
                self._send(sub.writer, 1, 6, sub.req_id, 1, tick.bid, tick.bid_size, 0)
                self._send(sub.writer, 1, 6, sub.req_id, 2, tick.ask, tick.ask_size, 0)
                if tick.last is not None:
                    self._send(sub.writer, 1, 6, sub.req_id, 4, tick.last, tick.last_size, 0)
            elif sub.kind == "BidAsk":
                self._send(sub.writer, 99, sub.req_id, 3, now, tick.bid, tick.ask, tick.bid_size, tick.ask_size, 0)
            elif sub.kind == "AllLast" and tick.last is not None:
                self._send(sub.writer, 99, sub.req_id, 2, now, tick.last, tick.last_size, 0, "ISLAND", "")
        for order in [o for o in self.open_orders() if o.symbol == tick.symbol]:
            self._match(order, tick)
        return tick

    def _match(self, order: TwsOrder, tick: Tick) -> None:
        if order.status not in _WORKING:
            return
        buy = order.action == "BUY"
        touch = tick.ask if buy else tick.bid
        if order.order_type == "LMT":
            limit = Decimal(order.limit_price)
            if (buy and limit < touch) or (not buy and limit > touch):
                if order.tif == "IOC":
                    self._finish(order, "Cancelled")
                return
        remaining = Decimal(order.quantity) - Decimal(order.filled)
        shares = remaining
        if order.perm_id in self._partial and remaining > 1:
            self._partial.discard(order.perm_id)
            shares = (remaining / 2).to_integral_value()
        self._fill(order, shares, touch)
        if order.tif == "IOC" and order.status in _WORKING:
            self._finish(order, "Cancelled")

    def _fill(self, order: TwsOrder, shares: Decimal, price: Decimal) -> None:
        self._exec_seq += 1
        fee = commission(shares)
        stamp = datetime.now(UTC).strftime("%Y%m%d %H:%M:%S") + " UTC"
        execution = Execution(
            f"0000e0d5.{self._exec_seq:08d}.01.01",
            order.perm_id,
            order.order_ref,
            order.symbol,
            "BOT" if order.action == "BUY" else "SLD",
            shares,
            price,
            fee,
            order.client_id,
            stamp,
        )
        self.fills.append(execution)
        filled = Decimal(order.filled) + shares
        order.filled = str(filled)
        order.avg_price = str(price)
        if filled >= Decimal(order.quantity):
            order.status = "Filled"
        self._move_position(order.symbol, shares if order.action == "BUY" else -shares, price)
        w = self._writer_of.get(order.client_id)
        if w is None or w.is_closing() or w not in self._writers or order.silent:
            return
        self._send_order(w, order)
        self._send(w, *self._exec_fields(-1, execution))
        self._send(w, *self._commission_fields(execution))

    def _finish(self, order: TwsOrder, status: str) -> None:
        order.status = status
        w = self._writer_of.get(order.client_id)
        if w is not None and w in self._writers and not order.silent:
            self._send_status(w, order)

    def _move_position(self, symbol: str, delta: Decimal, price: Decimal) -> None:
        rows = {s: (Decimal(q), Decimal(a)) for s, q, a in self.positions}
        qty, avg = rows.get(symbol, (Decimal(0), Decimal(0)))
        new = qty + delta
        if new == 0:
            avg = Decimal(0)
        elif qty == 0 or (qty > 0) != (new > 0):
            avg = price
        elif abs(new) > abs(qty):
            avg = (qty * avg + delta * price) / new
        rows[symbol] = (new, avg)
        self.positions = [(s, str(q), str(a)) for s, (q, a) in rows.items()]

    # ------------------------------------------------------------ encoders
    def _exec_fields(self, req_id: int, e: Execution) -> list[object]:
        order = self.orders.get(e.perm_id)
        return exec_fields(order.order_id if order is not None else 0, req_id, e)

    @staticmethod
    def _commission_fields(e: Execution) -> list[object]:
        return commission_fields(e)
