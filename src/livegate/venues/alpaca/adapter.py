"""The Alpaca adapter: alpaca-py's ``TradingClient`` and ``TradingStream`` behind :class:`VenueAdapter`.

alpaca-py's REST client is synchronous (``requests``); every call runs in a worker thread
(:func:`asyncio.to_thread`) under a per-request timeout and the shared per-key budget of
:mod:`livegate.venues.rate_budget`. Clients are built with ``raw_data=True`` so decimals
stay strings until :mod:`livegate.venues.alpaca.mapping` reads them exactly.

Quirks decided on purpose (docs/venues_equities.md):

* alpaca-py retries 429 and 504 inside ``_request`` by default, three times with a 3 s
  sleep, for every method including ``POST /v2/orders``. A retried submit under the same
  client order id turns an accepted order into a "client_order_id must be unique" 422, so
  the adapter sets the client's retry count to 0; idempotent reads are retried here with
  tenacity instead, and submits never are (docs/architecture.md §3.6).
* ``requests`` has no default timeout; a mounted transport adapter gives every request
  ``request_timeout_secs``.
* Orders are posted with decimal strings (``"qty": "129.7"``) through the client's
  ``post``: alpaca-py's request models hold quantities as ``float``.
* ``TradingStream.run()`` owns its own event loop; the adapter awaits the stream's
  coroutine (``_run_forever``) on the running loop instead, which keeps alpaca-py's
  reconnect-with-backoff (1 s doubling to 30 s).
* alpaca-py reconnects silently. The adapter wraps each stream's ``_start_ws`` (the one
  place every connect passes) so that a reconnect imports the fills the gap may have
  hidden and then yields a :class:`~livegate.venues.base.StreamInterrupted` marker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import requests
from alpaca.common.enums import Sort
from alpaca.data.enums import DataFeed
from alpaca.data.live.crypto import CryptoDataStream
from alpaca.data.live.stock import StockDataStream
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass, QueryOrderStatus
from alpaca.trading.requests import GetAssetsRequest, GetOrdersRequest
from alpaca.trading.stream import TradingStream
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from livegate.domain.clock import Clock, WallClock
from livegate.domain.enums import OrderStatus, OrderType
from livegate.domain.errors import Ambiguous, ConfigError, Fatal, InvariantViolation, Rejected, Retryable
from livegate.domain.instruments import Instrument
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.modes.preflight_artifact import CheckResult
from livegate.risk.pdt import PdtAccount
from livegate.venues.alpaca.account import (
    VenueClockHours,
    account_problems,
    clock_hours,
    pdt_account,
    position_cost,
)
from livegate.venues.alpaca.errors import AlpacaOp, translate_error
from livegate.venues.alpaca.fills import fill_from_activity
from livegate.venues.alpaca.mapping import (
    balance_from_account,
    instrument_from_asset,
    order_report,
    order_snapshot,
    position_from_json,
    trade_update_report,
)
from livegate.venues.alpaca.market_data import AlpacaMarketData
from livegate.venues.base import MarketDataEvent, ReportSink, VenueCapabilities
from livegate.venues.rate_budget import key_fingerprint, shared_limiter

__all__ = ["NYSE_CALENDAR", "AlpacaAdapter"]

log = logging.getLogger("livegate.venues.alpaca")

#: exchange_calendars name of the NYSE session calendar used for Alpaca equities.
NYSE_CALENDAR = "XNYS"

T = TypeVar("T")


class _TimeoutTransport(requests.adapters.HTTPAdapter):
    """A ``requests`` transport that applies a default timeout and never retries."""

    def __init__(self, timeout_secs: float) -> None:
        super().__init__(max_retries=0)
        self._timeout_secs = timeout_secs

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout_secs
        return super().send(request, **kwargs)


class AlpacaAdapter:
    """Alpaca trading (equities and crypto) through alpaca-py.

    Parameters
    ----------
    api_key, secret_key:
        Alpaca API key id and secret (``LIVEGATE_ALPACA_API_KEY`` /
        ``LIVEGATE_ALPACA_API_SECRET`` through the credentials loader). Never logged.
    symbols:
        Symbols to trade in Alpaca's naming: ``"AAPL"`` (equity) or ``"BTC/USD"`` (crypto).
    clock:
        Source of timestamps the venue does not give.
    paper:
        True for the paper endpoints (testnet), False for live.
    name:
        Venue name used in reports and ledger records.
    url_override, stream_url_override, stock_data_url_override, crypto_data_url_override:
        Base URLs replacing Alpaca's (tests point them at a loopback server).
    request_timeout_secs:
        Timeout of one REST request; a submit that exceeds it is ambiguous.
    read_retry_attempts, read_retry_wait_secs:
        Tenacity attempts and first backoff for idempotent reads (never for submits).
    rate_limit_per_min:
        Shared request budget of the key; Alpaca allows 200 requests per minute.
    cancel_confirm_attempts, cancel_confirm_wait_secs:
        Re-reads of a cancelled order while it is still ``pending_cancel``.
    feed:
        Stock market-data feed, ``"iex"`` or ``"sip"`` (``[alpaca] feed``).
    trading:
        False builds a market-data-only adapter (shadow, paper): no account, order or
        trade-updates call is ever made; equities get the one-share lot.
    fractional:
        ``[equities] allow_fractional``: fractionable equities get Alpaca's 1e-9 share lot.
    """

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        *,
        symbols: Sequence[str],
        clock: Clock | None = None,
        paper: bool = True,
        name: str = "alpaca",
        url_override: str | None = None,
        stream_url_override: str | None = None,
        stock_data_url_override: str | None = None,
        crypto_data_url_override: str | None = None,
        request_timeout_secs: float = 10.0,
        read_retry_attempts: int = 3,
        read_retry_wait_secs: float = 0.5,
        rate_limit_per_min: int = 200,
        cancel_confirm_attempts: int = 3,
        cancel_confirm_wait_secs: float = 0.2,
        feed: str = "iex",
        trading: bool = True,
        fractional: bool = False,
    ) -> None:
        if not api_key or not secret_key:
            raise ConfigError("alpaca: api_key and secret_key are required")
        self.name = name
        self.capabilities = VenueCapabilities(
            sandbox=True,
            native_cancel_all=trading,
            positions=trading,
            fetch_by_client_order_id=trading,
            order_stream=trading,
            market_data_stream=True,
            server_time=trading,
        )
        self._trading = trading
        self._fractional = fractional
        self._fractionable: set[str] = set()
        self._hours: VenueClockHours | None = None
        self._seen_fills: set[str] = set()
        self._gap_since_ms: int | None = None
        self.calendar_name = NYSE_CALENDAR
        self._symbols = list(symbols)
        self._clock: Clock = clock or WallClock()
        self._timeout_secs = request_timeout_secs
        self._read_attempts = max(1, read_retry_attempts)
        self._read_wait_secs = read_retry_wait_secs
        self._cancel_attempts = cancel_confirm_attempts
        self._cancel_wait_secs = cancel_confirm_wait_secs
        self._key_id = key_fingerprint(api_key)
        self._rate_limit_per_min = rate_limit_per_min
        self._client = TradingClient(api_key, secret_key, paper=paper, raw_data=True, url_override=url_override)
        self._client._retry = 0  # no SDK retries: see the module docstring
        transport = _TimeoutTransport(request_timeout_secs)
        self._client._session.mount("https://", transport)
        self._client._session.mount("http://", transport)
        self._trade_stream = TradingStream(
            api_key,
            secret_key,
            paper=paper,
            raw_data=True,
            url_override=stream_url_override,  # type: ignore[arg-type]  # alpaca-py annotates str, defaults None
        )
        self._stream_factory: Callable[[bool], Any] = lambda crypto: (
            CryptoDataStream(api_key, secret_key, raw_data=True, url_override=crypto_data_url_override)
            if crypto
            else StockDataStream(
                api_key, secret_key, raw_data=True, feed=DataFeed(feed), url_override=stock_data_url_override
            )
        )
        self._market = AlpacaMarketData(self.name, self._clock, self._stream_factory, self._import_gap_fills)
        self._market.watch(self._trade_stream, "trade_updates stream reconnected")
        self._stream_task: asyncio.Task[None] | None = None
        self._sink: ReportSink | None = None
        self._instruments: dict[str, Instrument] = {}
        self._order_ids: dict[str, str] = {}

    # ----------------------------------------------------------------- lifecycle
    def bind(self, sink: ReportSink) -> None:
        """Register the callable that receives order reports and fills from the stream."""
        self._sink = sink

    async def connect(self) -> None:
        """Check the key on ``GET /v2/account``, load instruments and start the trade-updates stream.

        Raises
        ------
        Fatal
            Bad key, or the account is blocked from trading.
        ConfigError
            A configured symbol is not an active Alpaca asset.
        Ambiguous, Retryable
            Alpaca is unreachable or rate limiting.
        """
        if not self._trading:
            self._instruments = {s: _data_only_instrument(s, self.name) for s in self._symbols}
            return
        account = await self._read(self._client.get_account)
        problems = account_problems(account)
        if problems:
            raise Fatal(f"alpaca: the account cannot trade: {'; '.join(problems)}", "account_blocked")
        try:
            self._hours = clock_hours(await self._read(self._client.get_clock))
        except (KeyError, ValueError, Ambiguous, Retryable) as exc:
            log.warning("alpaca clock unreadable (%s): the exchange calendar decides market hours", exc)
            self._hours = None
        self._instruments = await self._load_instruments()
        self._gap_since_ms = self._clock.now_ms() - 60_000
        if self._stream_task is None:
            self._trade_stream.subscribe_trade_updates(self._on_trade_update)
            run = self._trade_stream._run_forever()  # type: ignore[no-untyped-call]
            self._stream_task = asyncio.create_task(run, name="alpaca-trade-updates")

    async def close(self) -> None:
        """Stop the trade-updates stream and the HTTP session; idempotent."""
        task, self._stream_task = self._stream_task, None
        if task is not None:
            await self._trade_stream.stop_ws()
            await self._trade_stream.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._client._session.close()

    def instruments(self) -> dict[str, Instrument]:
        """Return the loaded instruments by Alpaca symbol."""
        return dict(self._instruments)

    def calendar_for(self, symbol: str) -> str | None:
        """Return the exchange_calendars name for ``symbol``: XNYS for equities, None for 24/7 crypto."""
        return None if "/" in symbol else NYSE_CALENDAR

    # ----------------------------------------------------------------- orders
    async def submit(self, order: Order) -> OrderReport:
        """Post ``order`` to ``/v2/orders`` under its client order id; never retried.

        Raises
        ------
        Rejected
            Alpaca refused it (4xx with a code), or it asks for what Alpaca lacks (post-only).
        Ambiguous
            Timeout, disconnect, 5xx, unparseable answer, or a duplicate client order id.
        Retryable
            HTTP 429: nothing was placed.
        Fatal
            Authentication or permission.
        """
        intent = order.intent
        if not self._trading:
            raise Fatal("alpaca: market-data-only adapter (shadow/paper) cannot send orders", "DATA_ONLY")
        if intent.post_only:
            raise Rejected("alpaca has no post-only orders", "UNSUPPORTED")
        payload: dict[str, str | bool] = {
            "symbol": intent.symbol,
            "qty": _plain(intent.quantity),
            "side": intent.side.value,
            "type": intent.order_type.value,
            "time_in_force": intent.time_in_force.value,
            "client_order_id": order.client_order_id,
        }
        if intent.order_type is OrderType.LIMIT:
            if intent.price is None:
                raise Rejected("limit order without a price", "INVALID_PRICE")
            payload["limit_price"] = _plain(intent.price)
        fractional = intent.quantity != intent.quantity.to_integral_value()
        if intent.outside_rth or fractional:
            # Alpaca takes extended-hours and fractional orders only as DAY orders
            payload["time_in_force"] = "day"
        if intent.outside_rth:
            payload["extended_hours"] = True
        raw = await self._call(AlpacaOp.SUBMIT, self._client.post, "/orders", payload)
        report = self._parse(AlpacaOp.SUBMIT, order_report, raw)
        if report.venue_order_id:
            self._order_ids[order.client_order_id] = report.venue_order_id
        return report

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel by client order id (``DELETE /v2/orders/{id}``), then read the order back.

        Alpaca answers 204 when it accepts the cancel; the order is re-read (up to
        ``cancel_confirm_attempts`` times while ``pending_cancel``) to report its state.

        Raises
        ------
        Rejected
            Unknown order (404) or no longer cancelable (422).
        """
        order_id = self._order_ids.get(client_order_id)
        if order_id is None:
            snapshot = await self.fetch_order(client_order_id, symbol)
            if snapshot is None:
                raise Rejected(f"alpaca: no order {client_order_id!r}", "UNKNOWN_ORDER")
            order_id = snapshot.venue_order_id
        return await self._cancel_by_id(order_id, client_order_id)

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        """Cancel every open order: native ``DELETE /v2/orders`` without a symbol, else one by one.

        The native answer lists each order with an HTTP status; 200 means Alpaca accepted
        the cancel and is reported CANCELLED (the stream's ``canceled`` event confirms it).
        """
        if symbol is not None:
            open_now = await self.open_orders(symbol)
            return [await self._cancel_by_id(o.venue_order_id, o.client_order_id) for o in open_now]
        rows = await self._call(AlpacaOp.CANCEL, self._client.cancel_orders)
        reports: list[OrderReport] = []
        for row in rows or []:
            body = row.get("body") or {}
            if int(row.get("status", 0)) != 200:
                log.warning("alpaca cancel-all: order %s answered %s", row.get("id"), row.get("status"))
                continue
            reports.append(
                OrderReport(
                    client_order_id=str(body.get("client_order_id", "")),
                    status=OrderStatus.CANCELLED,
                    ts_ms=self._clock.now_ms(),
                    venue_order_id=str(row.get("id", "")),
                )
            )
        return reports

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Return the order by client order id (``GET /v2/orders:by_client_order_id``); None on 404."""
        try:
            raw = await self._read(self._client.get_order_by_client_id, client_order_id)
        except Rejected as exc:
            if exc.code.startswith("404"):
                return None
            raise
        snapshot = self._parse(AlpacaOp.READ, order_snapshot, raw)
        self._order_ids[client_order_id] = snapshot.venue_order_id
        return snapshot

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return open orders (of ``symbol`` when given), oldest first (at most 500)."""
        request = GetOrdersRequest(
            status=QueryOrderStatus.OPEN, limit=500, direction=Sort.ASC, symbols=[symbol] if symbol else None
        )
        rows = await self._read(self._client.get_orders, request)
        return [self._parse(AlpacaOp.READ, order_snapshot, row) for row in rows or []]

    async def positions(self) -> list[PositionSnapshot]:
        """Return open positions (``GET /v2/positions``), shorts negative."""
        rows = await self._read(self._client.get_all_positions)
        return [self._parse(AlpacaOp.READ, position_from_json, row) for row in rows or []]

    async def balances(self) -> list[BalanceSnapshot]:
        """Return the account's cash at cost (``GET /v2/account`` and ``GET /v2/positions``).

        ``total`` is ``cash`` plus the cost basis (Alpaca ``cost_basis``, else ``qty x
        avg_entry_price``; shorts negative) of every open position: buying shares moves cash into the position, so
        cash at cost changes only by realized PnL and fees, which is what reconciliation
        expects of a venue with positions. ``free`` stays ``non_marginable_buying_power``.
        """
        account = await self._read(self._client.get_account)
        cash = self._parse(AlpacaOp.READ, balance_from_account, account)
        rows = await self._read(self._client.get_all_positions)
        cost = sum((self._parse(AlpacaOp.READ, position_cost, row) for row in rows or []), Decimal(0))
        return [replace(cash, total=cash.total + cost)]

    # ----------------------------------------------------------------- market data
    def stream_market_data(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
        """Return quotes and trades of ``symbols`` from Alpaca's stock (``feed``) and crypto streams.

        After a reconnect of a data stream or of the trade-updates stream, the fills the gap
        hid are imported and a :class:`StreamInterrupted` marker comes first, so the session
        reconciles (:mod:`livegate.venues.alpaca.market_data`). Closing it stops the streams.
        """
        return self._market.stream(symbols)

    # ----------------------------------------------------------------- account, clock, fills
    async def ping(self) -> float:
        """Return the round-trip time of ``GET /v2/clock`` in seconds (:class:`VenueProbe`)."""
        started = asyncio.get_running_loop().time()
        await self._read(self._client.get_clock)
        return asyncio.get_running_loop().time() - started

    async def server_time_ms(self) -> int | None:
        """Return Alpaca's clock (``GET /v2/clock`` ``timestamp``) in ms; None in data-only mode."""
        if not self._trading:
            return None
        hours = self._parse(AlpacaOp.READ, clock_hours, await self._read(self._client.get_clock))
        return hours.read_ms

    def market_hours(self) -> VenueClockHours | None:
        """Return the market hours Alpaca's clock gave at connect (None before, or in data-only mode)."""
        return self._hours

    async def preflight_checks(self) -> list[CheckResult]:
        """Return the Alpaca checks of ``livegate preflight``: account status and the market clock.

        None in data-only mode (shadow and paper read only the data stream).
        """
        if not self._trading:
            return []
        account = await self._read(self._client.get_account)
        problems = account_problems(account)
        status = str(account.get("status", ""))
        detail = "; ".join(problems) or f"status {status}, trading not blocked"
        checks = [CheckResult("venue account", "FAIL" if problems else "PASS", f"{self.name}: {detail}")]
        hours = self._parse(AlpacaOp.READ, clock_hours, await self._read(self._client.get_clock))
        shown = "open" if hours.is_open(hours.read_ms) else "closed"
        checks.append(
            CheckResult("venue market clock", "PASS", f"{self.name}: alpaca clock says the market is {shown}")
        )
        return checks

    async def pdt_account(self) -> PdtAccount:
        """Return the account's pattern-day-trader facts (``GET /v2/account``)."""
        account = await self._read(self._client.get_account)
        return self._parse(AlpacaOp.READ, pdt_account, account)

    def fractionable_symbols(self) -> frozenset[str]:
        """Return the equities Alpaca marks ``fractionable`` (after :meth:`connect`)."""
        return frozenset(self._fractionable)

    async def recent_fills(self, since_ms: int | None = None) -> list[Fill]:
        """Return the account's fills (``GET /v2/account/activities/FILL``), oldest first (at most 100)."""
        params: dict[str, str] = {"direction": "asc", "page_size": "100"}
        if since_ms is not None:
            params["after"] = _iso(since_ms - 1)
        rows = await self._read(self._client.get, "/account/activities/FILL", params)
        by_order = {order_id: cid for cid, order_id in self._order_ids.items()}
        for row in rows or []:
            order_id = str(row.get("order_id", ""))
            if order_id and order_id not in by_order:
                order = await self._read(self._client.get_order_by_id, order_id)
                by_order[order_id] = str(order.get("client_order_id", ""))
                self._order_ids[by_order[order_id]] = order_id
        return [self._parse(AlpacaOp.READ, fill_from_activity, row, self.name, by_order) for row in rows or []]

    async def _import_gap_fills(self) -> None:
        """Push the fills the trade-updates stream may have missed while down (account activities).

        Fills since the first one this adapter saw (or since connect) that the stream never
        reported go to the sink, oldest first; the engine counts each fill id once. A failed
        read is logged: the reconciliation that follows the reconnect still compares fills.
        """
        if not self._trading or self._sink is None:
            return
        try:
            fills = await self.recent_fills(since_ms=self._gap_since_ms)
        except (Ambiguous, Retryable, Rejected, Fatal) as exc:
            log.warning("alpaca: fills of the stream gap not read: %s", exc.message)
            return
        for fill in fills:
            if fill.client_order_id and fill.fill_id not in self._seen_fills:
                log.warning("alpaca: fill %s of %s missed by the stream, imported", fill.fill_id, fill.client_order_id)
                self._seen_fills.add(fill.fill_id)
                self._sink(fill)

    # ----------------------------------------------------------------- internals
    async def _on_trade_update(self, message: Any) -> None:
        data = message.get("data") if isinstance(message, dict) else None
        if not isinstance(data, dict):
            return
        try:
            report = trade_update_report(data, self.name)
        except (ValueError, KeyError) as exc:
            log.error("alpaca trade update could not be parsed: %s", exc)
            return
        if report is None:
            return
        if not isinstance(report, OrderReport) or report.venue_order_id:
            order = data.get("order") or {}
            if order.get("client_order_id") and order.get("id"):
                self._order_ids[str(order["client_order_id"])] = str(order["id"])
        if isinstance(report, Fill):
            self._seen_fills.add(report.fill_id)
        if self._sink is not None:
            self._sink(report)

    async def _cancel_by_id(self, order_id: str, client_order_id: str) -> OrderReport:
        await self._call(AlpacaOp.CANCEL, self._client.cancel_order_by_id, order_id)
        report = OrderReport(client_order_id, OrderStatus.CANCEL_PENDING, self._clock.now_ms(), venue_order_id=order_id)
        for attempt in range(max(1, self._cancel_attempts)):
            try:
                raw = await self._read(self._client.get_order_by_id, order_id)
            except (Ambiguous, Retryable, Rejected) as exc:
                log.warning("alpaca cancel %s: read-back failed: %s", client_order_id, exc.message)
                break
            report = self._parse(AlpacaOp.READ, order_report, raw)
            if report.status is not OrderStatus.CANCEL_PENDING:
                break
            if attempt + 1 < self._cancel_attempts:
                await asyncio.sleep(self._cancel_wait_secs)
        return report

    async def _load_instruments(self) -> dict[str, Instrument]:
        found: dict[str, Instrument] = {}
        crypto = {s for s in self._symbols if "/" in s}
        if crypto:
            request = GetAssetsRequest(asset_class=AssetClass.CRYPTO)
            for row in await self._read(self._client.get_all_assets, request) or []:
                if row.get("symbol") in crypto and row.get("tradable", True):
                    inst = self._parse(AlpacaOp.READ, instrument_from_asset, row, self.name)
                    found[inst.symbol] = inst
        for symbol in self._symbols:
            if symbol in crypto:
                continue
            try:
                row = await self._read(self._client.get_asset, symbol)
            except Rejected as exc:
                raise ConfigError(f"alpaca: unknown asset {symbol!r}: {exc.message}") from exc
            inst = self._parse(AlpacaOp.READ, instrument_from_asset, row, self.name)
            if row.get("fractionable"):
                self._fractionable.add(symbol)
                if self._fractional:
                    inst = replace(inst, lot_size=FRACTIONAL_LOT, min_quantity=FRACTIONAL_LOT)
            found[symbol] = inst
        missing = sorted(set(self._symbols) - set(found))
        if missing:
            raise ConfigError(f"alpaca: not tradable or unknown: {', '.join(missing)}")
        return found

    async def _call(self, op: AlpacaOp, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one sync alpaca-py call in a thread, under the budget and a timeout, translating errors."""
        async with shared_limiter("alpaca", self._key_id, self._rate_limit_per_min, 60.0):
            try:
                return await asyncio.wait_for(asyncio.to_thread(fn, *args), self._timeout_secs + 1.0)
            except Exception as exc:
                raise translate_error(exc, op) from exc

    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run an idempotent read, retrying rate limits and transient failures with backoff."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((Retryable, Ambiguous)),
            stop=stop_after_attempt(self._read_attempts),
            wait=wait_exponential(multiplier=self._read_wait_secs, max=10.0),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call(AlpacaOp.READ, fn, *args)
        raise InvariantViolation("tenacity ended without a result")  # pragma: no cover

    @staticmethod
    def _parse(op: AlpacaOp, parse: Callable[..., T], *args: Any) -> T:
        try:
            return parse(*args)
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise translate_error(ValueError(f"{type(exc).__name__}: {exc}"), op) from exc


#: Alpaca fractional equity orders take up to 9 decimal places (Alpaca "Fractional Trading").
FRACTIONAL_LOT = Decimal("0.000000001")


def _data_only_instrument(symbol: str, venue: str) -> Instrument:
    """Return an equity's instrument without asking the trading API (cent tick, one-share lot)."""
    return instrument_from_asset({"symbol": symbol, "class": "us_equity"}, venue)


def _iso(ts_ms: int) -> str:
    """Return ``ts_ms`` as RFC 3339 UTC with milliseconds, e.g. ``2026-12-02T15:00:00.000Z``."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value: Decimal) -> str:
    """Return ``value`` as a plain decimal string (no exponent), e.g. ``1E-9`` → ``0.000000001``."""
    return format(value, "f")
