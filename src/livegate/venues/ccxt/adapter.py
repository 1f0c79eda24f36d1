"""The CCXT venue adapter: any ccxt exchange id behind :class:`~livegate.venues.base.VenueAdapter`.

REST calls go through ``ccxt.async_support`` and streams through ``ccxt.pro`` (one
``ccxt.pro.<id>`` object serves both when the exchange has a pro class). Every ccxt
exception is translated once in :mod:`livegate.venues.ccxt.errors`. Submit is never
retried here: an ambiguous outcome is resolved by the execution engine with
:meth:`CcxtAdapter.fetch_order` before any resend (docs/architecture.md §3.6). Idempotent reads are
retried with tenacity on Retryable/Ambiguous, and every call takes a token from a rate
budget shared per venue and API key.

The adapter is a :class:`~livegate.reconcile.fills.FillHistory` (``recent_fills``,
from ccxt ``fetchMyTrades``). On an exchange whose ccxt class lacks ``fetchMyTrades``
(none of the six tested ones; e.g. dydx, upbit) ``recent_fills`` refuses (Rejected
``NotSupported``) rather than report an empty history, so reconciliation stops there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from livegate.domain.clock import Clock, WallClock, monotonic_secs
from livegate.domain.enums import OrderStatus, OrderType, TimeInForce
from livegate.domain.errors import Ambiguous, ConfigError, Fatal, Rejected, Retryable, VenueError
from livegate.domain.instruments import Instrument
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.venues.base import MarketDataEvent, Report, ReportSink, StreamInterrupted, VenueCapabilities
from livegate.venues.ccxt.client_ids import CANCEL_BY_CLIENT_ID, FETCH_BY_CLIENT_ID, submit_params, venue_client_id
from livegate.venues.ccxt.config import CcxtConfig, CcxtCredentials, default_options, rewrite_urls
from livegate.venues.ccxt.convert import (
    to_balances,
    to_fill,
    to_instrument,
    to_order_report,
    to_order_snapshot,
    to_position,
    to_quote,
    to_trade,
)
from livegate.venues.ccxt.errors import answer_status, translate
from livegate.venues.ccxt.gap import FillGap
from livegate.venues.ccxt.request_guard import adapter_call, guard_requests
from livegate.venues.rate_budget import DEFAULT_WEIGHT_PER_MIN, WeightBudget, shared_limiter, shared_weight_budget

__all__ = ["CcxtAdapter"]

log = logging.getLogger("livegate.venues.ccxt")

_CcxtError: Any = ccxt_async.BaseError
_OrderNotFound: Any = ccxt_async.OrderNotFound
_ArgumentsRequired: Any = ccxt_async.ArgumentsRequired
#: Request weights of Binance endpoints by ccxt method (Binance Spot API, each endpoint's
#: "Weight"; USD-M's are equal or lower): GET /api/v3/order 4, GET /api/v3/openOrders 6 with
#: a symbol and 80 without, GET /api/v3/account 20, GET /api/v3/myTrades 20, GET /api/v3/allOrders 20,
#: GET /api/v3/exchangeInfo 20, order and cancel endpoints 1.
_WEIGHTS: dict[str, int] = {
    "fetch_order": 4,
    "fetch_closed_orders": 20,
    "fetch_orders": 20,
    "fetch_balance": 20,
    "fetch_my_trades": 20,
    "fetch_positions": 5,
    "load_markets": 20,
}
_CLIENT_ID_KEYS = ("clientOrderId", "c", "cl_ord_id", "client_order_id", "cloid", "client_id", "newClientOrderId")
_ACK_STATUSES = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.SUBMITTED)


class CcxtAdapter:
    """A venue adapter over one ccxt exchange.

    Parameters
    ----------
    config:
        Exchange id, sandbox flag, timeouts, option overrides and offline markets.
    credentials:
        API key/secret/password or wallet address/private key; empty for public-only use.
        Never logged (their ``repr`` is masked).
    clock:
        Source of timestamps when the venue gives none.

    Notes
    -----
    Every REST call takes a token from :func:`livegate.venues.rate_budget.shared_limiter`
    for (exchange id, key fingerprint): one budget per venue account, shared by every
    adapter on that key.
    """

    def __init__(
        self,
        config: CcxtConfig,
        credentials: CcxtCredentials | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._config = config
        self._credentials = credentials or CcxtCredentials()
        self._clock: Clock = clock or WallClock()
        self.name = config.name or f"ccxt:{config.exchange_id}"
        self._exchange_id = config.exchange_id
        self.exchange: Any = _build_exchange(config, self._credentials)
        guard_requests(self.exchange, self._weight_budget, self._clock.now_ms, self.name)
        has: Mapping[str, Any] = self.exchange.has
        self._has_native_cancel_all = has.get("cancelAllOrders") is True
        self.capabilities = VenueCapabilities(
            sandbox=bool(self.exchange.urls.get("test")),
            native_cancel_all=self._has_native_cancel_all,
            positions=bool(has.get("fetchPositions")) and not _spot_account(self.exchange, config.exchange_id),
            fetch_by_client_order_id=config.exchange_id in FETCH_BY_CLIENT_ID,
            order_stream=bool(has.get("watchOrders")),
            market_data_stream=bool(has.get("watchBidsAsks") or has.get("watchTicker")),
            server_time=bool(has.get("fetchTime")),
        )
        rate = config.requests_per_sec or max(1.0, 1000.0 / float(self.exchange.rateLimit or 50))
        self._rate_per_sec = rate
        self._sink: ReportSink | None = None
        self._instruments: dict[str, Instrument] = {}
        self._cid_by_venue_cid: dict[str, str] = {}
        self._cid_by_venue_oid: dict[str, str] = {}
        self._traded_symbols: set[str] = set(config.symbols)
        self._stream_tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self._has_my_trades = bool(has.get("fetchMyTrades"))
        #: last price per unified symbol (quote mid or fill price): values fees charged in a third asset (BNB)
        self._last_price: dict[str, Decimal] = {}
        self._gap = FillGap(config.exchange_id)
        self._md_queues: list[asyncio.Queue[MarketDataEvent | VenueError]] = []

    # ------------------------------------------------------------------ lifecycle
    def bind(self, sink: ReportSink) -> None:
        """Register the callable that receives order and fill reports from the private stream."""
        self._sink = sink

    async def connect(self) -> None:
        """Load markets (or install the configured table) and start the private order stream.

        Raises
        ------
        Fatal
            On authentication or permission errors.
        Retryable, Ambiguous
            When the venue is unreachable after the read retries.
        """
        ex = self.exchange
        if self._config.markets is not None:
            # a stored table may predate keys ccxt's parsers read: start from ccxt's own defaults
            base = ex.safe_market_structure()
            ex.set_markets({sym: ex.deep_extend(base, m) for sym, m in self._config.markets.items()})
        else:
            await self._read(ex.load_markets)
        self._instruments = {}
        for symbol, market in (ex.markets or {}).items():
            try:
                inst = to_instrument(market, self.name, int(ex.precisionMode))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("venue %s: market %s skipped: %s", self.name, symbol, exc)
                continue
            if inst is not None:
                self._instruments[str(symbol)] = inst
        if self._config.order_stream and self.capabilities.order_stream and self._credentials.present():
            self._start_order_stream()

    async def close(self) -> None:
        """Stop the streams and close ccxt's sessions; idempotent."""
        if self._closed:
            return
        self._closed = True
        for task in self._stream_tasks:
            task.cancel()
        await asyncio.gather(*self._stream_tasks, return_exceptions=True)
        self._stream_tasks.clear()
        await self.exchange.close()

    def instruments(self) -> dict[str, Instrument]:
        """Return tradable instruments (tick, lot, min notional) by unified symbol."""
        return dict(self._instruments)

    # ------------------------------------------------------------------ orders
    async def submit(self, order: Order) -> OrderReport:
        """Send ``order`` once under its client order id (mapped per exchange); never retried.

        Raises
        ------
        Rejected
            Definite refusal (insufficient funds, invalid order, unknown symbol...).
        Ambiguous
            Timeout, disconnect, 5xx, duplicate id or an unparsable answer.
        Retryable
            Rate limited before the venue took the order.
        Fatal
            Authentication, permission, ban.
        """
        intent = order.intent
        market = self._market(intent.symbol)
        vcid = venue_client_id(self._exchange_id, order.client_order_id)
        self._cid_by_venue_cid[vcid] = order.client_order_id
        params: dict[str, Any] = dict(submit_params(self._exchange_id, vcid))
        if intent.time_in_force is TimeInForce.IOC:
            params["timeInForce"] = "IOC"
        if intent.post_only:
            params["postOnly"] = True
        if intent.reduce_only:
            params["reduceOnly"] = True
        amount = float(intent.quantity / _contract_size(market))
        price = None if intent.price is None else float(intent.price)
        order_type = "market" if intent.order_type is OrderType.MARKET else "limit"
        result = await self._call(
            self.exchange.create_order, intent.symbol, order_type, intent.side.value, amount, price, params
        )
        self._traded_symbols.add(intent.symbol)
        try:
            report = to_order_report(result, order.client_order_id, self._clock.now_ms())
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise Ambiguous(f"{self.name}: unparsable submit answer: {exc}", "PARSE_FAILURE") from exc
        self._remember(report.venue_order_id, order.client_order_id)
        return report

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel one order by client order id (looked up first where ccxt cannot cancel by it).

        Raises
        ------
        Rejected
            The venue does not know the order (``OrderNotFound``) or refused the cancel.
        """
        vcid = venue_client_id(self._exchange_id, client_order_id)
        if self._exchange_id in CANCEL_BY_CLIENT_ID:
            result = await self._call(self.exchange.cancel_order, None, symbol, {"clientOrderId": vcid})
            venue_order_id = ""
        else:
            snapshot = await self.fetch_order(client_order_id, symbol)
            if snapshot is None:
                raise Rejected(f"{self.name}: no order {client_order_id!r} on {symbol}", "OrderNotFound")
            venue_order_id = snapshot.venue_order_id
            result = await self._call(self.exchange.cancel_order, venue_order_id, symbol)
        return self._cancel_report(result or {}, client_order_id, venue_order_id)

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        """Cancel every open order (of ``symbol`` when given): native ``cancelAllOrders`` where ccxt has it.

        The open orders are read first so each cancelled order can be reported by id.
        """
        open_orders = await self.open_orders(symbol)
        if not open_orders:
            return []
        if not self._has_native_cancel_all:
            reports = []
            for snap in open_orders:
                result = await self._call(self.exchange.cancel_order, snap.venue_order_id, snap.symbol)
                reports.append(self._cancel_report(result or {}, snap.client_order_id, snap.venue_order_id))
            return reports
        answered: dict[str, Any] = {}
        for sym in [symbol] if symbol else sorted({s.symbol for s in open_orders}):
            result = await self._call(self.exchange.cancel_all_orders, sym)
            for item in result if isinstance(result, list) else []:
                if isinstance(item, dict) and item.get("id"):
                    answered[str(item["id"])] = item
        return [
            self._cancel_report(answered.get(s.venue_order_id, {}), s.client_order_id, s.venue_order_id)
            for s in open_orders
        ]

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Look an order up by client order id: natively where ccxt can, else by scanning open and closed orders.

        Returns None when the venue has never seen the id.
        """
        vcid = venue_client_id(self._exchange_id, client_order_id)
        ex = self.exchange
        contract_size = _contract_size(self._market(symbol))
        self._traded_symbols.add(symbol)
        if self._exchange_id in FETCH_BY_CLIENT_ID:
            found = await self._read(ex.fetch_order, None, symbol, {"clientOrderId": vcid}, not_found_ok=True)
            if not found or not found.get("id"):
                return None
            self._remember(str(found["id"]), client_order_id)
            return to_order_snapshot(found, client_order_id, contract_size)
        scans: list[Callable[..., Awaitable[Any]]] = [ex.fetch_open_orders]
        if ex.has.get("fetchClosedOrders"):
            scans.append(ex.fetch_closed_orders)
        elif ex.has.get("fetchOrders"):
            scans.append(ex.fetch_orders)
        for scan in scans:
            for item in await self._read(scan, symbol) or []:
                if _venue_cid(item) == vcid:
                    self._remember(str(item.get("id") or ""), client_order_id)
                    return to_order_snapshot(item, client_order_id, contract_size)
        return None

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return the venue's open orders (client ids mapped back to ours where known)."""
        result = await self._read(self.exchange.fetch_open_orders, symbol)
        snapshots = [
            to_order_snapshot(item, self._our_cid(item), _contract_size(self._market_or_none(item.get("symbol"))))
            for item in result or []
        ]
        for snap in snapshots:
            if snap.client_order_id:
                self._remember(snap.venue_order_id, snap.client_order_id)
        return snapshots

    async def positions(self) -> list[PositionSnapshot]:
        """Return non-flat positions (signed, base units); empty when the exchange has none."""
        if not self.capabilities.positions:
            return []
        result = await self._read(self.exchange.fetch_positions)
        return [p for p in (to_position(item) for item in result or []) if p is not None]

    async def balances(self) -> list[BalanceSnapshot]:
        """Return balances per currency (total and free)."""
        return to_balances(await self._read(self.exchange.fetch_balance) or {})

    async def recent_fills(self, since_ms: int | None = None) -> list[Fill]:
        """Return the account's recent fills from ccxt ``fetchMyTrades``, oldest first (``FillHistory``).

        One call for all symbols where the exchange allows it; where ccxt requires a symbol
        (Binance) one call per symbol in ``CcxtConfig.symbols`` and the symbols this
        adapter has traded or looked up. "Recent" is the venue's default window (e.g.
        Binance: the last 500 trades per symbol, 7 days with ``since``) from ``since_ms``
        when given. Fill ids are the venue's trade ids, as in the private fill stream.
        The client order id is the trade's own where the venue reports one, else ours for
        a venue order id this adapter has seen (submit, lookup), else ``""``.

        Raises
        ------
        Rejected
            ``NotSupported`` when ccxt has no ``fetchMyTrades`` for this exchange: an empty
            list would read as "the venue has none of the ledger's fills".
        Ambiguous, Retryable, Fatal
            Translated venue errors (reads are retried first).
        """
        if not self._has_my_trades:
            raise Rejected(f"{self.name}: ccxt has no fetchMyTrades for {self._exchange_id}", "NotSupported")
        fetch = self.exchange.fetch_my_trades
        try:
            trades = list(await self._read(fetch, None, since_ms) or [])
        except Rejected as exc:
            if not isinstance(exc.__cause__, _ArgumentsRequired):
                raise
            trades = []
            for symbol in sorted(self._traded_symbols):
                if self._market_or_none(symbol) is not None:
                    trades.extend(await self._read(fetch, symbol, since_ms) or [])
        fills = [self._to_fill(item) for item in trades if isinstance(item, Mapping)]
        if since_ms is not None:
            fills = [f for f in fills if f.ts_ms >= since_ms]
        return sorted(fills, key=lambda f: (f.ts_ms, f.fill_id))

    # ------------------------------------------------------------------ probes (preflight)
    async def ping(self) -> float:
        """Return the round-trip time of one ``fetchTime`` (Binance ``GET /api/v3/time``, weight 1), in seconds.

        Raises
        ------
        Retryable, Ambiguous, Fatal
            When the venue is unreachable or refuses.
        """
        started = monotonic_secs()
        await self.server_time_ms()
        return monotonic_secs() - started

    async def server_time_ms(self) -> int | None:
        """Return the venue's clock (ccxt ``fetchTime``) in ms since the epoch, or None when ccxt has none."""
        if not self.capabilities.server_time:
            return None
        value = await self._read(self.exchange.fetch_time)
        return int(value) if value is not None else None

    def recv_window_ms(self) -> int | None:
        """Return the ``recvWindow`` (ms) signed requests carry, or None when the exchange uses none.

        A ccxt option; Binance refuses a request whose timestamp is outside it (error -1021).
        """
        value = self.exchange.options.get("recvWindow")
        return int(value) if isinstance(value, (int, float)) and value > 0 else None

    # ------------------------------------------------------------------ streams
    async def stream_market_data(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
        """Yield best bid/ask quotes and public trades of ``symbols`` from ccxt.pro.

        Uses ``watchBidsAsks`` where the exchange has it, else ``watchTicker``, and
        ``watchTrades``. Transient errors reconnect after a backoff and yield a
        :class:`~livegate.venues.base.StreamInterrupted` marker (the session reconciles
        before trading on); a Fatal error ends the iteration by raising it.

        Raises
        ------
        Fatal
            Authentication, permission or ban on the stream.
        """
        queue: asyncio.Queue[MarketDataEvent | VenueError] = asyncio.Queue()
        self._md_queues.append(queue)
        ex = self.exchange
        tasks: list[asyncio.Task[None]] = []

        async def quotes_all() -> None:
            async def once() -> None:
                tickers = await ex.watch_bids_asks(list(symbols))
                for ticker in (tickers or {}).values():
                    self._put_quote(queue, ticker)

            await self._watch_loop(once, queue)

        def quotes_one(symbol: str) -> Callable[[], Awaitable[None]]:
            async def once() -> None:
                self._put_quote(queue, await ex.watch_ticker(symbol))

            return once

        def trades_one(symbol: str) -> Callable[[], Awaitable[None]]:
            async def once() -> None:
                for item in await ex.watch_trades(symbol) or []:
                    trade = to_trade(item, self.name, self._clock.now_ms(), _recv_ns(self._clock))
                    if trade is not None:
                        queue.put_nowait(trade)

            return once

        if ex.has.get("watchBidsAsks"):
            tasks.append(asyncio.create_task(quotes_all()))
        else:
            tasks.extend(asyncio.create_task(self._watch_loop(quotes_one(s), queue)) for s in symbols)
        if ex.has.get("watchTrades"):
            tasks.extend(asyncio.create_task(self._watch_loop(trades_one(s), queue)) for s in symbols)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, VenueError):
                    raise item
                yield item
        finally:
            self._md_queues.remove(queue)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _put_quote(self, queue: asyncio.Queue[MarketDataEvent | VenueError], ticker: Any) -> None:
        quote = to_quote(ticker or {}, self.name, self._clock.now_ms(), _recv_ns(self._clock))
        if quote is not None:
            self._last_price[quote.symbol] = (quote.bid_price + quote.ask_price) / 2
            queue.put_nowait(quote)

    async def _watch_loop(
        self,
        once: Callable[[], Awaitable[None]],
        errors: asyncio.Queue[MarketDataEvent | VenueError] | None,
    ) -> None:
        backoff = self._config.read_backoff_secs
        while True:
            try:
                await once()
                backoff = self._config.read_backoff_secs
            except _CcxtError as exc:
                err = self._translate(exc)
                if isinstance(err, Fatal):
                    log.error("venue %s: stream stopped: %s", self.name, err.message)
                    if errors is not None:
                        errors.put_nowait(err)
                    return
                log.warning("venue %s: stream error, retrying in %.1fs: %s", self.name, backoff, err.message)
                if errors is not None:
                    # events may be lost until the reconnect: the session reconciles first
                    errors.put_nowait(StreamInterrupted(f"reconnect: {err.message}", self._clock.now_ms()))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def _start_order_stream(self) -> None:
        ex = self.exchange

        async def orders_once() -> None:
            for item in await ex.watch_orders() or []:
                self._emit(to_order_report(item, self._our_cid(item), self._clock.now_ms()))

        async def trades_once() -> None:
            for item in await ex.watch_my_trades() or []:
                self._emit(self._to_fill(item))

        self._stream_tasks.append(asyncio.create_task(self._private_loop(orders_once)))
        if ex.has.get("watchMyTrades"):
            self._stream_tasks.append(asyncio.create_task(self._private_loop(trades_once)))

    async def _private_loop(self, once: Callable[[], Awaitable[None]]) -> None:
        """Watch the private stream; after a drop, tell the session to reconcile and import the gap's fills."""
        backoff = self._config.read_backoff_secs
        dropped = False
        while True:
            try:
                if dropped:
                    await self._import_gap()
                    dropped = False
                await once()
                backoff = self._config.read_backoff_secs
            except _CcxtError as exc:
                err = self._translate(exc)
                if isinstance(err, Fatal):
                    log.error("venue %s: private stream stopped: %s", self.name, err.message)
                    self._interrupt(f"private stream stopped: {err.message}")
                    return
                log.warning(
                    "venue %s: private stream dropped, reconnecting in %.1fs: %s", self.name, backoff, err.message
                )
                dropped = True
                self._interrupt(f"private stream reconnect: {err.message}")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
            except VenueError as err:  # the gap import failed: reconciliation (already asked for) covers it
                log.warning("venue %s: fills of the stream gap not imported yet: %s", self.name, err.message)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def _import_gap(self) -> None:
        """Report the account's fills since the last one reported (see :mod:`livegate.venues.ccxt.gap`)."""
        if not self._has_my_trades:
            return
        fills: list[Fill] = []
        for symbol, since_ms, params in self._gap.requests(self._traded_symbols):
            if self._market_or_none(symbol) is None:
                continue
            trades = await self._read(self.exchange.fetch_my_trades, symbol, since_ms, None, params)
            fills.extend(self._to_fill(t) for t in trades or [] if isinstance(t, Mapping))
        for fill in self._gap.new(fills):
            log.info("venue %s: fill %s from the stream gap imported", self.name, fill.fill_id)
            self._emit(fill)

    def _interrupt(self, reason: str) -> None:
        """Put a :class:`StreamInterrupted` marker into every open market-data stream (the session reconciles)."""
        marker = StreamInterrupted(reason, self._clock.now_ms())
        for queue in self._md_queues:
            queue.put_nowait(marker)

    def _emit(self, report: Report) -> None:
        if isinstance(report, Fill):
            self._gap.saw(report)
        if self._sink is None:
            log.warning("venue %s: report dropped, no sink bound: %r", self.name, report)
            return
        self._sink(report)

    # ------------------------------------------------------------------ helpers
    async def _call(self, fn: Callable[..., Awaitable[Any]], *args: Any, not_found_ok: bool = False) -> Any:
        """Send one request within the rate and weight budgets; translate its errors once.

        Raises
        ------
        Retryable
            Not sent: the weight budget is spent, a ``Retry-After`` window or an IP ban
            runs (code ``RATE_BUDGET``); or the venue answered 429.
        Fatal, Rejected, Ambiguous
            Translated venue errors (see :mod:`livegate.venues.ccxt.errors`).
        """
        limiter = shared_limiter(self._exchange_id, self._credentials.fingerprint(), self._rate_per_sec, 1.0)
        budget = self._weight_budget()
        async with limiter:
            if budget is not None:
                name = getattr(fn, "__name__", "")
                now = self._clock.now_ms()
                refused = budget.take(_weight(fn, args), now, cancel=name in _CANCELS, new_order=name == "create_order")
                if refused is not None:
                    raise Retryable(
                        f"{self.name}: not sent: {refused}", "RATE_BUDGET", retry_at_ms=_retry_at(budget, now)
                    )
            try:
                with adapter_call():
                    result = await fn(*args)
            except _OrderNotFound as exc:
                self._observe(budget, 400)
                if not_found_ok:
                    return None
                raise self._translate(exc) from exc
            except _CcxtError as exc:
                status, code = answer_status(exc)
                self._observe(budget, status, code)
                error = self._translate(exc)
                if budget is not None and status is not None:
                    error.retry_at_ms = _retry_at(budget, self._clock.now_ms())
                raise error from exc
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                # ccxt's own parser failed on the venue's answer: the outcome is unknown
                raise Ambiguous(
                    f"{self.name}: unparsable answer: {type(exc).__name__}: {exc}", "PARSE_FAILURE"
                ) from exc
            self._observe(budget, 200)
            return result

    def _weight_budget(self) -> WeightBudget | None:
        """Return the request-weight budget: ``[venue] rate_weight_per_min``, else the venue's published limit."""
        limit = self._config.rate_weight_per_min or DEFAULT_WEIGHT_PER_MIN.get(self._exchange_id)
        if limit is None:
            return None
        return shared_weight_budget(self._exchange_id, self._credentials.fingerprint(), limit)

    def _observe(self, budget: WeightBudget | None, status: int | None, code: int | None = None) -> None:
        if budget is None:
            return
        headers = self.exchange.last_response_headers
        budget.observe(status, headers if isinstance(headers, dict) else None, self._clock.now_ms(), code)

    async def _read(self, fn: Callable[..., Awaitable[Any]], *args: Any, not_found_ok: bool = False) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((Retryable, Ambiguous)),
            stop=stop_after_attempt(max(1, self._config.read_retry_attempts)),
            wait=wait_exponential(multiplier=self._config.read_backoff_secs, max=30),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call(fn, *args, not_found_ok=not_found_ok)
        raise Ambiguous(f"{self.name}: read retries exhausted")  # pragma: no cover - reraise=True

    def _translate(self, exc: Exception) -> VenueError:
        return translate(
            exc,
            venue=self.name,
            last_body=getattr(self.exchange, "last_json_response", None),
            exchange_id=self._exchange_id,
        )

    def _cancel_report(self, result: Mapping[str, Any], client_order_id: str, venue_order_id: str) -> OrderReport:
        report = to_order_report(result, client_order_id, self._clock.now_ms(), default=OrderStatus.CANCELLED)
        status = OrderStatus.CANCELLED if report.status in _ACK_STATUSES else report.status
        return OrderReport(
            client_order_id=client_order_id,
            status=status,
            ts_ms=report.ts_ms,
            venue_order_id=report.venue_order_id or venue_order_id,
            filled_quantity=report.filled_quantity,
        )

    def _our_cid(self, item: Mapping[str, Any]) -> str:
        vcid = _venue_cid(item)
        return self._cid_by_venue_cid.get(vcid, vcid)

    def _remember(self, venue_order_id: str, client_order_id: str) -> None:
        if venue_order_id and client_order_id:
            self._cid_by_venue_oid[venue_order_id] = client_order_id

    def _to_fill(self, trade: Mapping[str, Any]) -> Fill:
        """Convert a unified trade of this account (stream or ``fetchMyTrades``) into a :class:`Fill`."""
        symbol = trade.get("symbol")
        inst = self._instruments.get(str(symbol))
        cid = self._our_cid(trade) or self._cid_by_venue_oid.get(str(trade.get("order") or ""), "")
        size = _contract_size(self._market_or_none(symbol))
        quote = inst.quote_currency if inst else ""
        fill = to_fill(
            trade,
            cid,
            quote,
            self.name,
            self._clock.now_ms(),
            size,
            base_currency=inst.base_currency if inst else "",
            asset_price=lambda asset: self._last_price.get(f"{asset}/{quote}"),
        )
        if fill.price > 0:
            self._last_price[fill.symbol] = fill.price
        return fill

    def _market(self, symbol: str) -> Mapping[str, Any]:
        market = self._market_or_none(symbol)
        if market is None:
            raise Rejected(f"{self.name}: unknown symbol {symbol!r}", "BadSymbol")
        return market

    def _market_or_none(self, symbol: object) -> Mapping[str, Any] | None:
        markets = self.exchange.markets or {}
        market = markets.get(str(symbol)) if symbol is not None else None
        return market if isinstance(market, Mapping) else None


