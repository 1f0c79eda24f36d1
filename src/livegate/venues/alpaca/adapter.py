"""The Alpaca adapter: alpaca-py's ``TradingClient`` and ``TradingStream`` behind :class:`VenueAdapter`.

alpaca-py's REST client is synchronous (``requests``); every call runs in a worker thread
under a per-request timeout and the shared per-key budget, with no SDK retries
(:mod:`livegate.venues.alpaca.calls`). Clients are built with ``raw_data=True`` so decimals
stay strings until :mod:`livegate.venues.alpaca.mapping` reads them exactly. Orders:
:mod:`livegate.venues.alpaca.orders`; instruments: :mod:`livegate.venues.alpaca.instruments`;
the trade-updates stream: :mod:`livegate.venues.alpaca.trade_updates`.

Quirks decided on purpose (docs/venues_equities.md):

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
from typing import Any

from alpaca.data.enums import DataFeed
from alpaca.data.live.crypto import CryptoDataStream
from alpaca.data.live.stock import StockDataStream
from alpaca.trading.stream import TradingStream

from livegate.domain.clock import Clock, WallClock
from livegate.domain.errors import Ambiguous, ConfigError, Fatal, Retryable
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
from livegate.venues.alpaca.calls import AlpacaCalls, trading_client
from livegate.venues.alpaca.errors import AlpacaOp
from livegate.venues.alpaca.fills import fill_from_activity
from livegate.venues.alpaca.instruments import data_only_instrument, load_instruments
from livegate.venues.alpaca.mapping import balance_from_account, position_from_json
from livegate.venues.alpaca.market_data import AlpacaMarketData
from livegate.venues.alpaca.orders import AlpacaOrders
from livegate.venues.alpaca.trade_updates import TradeUpdates
from livegate.venues.base import MarketDataEvent, ReportSink, VenueCapabilities
from livegate.venues.rate_budget import key_fingerprint

__all__ = ["NYSE_CALENDAR", "AlpacaAdapter"]

log = logging.getLogger("livegate.venues.alpaca")

#: exchange_calendars name of the NYSE session calendar used for Alpaca equities.
NYSE_CALENDAR = "XNYS"


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
        self.calendar_name = NYSE_CALENDAR
        self._symbols = list(symbols)
        self._clock: Clock = clock or WallClock()
        self._calls = AlpacaCalls(
            key_fingerprint(api_key),
            rate_limit_per_min,
            request_timeout_secs,
            max(1, read_retry_attempts),
            read_retry_wait_secs,
            self._clock,
        )
        self._client = trading_client(
            api_key, secret_key, paper=paper, url_override=url_override, request_timeout_secs=request_timeout_secs
        )
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
        self._order_ids: dict[str, str] = {}
        self._updates = TradeUpdates(
            self.name, trading=trading, order_ids=self._order_ids, recent_fills=self.recent_fills
        )
        self._market = AlpacaMarketData(self.name, self._clock, self._stream_factory, self._updates.import_gap_fills)
        self._market.watch(self._trade_stream, "trade_updates stream reconnected")
        self._stream_task: asyncio.Task[None] | None = None
        self._instruments: dict[str, Instrument] = {}
        self._orders = AlpacaOrders(
            self._client,
            self._calls,
            self._clock,
            self._order_ids,
            trading=trading,
            cancel_confirm_attempts=cancel_confirm_attempts,
            cancel_confirm_wait_secs=cancel_confirm_wait_secs,
        )

    # ----------------------------------------------------------------- lifecycle
    def bind(self, sink: ReportSink) -> None:
        """Register the callable that receives order reports and fills from the stream."""
        self._updates.sink = sink

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
            self._instruments = {s: data_only_instrument(s, self.name) for s in self._symbols}
            return
        account = await self._calls.read(self._client.get_account)
        problems = account_problems(account)
        if problems:
            raise Fatal(f"alpaca: the account cannot trade: {'; '.join(problems)}", "account_blocked")
        try:
            self._hours = clock_hours(await self._calls.read(self._client.get_clock))
        except (KeyError, ValueError, Ambiguous, Retryable) as exc:
            log.warning("alpaca clock unreadable (%s): the exchange calendar decides market hours", exc)
            self._hours = None
        self._instruments = await load_instruments(
            self._client,
            self._calls,
            self._symbols,
            self.name,
            fractional=self._fractional,
            fractionable=self._fractionable,
        )
        self._updates.gap_since_ms = self._clock.now_ms() - 60_000
        if self._stream_task is None:
            self._trade_stream.subscribe_trade_updates(self._updates.on_trade_update)
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
        """Post ``order`` under its client order id; never retried (see :meth:`AlpacaOrders.submit`)."""
        return await self._orders.submit(order)

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        """Cancel by client order id and read the order back (see :meth:`AlpacaOrders.cancel`)."""
        return await self._orders.cancel(client_order_id, symbol)

    async def cancel_all(self, symbol: str | None = None, *, everything: bool = False) -> list[OrderReport]:
        """Cancel livegate's open orders, of ``symbol`` when given (see :meth:`AlpacaOrders.cancel_all`)."""
        return await self._orders.cancel_all(symbol, everything=everything)

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Return the order by client order id; None when Alpaca has none (see :meth:`AlpacaOrders.lookup`).

        An order found (partly) filled first has its executions the stream never reported
        pushed to the sink from the account's fill activities
        (:meth:`TradeUpdates.import_order_fills`): a lookup settling an ambiguous submit
        brings the venue's fills under their execution ids, not a stand-in for them.
        """
        found = await self._orders.lookup(client_order_id)
        if found is None:
            return None
        snapshot, submitted_ms = found
        if snapshot.filled_quantity > 0:
            await self._updates.import_order_fills(client_order_id, submitted_ms - 1)
        return snapshot

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return open orders (of ``symbol`` when given), oldest first (see :meth:`AlpacaOrders.open_orders`)."""
        return await self._orders.open_orders(symbol)

    async def positions(self) -> list[PositionSnapshot]:
        """Return open positions (``GET /v2/positions``), shorts negative."""
        rows = await self._calls.read(self._client.get_all_positions)
        return [self._calls.parse(AlpacaOp.READ, position_from_json, row) for row in rows or []]

    async def balances(self) -> list[BalanceSnapshot]:
        """Return the account's cash at cost (``GET /v2/account`` and ``GET /v2/positions``).

        ``total`` is ``cash`` plus the cost basis (Alpaca ``cost_basis``, else ``qty x
        avg_entry_price``; shorts negative) of every open position: buying shares moves cash into the position, so
        cash at cost changes only by realized PnL and fees, which is what reconciliation
        expects of a venue with positions. ``free`` stays ``non_marginable_buying_power``.
        """
        account = await self._calls.read(self._client.get_account)
        cash = self._calls.parse(AlpacaOp.READ, balance_from_account, account)
        rows = await self._calls.read(self._client.get_all_positions)
        cost = sum((self._calls.parse(AlpacaOp.READ, position_cost, row) for row in rows or []), Decimal(0))
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
        await self._calls.read(self._client.get_clock)
        return asyncio.get_running_loop().time() - started

    async def server_time_ms(self) -> int | None:
        """Return Alpaca's clock (``GET /v2/clock`` ``timestamp``) in ms; None in data-only mode."""
        if not self._trading:
            return None
        hours = self._calls.parse(AlpacaOp.READ, clock_hours, await self._calls.read(self._client.get_clock))
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
        account = await self._calls.read(self._client.get_account)
        problems = account_problems(account)
        status = str(account.get("status", ""))
        detail = "; ".join(problems) or f"status {status}, trading not blocked"
        checks = [CheckResult("venue account", "FAIL" if problems else "PASS", f"{self.name}: {detail}")]
        hours = self._calls.parse(AlpacaOp.READ, clock_hours, await self._calls.read(self._client.get_clock))
        shown = "open" if hours.is_open(hours.read_ms) else "closed"
        checks.append(
            CheckResult("venue market clock", "PASS", f"{self.name}: alpaca clock says the market is {shown}")
        )
        return checks

    async def pdt_account(self) -> PdtAccount:
        """Return the account's pattern-day-trader facts (``GET /v2/account``)."""
        account = await self._calls.read(self._client.get_account)
        return self._calls.parse(AlpacaOp.READ, pdt_account, account)

    def fractionable_symbols(self) -> frozenset[str]:
        """Return the equities Alpaca marks ``fractionable`` (after :meth:`connect`)."""
        return frozenset(self._fractionable)

    async def recent_fills(self, since_ms: int | None = None) -> list[Fill]:
        """Return the account's fills (``GET /v2/account/activities/FILL``), oldest first (at most 100)."""
        params: dict[str, str] = {"direction": "asc", "page_size": "100"}
        if since_ms is not None:
            params["after"] = _iso(since_ms - 1)
        rows = await self._calls.read(self._client.get, "/account/activities/FILL", params)
        by_order = {order_id: cid for cid, order_id in self._order_ids.items()}
        for row in rows or []:
            order_id = str(row.get("order_id", ""))
            if order_id and order_id not in by_order:
                order = await self._calls.read(self._client.get_order_by_id, order_id)
                by_order[order_id] = str(order.get("client_order_id", ""))
                self._order_ids[by_order[order_id]] = order_id
        return [self._calls.parse(AlpacaOp.READ, fill_from_activity, row, self.name, by_order) for row in rows or []]


def _iso(ts_ms: int) -> str:
    """Return ``ts_ms`` as RFC 3339 UTC with milliseconds, e.g. ``2026-12-02T15:00:00.000Z``."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
