"""The Interactive Brokers adapter: ib_async against TWS / IB Gateway behind :class:`VenueAdapter`.

* Ports: 7497 is TWS paper trading (livegate's testnet), 7496 TWS live (IB Gateway uses
  4002 / 4001; pass ``port``).
* Orders (``orderRef`` = our client order id, ``permId`` = the venue order id, TWS's
  asynchronous answers): :mod:`livegate.venues.ibkr.orders`.
* The API connection (pacing ≥ 100 ms apart, request timeouts, reconnect with backoff):
  :mod:`livegate.venues.ibkr.connection`. After a reconnect the fills TWS made meanwhile
  are imported (``reqExecutions``) and the market-data stream yields a
  :class:`~livegate.venues.base.StreamInterrupted` marker (the session reconciles) and
  subscribes again.
* Connecting does not replay stale order state: open orders are read on demand
  (``reqOpenOrders``) by :meth:`fetch_order`, :meth:`open_orders` and the cancels;
  orders finished in earlier TWS sessions are read with ``reqCompletedOrders`` when a
  lookup finds nothing else, and fills with ``reqExecutions`` (:meth:`recent_fills`).
* An execution correction (a new ``execId`` for an earlier execution) is reported as a
  :class:`~livegate.domain.orders.FillCorrection`, never counted as a fill
  (:mod:`livegate.venues.ibkr.corrections`).
* Instruments come from contract details (``minTick``, ``minSize``, ``sizeIncrement``;
  :mod:`livegate.venues.ibkr.contracts`), market data from tick-by-tick or top-of-book
  streams (:mod:`livegate.venues.ibkr.market_data`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from ib_async import Stock

from livegate.domain.clock import Clock, WallClock
from livegate.domain.errors import VenueError
from livegate.domain.instruments import Instrument
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.modes.preflight_artifact import CheckResult
from livegate.venues.base import MarketDataEvent, ReportSink, VenueCapabilities
from livegate.venues.ibkr.connection import TwsConnection
from livegate.venues.ibkr.contracts import instrument_from_details
from livegate.venues.ibkr.corrections import corrected_exec_id
from livegate.venues.ibkr.errors import AMBIGUOUS_CODES, TwsError, is_warning
from livegate.venues.ibkr.executions import read_executions
from livegate.venues.ibkr.fills import FillRelay
from livegate.venues.ibkr.mapping import to_decimal, to_ms
from livegate.venues.ibkr.market_data import IbkrMarketData, MarketDataChoice
from livegate.venues.ibkr.orders import IbkrOrders
from livegate.venues.ibkr.probes import api_check, market_data_check, read_only_check

__all__ = ["LIVE_PORT", "PAPER_PORT", "IbkrAdapter"]

log = logging.getLogger("livegate.venues.ibkr")

PAPER_PORT = 7497
LIVE_PORT = 7496


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
        self._clock: Clock = clock or WallClock()
        self._tws = TwsConnection(
            host,
            port,
            client_id,
            account,
            connect_timeout_secs=connect_timeout_secs,
            request_timeout_secs=request_timeout_secs,
            pacing_interval_secs=pacing_interval_secs,
            reconnect_initial_secs=reconnect_initial_secs,
            reconnect_max_secs=reconnect_max_secs,
            on_reconnected=self._on_reconnected,
        )
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
        self._ib = self._tws.ib
        self._orders = IbkrOrders(self._tws, self._contracts, self._clock, submit_ack_timeout_secs)
        self._ib.orderStatusEvent += self._orders.on_status
        self._ib.execDetailsEvent += self._fills.on_exec
        self._ib.commissionReportEvent += self._fills.on_commission
        self._ib.errorEvent += self._on_error
        self._ib.disconnectedEvent += self._on_disconnected
        self._market = IbkrMarketData(self._ib, self._contracts, self._clock, name, market_data)
        self._since_ms: int | None = None

    # ----------------------------------------------------------------- lifecycle
    def bind(self, sink: ReportSink) -> None:
        """Register the callable that receives order reports and fills."""
        self._orders.sink = sink
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
        self._since_ms = self._clock.now_ms()
        await self._tws.open()
        await self._load_instruments()

    async def _load_instruments(self) -> None:
        for symbol, contract in list(self._contracts.items()):
            await self._tws.pacer.wait()
            details = await self._tws.request(self._ib.reqContractDetailsAsync(contract))
            self._instruments[symbol] = instrument_from_details(symbol, self.name, self._currency, details)
            if details:
                self._contracts[symbol] = details[0].contract

    async def close(self) -> None:
        """Stop reconnecting and disconnect; idempotent."""
        await self._tws.stop_reconnecting()
        self._fills.close()
        self._tws.disconnect()
        self._orders.fail_pending(ConnectionError("adapter closed"))
        self._market.close()

    @property
    def connected(self) -> bool:
        """Return True while the API connection to TWS is up."""
        return bool(self._ib.isConnected())

    @property
    def endpoint(self) -> str:
        """Return the TWS API socket and client id, e.g. ``127.0.0.1:7497 client 1`` (shown by preflight)."""
        return f"{self._tws.host}:{self._tws.port} client {self._tws.client_id}"

    @property
    def account(self) -> str:
        """Return the account code the session trades (after :meth:`connect`)."""
        return self._tws.account

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
        self._tws.ensure_connected()
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
        checks = [api_check(self._ib, self._tws.host, self._tws.port, self._tws.account)]
        if not self._ib.isConnected() or not self._contracts:
            return checks
        contract = next(iter(self._contracts.values()))
        await self._tws.pacer.wait()
        checks.append(await read_only_check(self._ib, contract, self._tws.account, self._tws.request_timeout))
        symbols = list(self._contracts)
        checks.append(
            await market_data_check(
                self.stream_market_data, symbols, lambda: self.market_data_kinds, max(self._tws.request_timeout, 5.0)
            )
        )
        return checks

    async def server_time_ms(self) -> int:
        """Return TWS's clock (``reqCurrentTime``, whole seconds) in ms since the epoch."""
        self._tws.ensure_connected()
        moment = await self._tws.request(self._ib.reqCurrentTimeAsync())
        return to_ms(moment)

    # ----------------------------------------------------------------- orders
    async def submit(self, order: Order) -> OrderReport:
        """Place ``order`` and wait for TWS's first answer (see :meth:`IbkrOrders.submit`)."""
        return await self._orders.submit(order)

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel the order with this ``orderRef`` and wait for ``Cancelled`` (see :meth:`IbkrOrders.cancel`)."""
        return await self._orders.cancel(client_order_id, symbol)

    async def cancel_all(self, symbol: str | None = None, *, everything: bool = False) -> list[OrderReport]:
        """Cancel this API client's working orders, of ``symbol`` when given (see :meth:`IbkrOrders.cancel_all`)."""
        return await self._orders.cancel_all(symbol, everything=everything)

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Return the newest acknowledged order with this ``orderRef`` (see :meth:`IbkrOrders.fetch_order`).

        An order found (partly) filled first has its executions pushed to the sink from
        ``reqExecutions`` (each ``execId`` once, with its commission): a lookup settling an
        order of unknown outcome brings TWS's own fills, not a stand-in for the quantity.
        """
        snapshot = await self._orders.fetch_order(client_order_id, symbol)
        if snapshot is not None and snapshot.filled_quantity > 0:
            try:
                executions = await self._executions(None)
            except VenueError as exc:
                log.warning("ibkr: executions of %s not read (%s)", client_order_id, exc)
                return snapshot
            for fill in executions:
                if fill.client_order_id == client_order_id:
                    self._fills.push(fill)
        return snapshot

    async def recent_fills(self, since_ms: int | None = None) -> list[Fill]:
        """Return this account's fills of livegate orders (``orderRef`` set) from ``reqExecutions``.

        TWS keeps executions of the current day (and up to 7 days in TWS's trade log);
        ``since_ms`` filters by execution time, floored to the second (TWS stamps executions
        in whole seconds). Oldest first; fee from the commission report when TWS sent one,
        else 0. Corrections of earlier executions (:mod:`livegate.venues.ibkr.corrections`)
        are left out (logged): imported as fills they would count an execution twice; the
        session that heard one halted on it (anomaly ``fill_corrected``).
        """
        originals: list[Fill] = []
        for fill in await self._executions(since_ms):
            if corrected_exec_id(fill.fill_id) is None:
                originals.append(fill)
            else:
                log.warning("ibkr execution %s is a correction: not imported as a fill", fill.fill_id)
        return originals

    async def _executions(self, since_ms: int | None) -> list[Fill]:
        """Return every execution of livegate orders since ``since_ms`` (corrections too), oldest first."""
        return await read_executions(self._tws, since_ms, self.name)

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return this client's acknowledged working orders (see :meth:`IbkrOrders.open_orders`)."""
        return await self._orders.open_orders(symbol)

    async def positions(self) -> list[PositionSnapshot]:
        """Return non-flat positions (``reqPositions``); ``average_price`` is IB's average cost."""
        await self._tws.pacer.wait()
        rows = await self._tws.request(self._ib.reqPositionsAsync())
        return [
            PositionSnapshot(
                str(p.contract.symbol), to_decimal(p.position), to_decimal(p.avgCost) if p.avgCost else None
            )
            for p in rows
            if p.position != 0 and (not self._tws.account or p.account == self._tws.account)
        ]

    async def balances(self) -> list[BalanceSnapshot]:
        """Return cash per currency from the account subscription.

        ``total`` is ``TotalCashValue`` and ``free`` is ``AvailableFunds`` (falls back to
        ``total``), per currency; the ``BASE`` aggregate rows are skipped.
        """
        totals: dict[str, Decimal] = {}
        free: dict[str, Decimal] = {}
        for value in self._ib.accountValues(self._tws.account):
            if value.currency in ("", "BASE"):
                continue
            if value.tag == "TotalCashValue":
                totals[value.currency] = Decimal(value.value)
            elif value.tag == "AvailableFunds":
                free[value.currency] = Decimal(value.value)
        return [BalanceSnapshot(c, t, free.get(c, t)) for c, t in sorted(totals.items())]

    # ----------------------------------------------------------------- events
    def _on_error(self, req_id: int, code: int, message: str, contract: Any) -> None:
        if is_warning(code):
            log.info("ibkr notice %s (req %s): %s", code, req_id, message)
            return
        if self._market.on_error(req_id, code, message):
            log.warning("ibkr market data error %s (req %s): %s", code, req_id, message)
            return
        log.warning("ibkr error %s (req %s): %s", code, req_id, message)
        if req_id == -1:
            self._tws.connect_errors.append(TwsError(code, message))
            if code in AMBIGUOUS_CODES:
                self._orders.fail_pending(TwsError(code, message))
            return
        self._orders.on_request_error(req_id, code, message)

    def _on_disconnected(self) -> None:
        self._orders.fail_pending(ConnectionError("TWS connection lost"))
        self._tws.reconnect_later()

    async def _on_reconnected(self) -> None:
        try:
            await self._import_missed_fills()
        finally:  # market data comes back even when catching up on fills failed (the connection logs it)
            self._market.on_reconnected()

    async def _import_missed_fills(self) -> None:
        """Push the fills TWS made while the socket was down (``reqExecutions``), each once."""
        try:
            missed = await self._executions(self._since_ms)  # corrections too: pushed as such
        except VenueError as exc:
            log.warning("ibkr: executions after reconnect not read (%s); reconciliation will look again", exc)
            return
        for fill in missed:
            self._fills.push(fill)