_CANCELS = frozenset({"cancel_order", "cancel_all_orders"})


def _retry_at(budget: WeightBudget, now_ms: int) -> int | None:
    """Return when the budget lets a request go again (a Retry-After window or a ban), None when it does now."""
    wait = budget.wait_ms(now_ms)
    return now_ms + wait if wait else None


def _weight(fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> int:
    """Return the request weight of ccxt method ``fn`` called with ``args`` (see ``_WEIGHTS``)."""
    name = getattr(fn, "__name__", "")
    if name == "fetch_open_orders":
        return 6 if args and args[0] else 80
    return _WEIGHTS.get(name, 1)


def _venue_cid(item: Mapping[str, Any]) -> str:
    value = item.get("clientOrderId")
    if not value:
        info = item.get("info")
        if isinstance(info, Mapping):
            for key in _CLIENT_ID_KEYS:
                if info.get(key):
                    value = info[key]
                    break
    return "" if value is None else str(value)


def _spot_account(exchange: Any, exchange_id: str) -> bool:
    """Return True for ccxt's ``binance`` class on its default spot account: it has no positions.

    (ccxt's ``fetchPositions`` there would silently read the USD-M futures account.)
    """
    return exchange_id == "binance" and exchange.options.get("defaultType", "spot") == "spot"


def _contract_size(market: Mapping[str, Any] | None) -> Decimal:
    if market is None or not market.get("contract"):
        return Decimal(1)
    size = market.get("contractSize")
    return Decimal(str(size)) if size else Decimal(1)


def _recv_ns(clock: Clock) -> int:
    return clock.now_ms() * 1_000_000


def _build_exchange(config: CcxtConfig, credentials: CcxtCredentials) -> Any:
    exchange_id = config.exchange_id
    cls = getattr(ccxt_pro, exchange_id, None) or getattr(ccxt_async, exchange_id, None)
    if cls is None or exchange_id not in ccxt_async.exchanges:
        raise ConfigError(f"unknown ccxt exchange id {exchange_id!r}")
    exchange = cls(
        {
            **credentials.to_ccxt(),
            "enableRateLimit": False,  # livegate's shared budget (limits.py) paces requests
            "enableLastJsonResponse": True,  # venue error codes, see errors.venue_code
            "timeout": config.timeout_ms,
        }
    )
    # nested option tables (e.g. fetchOpenOrders) are merged, not replaced: ccxt keeps keys of its own there
    exchange.options = exchange.deep_extend(exchange.options, default_options(exchange_id), dict(config.options))
    if config.sandbox:
        if not exchange.urls.get("test"):
            raise ConfigError(f"ccxt exchange {exchange_id!r} has no sandbox (urls['test'])")
        exchange.set_sandbox_mode(True)
    if config.markets_precision_mode is not None:
        exchange.precisionMode = config.markets_precision_mode
    if config.rest_url or config.ws_url:
        exchange.urls["api"] = rewrite_urls(exchange.urls["api"], config.rest_url, config.ws_url)
    return exchange
