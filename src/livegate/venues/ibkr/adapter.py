"""The Interactive Brokers adapter: ib_async against TWS / IB Gateway behind :class:`VenueAdapter`.

* Ports: 7497 is TWS paper trading (livegate's testnet), 7496 TWS live (IB Gateway uses
  4002 / 4001; pass ``port``).
* ``orderRef`` carries our client order id; IB's ``permId`` (stable across sessions and
  clients) is the venue order id reported back.
* Every API request waits on an :class:`~livegate.venues.ibkr.pacing.ApiPacer` (≥ 100 ms
  apart).
* TWS answers orders asynchronously: :meth:`IbkrAdapter.submit` waits up to
  ``submit_ack_timeout_secs`` for the first status past ``PendingSubmit`` or an order
  error; no answer, a disconnect or IB error 1100 meanwhile is ambiguous.
* A dropped connection is re-opened in the background with exponential backoff
  (``reconnect_initial_secs`` doubling to ``reconnect_max_secs``).
  After a reconnect the market-data stream yields a
  :class:`~livegate.venues.base.StreamInterrupted` marker (the session reconciles) and
  subscribes again.
* Connecting does not replay stale order state: open orders are read on demand
  (``reqOpenOrders``) by :meth:`fetch_order`, :meth:`open_orders` and the cancels;
  orders finished in earlier TWS sessions are read with ``reqCompletedOrders`` when a
  lookup finds nothing else, and fills with ``reqExecutions`` (:meth:`recent_fills`).
* Instruments come from contract details (``minTick``, ``minSize``, ``sizeIncrement``;
  :mod:`livegate.venues.ibkr.contracts`), market data from tick-by-tick or top-of-book
  streams (:mod:`livegate.venues.ibkr.market_data`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ib_async import IB, ExecutionFilter, LimitOrder, MarketOrder, StartupFetch, Stock

from livegate.domain.clock import Clock, WallClock
from livegate.domain.enums import OrderStatus, OrderType, TimeInForce
from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable, VenueError
from livegate.domain.instruments import Instrument
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.modes.preflight_artifact import CheckResult
from livegate.venues.base import MarketDataEvent, ReportSink, VenueCapabilities
from livegate.venues.ibkr.contracts import instrument_from_details
from livegate.venues.ibkr.errors import AMBIGUOUS_CODES, FATAL_CODES, is_warning, translate_code
from livegate.venues.ibkr.fills import FillRelay
from livegate.venues.ibkr.mapping import (
    PENDING_STATUSES,
    ib_status,
    to_decimal,
    to_ms,
)
from livegate.venues.ibkr.market_data import IbkrMarketData, MarketDataChoice
from livegate.venues.ibkr.pacing import ApiPacer
from livegate.venues.ibkr.probes import api_check, market_data_check, read_only_check
from livegate.venues.ibkr.views import (
    commission_of,
    fill_of,
    find_trade,
    last_error,
    order_report,
    order_snapshot,
    status_of,
    working_trades,
)

__all__ = ["LIVE_PORT", "PAPER_PORT", "IbkrAdapter"]

log = logging.getLogger("livegate.venues.ibkr")

PAPER_PORT = 7497
LIVE_PORT = 7496
_STREAMED = frozenset({OrderStatus.ACCEPTED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED})
_NOT_CANCELABLE = "NOT_CANCELABLE"
_NOT_CONNECTED = "NOT_CONNECTED"


class TwsError(Exception):
    """A TWS error message about one request (the cause of a translated error)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class IbkrAdapter:
    """US equities at Interactive Brokers through ib_async.

    Parameters
    ----------
    host, port, client_id:
        TWS / IB Gateway API socket and the API client id (paper 7497, live 7496).
    symbols:
        Stock symbols to trade (routed ``SMART`` in USD by default).
    clock:
        Source of report times (IB order messages carry none).
    name:
        Venue name used in reports.
    account:
        Account code; empty picks the only managed account.
    exchange, currency:
        Routing exchange and currency of the stock contracts.
    connect_timeout_secs, submit_ack_timeout_secs, request_timeout_secs:
        Timeouts of the API handshake, the first answer to an order, and other requests.
    pacing_interval_secs:
        Minimum spacing of API requests (IBKR pacing; 0.1 s).
    reconnect_initial_secs, reconnect_max_secs:
        Backoff of the automatic reconnect after a dropped connection.
    commission_wait_secs:
        How long a fill waits for its commission report before it is reported with fee 0.
    paper:
        The session trades a paper account (``ibkr:paper``, livegate's testnet).
    market_data:
        ``auto`` (tick-by-tick, else top of book), ``tick_by_tick`` or ``top_of_book``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = PAPER_PORT,
        client_id: int = 1,
        *,
        symbols: Sequence[str],
        clock: Clock | None = None,
        name: str = "ibkr",
        account: str = "",
        exchange: str = "SMART",
        currency: str = "USD",
        connect_timeout_secs: float = 4.0,
        submit_ack_timeout_secs: float = 5.0,
        request_timeout_secs: float = 5.0,
        pacing_interval_secs: float = 0.1,
        reconnect_initial_secs: float = 1.0,
        reconnect_max_secs: float = 60.0,
        commission_wait_secs: float = 5.0,
        paper: bool | None = None,
        market_data: MarketDataChoice = "auto",
    ) -> None:
        self.name = name
        self.capabilities = VenueCapabilities(
            sandbox=port == PAPER_PORT if paper is None else paper,
            native_cancel_all=True,
            positions=True,
            fetch_by_client_order_id=True,
            order_stream=True,
            market_data_stream=True,
            server_time=True,
        )
        self._currency = currency
        self.calendar_name = "XNYS"
        self._host, self._port, self._client_id = host, port, client_id
        self._account = account
        self._clock: Clock = clock or WallClock()
        self._connect_timeout = connect_timeout_secs
        self._ack_timeout = submit_ack_timeout_secs
        self._request_timeout = request_timeout_secs
        self._pacer = ApiPacer(pacing_interval_secs)
        self._reconnect_initial = reconnect_initial_secs
        self._reconnect_max = reconnect_max_secs
        self._fills = FillRelay(name, commission_wait_secs)
        self._contracts = {s: Stock(s, exchange, currency) for s in symbols}
        self._instruments = {
            s: Instrument(
                symbol=s,
                venue=name,
                tick_size=Decimal("0.01"),
                lot_size=Decimal(1),
                min_notional=Decimal(0),
                quote_currency=currency,
                base_currency=s,
                min_quantity=Decimal(1),
            )
            for s in symbols
        }
        self._ib = IB()
        self._ib.orderStatusEvent += self._on_status
        self._ib.execDetailsEvent += self._fills.on_exec
        self._ib.commissionReportEvent += self._fills.on_commission
        self._ib.errorEvent += self._on_error
        self._ib.disconnectedEvent += self._on_disconnected
        self._market = IbkrMarketData(self._ib, self._contracts, self._clock, name, market_data)
        self._sink: ReportSink | None = None
        self._pending_submits: dict[int, asyncio.Future[OrderReport]] = {}
        self._pending_cancels: dict[int, asyncio.Future[OrderReport]] = {}
        self._accepted: set[str] = set()
        self._streamed: dict[str, OrderStatus] = {}
        self._connect_errors: list[TwsError] = []
        self._refreshing = 0
        self._closing = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self._since_ms: int | None = None

    # ----------------------------------------------------------------- lifecycle
    def bind(self, sink: ReportSink) -> None:
        """Register the callable that receives order reports and fills."""
        self._sink = sink
        self._fills.sink = sink

    async def connect(self) -> None:
        """Open the API connection, read positions and subscribe to account values.

        Raises
        ------
        Retryable
            TWS / IB Gateway is not reachable.
        Fatal
            TWS refused the client (326 client id in use, 502 API disabled, 503 too old),
            or has no contract details for a symbol (200).
        Ambiguous
            Contract details did not arrive within ``request_timeout_secs``.
        """
        self._closing = False
        self._since_ms = self._clock.now_ms()
        try:
            await self._connect_once()
        except (OSError, TimeoutError, ConnectionError) as exc:
            fatal = next((e for e in self._connect_errors if e.code in FATAL_CODES), None)
            if fatal is not None:
                raise Fatal(f"ibkr error {fatal.code}: {fatal.message}", str(fatal.code)) from exc
            raise Retryable(f"ibkr: TWS/IB Gateway not reachable at {self._host}:{self._port}", "connect") from exc
        await self._load_instruments()

    async def _connect_once(self) -> None:
        self._connect_errors.clear()
        await self._ib.connectAsync(
            self._host,
            self._port,
            clientId=self._client_id,
            timeout=self._connect_timeout,
            account=self._account,
            fetchFields=StartupFetch.POSITIONS | StartupFetch.ACCOUNT_UPDATES,
        )
        if not self._account:
            accounts = self._ib.managedAccounts()
            self._account = accounts[0] if accounts else ""

    async def _load_instruments(self) -> None:
        for symbol, contract in list(self._contracts.items()):
            await self._pacer.wait()
            details = await self._request(self._ib.reqContractDetailsAsync(contract))
            self._instruments[symbol] = instrument_from_details(symbol, self.name, self._currency, details)
            if details:
                self._contracts[symbol] = details[0].contract

    async def close(self) -> None:
        """Stop reconnecting and disconnect; idempotent."""
        self._closing = True
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._fills.close()
        if self._ib.isConnected():
            self._ib.disconnect()
        self._fail_pending(ConnectionError("adapter closed"))
        self._market.close()

    @property
    def connected(self) -> bool:
        """Return True while the API connection to TWS is up."""
        return bool(self._ib.isConnected())

    @property
    def endpoint(self) -> str:
        """Return the TWS API socket and client id, e.g. ``127.0.0.1:7497 client 1`` (shown by preflight)."""
        return f"{self._host}:{self._port} client {self._client_id}"

    @property
    def account(self) -> str:
        """Return the account code the session trades (after :meth:`connect`)."""
        return self._account

    @property
    def market_data_kinds(self) -> dict[str, str]:
        """Return ``tick_by_tick`` or ``top_of_book`` per streamed symbol."""
        return self._market.kinds

    def instruments(self) -> dict[str, Instrument]:
        """Return the configured stocks; tick and lot from contract details after :meth:`connect`."""
        return dict(self._instruments)

    def stream_market_data(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
        """Yield quotes and trades of ``symbols`` (see :mod:`livegate.venues.ibkr.market_data`)."""
        return self._market.stream(symbols)

    async def ping(self) -> float:
        """Return the round trip of ``reqCurrentTime`` in seconds.

        Raises
        ------
        Ambiguous
            Not connected, or no answer within ``request_timeout_secs``.
        """
        self._ensure_connected()
        started = asyncio.get_running_loop().time()
        await self.server_time_ms()
        return asyncio.get_running_loop().time() - started

    async def preflight_checks(self) -> list[CheckResult]:
        """Return the IBKR checks of ``livegate preflight``: API, read-only mode, market data.

        See :mod:`livegate.venues.ibkr.probes`. None when TWS is not connected (the common
        "venue reachable" check has failed already).
        """
        if not self.connected:
            return []
        checks = [api_check(self._ib, self._host, self._port, self._account)]
        if not self._ib.isConnected() or not self._contracts:
            return checks
        contract = next(iter(self._contracts.values()))
        await self._pacer.wait()
        checks.append(await read_only_check(self._ib, contract, self._account, self._request_timeout))
        symbols = list(self._contracts)
        checks.append(
            await market_data_check(
                self.stream_market_data, symbols, lambda: self.market_data_kinds, max(self._request_timeout, 5.0)
            )
        )
        return checks

    async def server_time_ms(self) -> int:
        """Return TWS's clock (``reqCurrentTime``, whole seconds) in ms since the epoch."""
        self._ensure_connected()
        moment = await self._request(self._ib.reqCurrentTimeAsync())
        return to_ms(moment)

    # ----------------------------------------------------------------- orders
    async def submit(self, order: Order) -> OrderReport:
        """Place ``order`` with ``orderRef`` = client order id and wait for TWS's first answer.

        Raises
        ------
        Rejected
            An order error from TWS (201, 110, 200, ...), an order IB cannot take, or no
            connection to TWS at the moment of sending (``NOT_CONNECTED``: nothing was sent).
        Ambiguous
            No answer within ``submit_ack_timeout_secs``, not connected, disconnect or
            IB error 1100 while waiting.
        Retryable
            IB error 100 (pacing violation): the order was dropped.
        Fatal
            IB error 203 (security not allowed for the account) and other permission codes.
        """
        intent = order.intent
        contract = self._contracts.get(intent.symbol)
        if contract is None:
            raise Rejected(f"ibkr: unknown symbol {intent.symbol!r}", "UNKNOWN_SYMBOL")
        if intent.post_only:
            raise Rejected("ibkr: post-only orders are not supported", "UNSUPPORTED")
        action = "BUY" if intent.side.value == "buy" else "SELL"
        tif = "IOC" if intent.time_in_force is TimeInForce.IOC else "GTC"
        extra: dict[str, Any] = {"orderRef": order.client_order_id, "tif": tif, "account": self._account}
        if intent.order_type is OrderType.LIMIT:
            if intent.price is None:
                raise Rejected("limit order without a price", "INVALID_PRICE")
            ib_order: Any = LimitOrder(action, float(intent.quantity), float(intent.price), **extra)
        else:
            ib_order = MarketOrder(action, float(intent.quantity), **extra)
        await self._pacer.wait()
        future: asyncio.Future[OrderReport] = asyncio.get_running_loop().create_future()
        if not self._ib.isConnected():
            raise Rejected("ibkr: not connected to TWS (reconnecting); order not sent", _NOT_CONNECTED)
        try:
            trade = self._ib.placeOrder(contract, ib_order)
        except ConnectionError as exc:  # ib_async refuses before writing a byte: definitely not sent
            raise Rejected("ibkr: not connected to TWS; order not sent", _NOT_CONNECTED) from exc
        order_id = int(trade.order.orderId)
        self._pending_submits[order_id] = future
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._ack_timeout)
        except TimeoutError as exc:
            raise Ambiguous(
                f"ibkr: no answer to order {order.client_order_id} in {self._ack_timeout}s", "timeout"
            ) from exc
        except TwsError as exc:
            raise translate_code(exc.code, exc.message) from exc
        except ConnectionError as exc:
            raise Ambiguous(f"ibkr: connection lost while placing {order.client_order_id}", "disconnect") from exc
        finally:
            self._pending_submits.pop(order_id, None)

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel the order whose ``orderRef`` is ``client_order_id`` and wait for ``Cancelled``.

        Raises
        ------
        Rejected
            Unknown order, already done, or TWS refused the cancel (161, 10147, 10148).
        Ambiguous
            No confirmation within ``request_timeout_secs`` or the connection dropped.
        """
        trade = self._find(client_order_id)
        if trade is None or trade.orderStatus.status in PENDING_STATUSES:
            await self._refresh_open_orders()
            trade = self._find(client_order_id)
        if trade is None:
            raise Rejected(f"ibkr: no order with orderRef {client_order_id!r}", "UNKNOWN_ORDER")
        if trade.isDone():
            raise Rejected(f"ibkr: order {client_order_id} is {trade.orderStatus.status}", _NOT_CANCELABLE)
        return await self._cancel_trade(trade)

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        """Cancel working orders: ``reqGlobalCancel`` without a symbol, else one by one."""
        await self._refresh_open_orders()
        working = [t for t in self._working() if symbol is None or t.contract.symbol == symbol]
        if symbol is not None:
            return [await self._cancel_trade(t) for t in working]
        await self._pacer.wait()
        self._ensure_connected()
        self._ib.reqGlobalCancel()  # type: ignore[no-untyped-call]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._request_timeout
        while any(not t.isDone() for t in working) and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return [self._report(t, self._status_of(t) or OrderStatus.CANCEL_PENDING) for t in working]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Return the newest order TWS acknowledged with this ``orderRef``; None when TWS has none.

        Open orders are re-read from TWS first; orders finished earlier in this session are
        known from their status messages. An order still ``PendingSubmit`` (never
        acknowledged) does not count as seen.
        """
        await self._refresh_open_orders()
        trade = self._find(client_order_id)
        if trade is None:
            await self._pacer.wait()
            self._ensure_connected()
            await self._request(self._ib.reqCompletedOrdersAsync(apiOnly=True))
            trade = self._find(client_order_id)
        return None if trade is None else self._snapshot(trade)

    async def recent_fills(self, since_ms: int | None = None) -> list[Fill]:
        """Return this account's fills of livegate orders (``orderRef`` set) from ``reqExecutions``.

        TWS keeps executions of the current day (and up to 7 days in TWS's trade log);
        ``since_ms`` filters by execution time, floored to the second (TWS stamps executions
        in whole seconds). Oldest first; fee from the commission report when TWS sent one,
        else 0.
        """
        await self._pacer.wait()
        self._ensure_connected()
        if since_ms is not None:
            since_ms -= since_ms % 1000  # TWS execution times are whole seconds
        since = "" if since_ms is None else datetime.fromtimestamp(since_ms / 1000, UTC).strftime("%Y%m%d-%H:%M:%S")
        rows = await self._request(self._ib.reqExecutionsAsync(ExecutionFilter(acctCode=self._account, time=since)))
        fills = [fill_of(row, commission_of(row), self.name) for row in rows if row.execution.orderRef]
        return sorted((f for f in fills if since_ms is None or f.ts_ms >= since_ms), key=lambda f: (f.ts_ms, f.fill_id))

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return this client's working orders TWS acknowledged, by order id."""
        await self._refresh_open_orders()
        trades = [t for t in self._working() if symbol is None or t.contract.symbol == symbol]
        return [self._snapshot(t) for t in sorted(trades, key=lambda t: int(t.order.orderId))]

    async def positions(self) -> list[PositionSnapshot]:
        """Return non-flat positions (``reqPositions``); ``average_price`` is IB's average cost."""
        await self._pacer.wait()
        rows = await self._request(self._ib.reqPositionsAsync())
        return [
            PositionSnapshot(
                str(p.contract.symbol), to_decimal(p.position), to_decimal(p.avgCost) if p.avgCost else None
            )
            for p in rows
            if p.position != 0 and (not self._account or p.account == self._account)
        ]

    async def balances(self) -> list[BalanceSnapshot]:
        """Return cash per currency from the account subscription.

        ``total`` is ``TotalCashValue`` and ``free`` is ``AvailableFunds`` (falls back to
        ``total``), per currency; the ``BASE`` aggregate rows are skipped.
        """
        totals: dict[str, Decimal] = {}
        free: dict[str, Decimal] = {}
        for value in self._ib.accountValues(self._account):
            if value.currency in ("", "BASE"):
                continue
            if value.tag == "TotalCashValue":
                totals[value.currency] = Decimal(value.value)
            elif value.tag == "AvailableFunds":
                free[value.currency] = Decimal(value.value)
        return [BalanceSnapshot(c, t, free.get(c, t)) for c, t in sorted(totals.items())]

    # ----------------------------------------------------------------- events
    def _on_status(self, trade: Any) -> None:
        cid = str(trade.order.orderRef or "")
        if not cid:
            return
        raw = str(trade.orderStatus.status)
        code, message = last_error(trade)
        status = ib_status(raw, was_accepted=cid in self._accepted, error_code=code)
        if status is None:
            return
        if status is OrderStatus.ACCEPTED:
            self._accepted.add(cid)
        order_id = int(trade.order.orderId)
        submit = self._pending_submits.get(order_id)
        if submit is not None and not submit.done():
            if raw in PENDING_STATUSES:
                return
            if status in (OrderStatus.REJECTED, OrderStatus.CANCELLED) and code not in (0, 202):
                submit.set_exception(TwsError(code, message))
            elif status is OrderStatus.REJECTED:
                submit.set_exception(TwsError(201, f"order {raw}"))
            else:
                submit.set_result(self._report(trade, status))
            return
        cancel = self._pending_cancels.get(order_id)
        if cancel is not None and not cancel.done():
            if status is OrderStatus.CANCELLED and code in (0, 202):
                cancel.set_result(self._report(trade, status))
            elif code and not is_warning(code):
                cancel.set_exception(TwsError(code, message))
            elif raw == "Filled":
                cancel.set_exception(TwsError(0, "order filled before the cancel"))
            return
        if status not in _STREAMED or self._streamed.get(cid) is status:
            return
        self._streamed[cid] = status
        if self._refreshing:
            return  # an answer to our own open-orders read is a snapshot, not news
        if self._sink is not None:
            self._sink(self._report(trade, status, code=str(code) if code else "", reason=message))

    def _on_error(self, req_id: int, code: int, message: str, contract: Any) -> None:
        if is_warning(code):
            log.info("ibkr notice %s (req %s): %s", code, req_id, message)
            return
        if self._market.on_error(req_id, code, message):
            log.warning("ibkr market data error %s (req %s): %s", code, req_id, message)
            return
        log.warning("ibkr error %s (req %s): %s", code, req_id, message)
        if req_id == -1:
            self._connect_errors.append(TwsError(code, message))
            if code in AMBIGUOUS_CODES:
                self._fail_pending(TwsError(code, message))
            return
        for pending in (self._pending_submits, self._pending_cancels):
            future = pending.get(req_id)
            if future is not None and not future.done() and not (pending is self._pending_cancels and code == 202):
                future.set_exception(TwsError(code, message))

    def _on_disconnected(self) -> None:
        self._fail_pending(ConnectionError("TWS connection lost"))
        if not self._closing and self._reconnect_task is None:
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect(), name="ibkr-reconnect")

    async def _reconnect(self) -> None:
        delay = self._reconnect_initial
        try:
            while not self._closing:
                await asyncio.sleep(delay)
                try:
                    await self._connect_once()
                except (OSError, TimeoutError, ConnectionError, VenueError) as exc:
                    log.warning("ibkr reconnect failed (%s); next try in %ss", type(exc).__name__, delay)
                    delay = min(delay * 2, self._reconnect_max)
                    continue
                log.info("ibkr reconnected to %s:%s", self._host, self._port)
                await self._import_missed_fills()
                self._market.on_reconnected()
                return
        finally:
            self._reconnect_task = None

    async def _import_missed_fills(self) -> None:
        """Push the fills TWS made while the socket was down (``reqExecutions``), each once."""
        try:
            missed = await self.recent_fills(self._since_ms)
        except VenueError as exc:
            log.warning("ibkr: executions after reconnect not read (%s); reconciliation will look again", exc)
            return
        for fill in missed:
            self._fills.push(fill)

    # ----------------------------------------------------------------- internals
    def _fail_pending(self, exc: Exception) -> None:
        for pending in (self._pending_submits, self._pending_cancels):
            for future in pending.values():
                if not future.done():
                    future.set_exception(exc)

    def _ensure_connected(self) -> None:
        if not self._ib.isConnected():
            raise Ambiguous("ibkr: not connected to TWS", "504")

    async def _request(self, awaitable: Any) -> Any:
        try:
            return await asyncio.wait_for(awaitable, self._request_timeout)
        except (TimeoutError, ConnectionError) as exc:
            raise Ambiguous(f"ibkr request failed: {type(exc).__name__}", "timeout") from exc

    async def _refresh_open_orders(self) -> None:
        await self._pacer.wait()
        self._ensure_connected()
        self._refreshing += 1
        try:
            await self._request(self._ib.reqOpenOrdersAsync())
        finally:
            self._refreshing -= 1

    async def _cancel_trade(self, trade: Any) -> OrderReport:
        order_id = int(trade.order.orderId)
        future: asyncio.Future[OrderReport] = asyncio.get_running_loop().create_future()
        self._pending_cancels[order_id] = future
        try:
            await self._pacer.wait()
            self._ensure_connected()
            self._ib.cancelOrder(trade.order)
            return await asyncio.wait_for(asyncio.shield(future), self._request_timeout)
        except TimeoutError as exc:
            raise Ambiguous(f"ibkr: cancel of {trade.order.orderRef} not confirmed", "timeout") from exc
        except TwsError as exc:
            error: VenueError = translate_code(exc.code, exc.message) if exc.code else Rejected(exc.message, "FILLED")
            raise error from exc
        except ConnectionError as exc:
            raise Ambiguous(f"ibkr: connection lost while cancelling {trade.order.orderRef}", "disconnect") from exc
        finally:
            self._pending_cancels.pop(order_id, None)

    def _find(self, client_order_id: str) -> Any:
        return find_trade(self._ib.trades(), client_order_id)

    def _working(self) -> list[Any]:
        return working_trades(self._ib.openTrades())

    def _status_of(self, trade: Any) -> OrderStatus | None:
        return status_of(trade, self._accepted)

    def _report(self, trade: Any, status: OrderStatus, *, code: str = "", reason: str = "") -> OrderReport:
        return order_report(trade, status, self._clock.now_ms(), code=code, reason=reason)

    def _snapshot(self, trade: Any) -> VenueOrderSnapshot:
        return order_snapshot(trade, self._status_of(trade) or OrderStatus.ACCEPTED, self._clock.now_ms())
