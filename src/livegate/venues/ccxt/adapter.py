"""The CCXT venue adapter: any ccxt exchange id behind :class:`~livegate.venues.base.VenueAdapter`.

REST calls go through ``ccxt.async_support`` and streams through ``ccxt.pro`` (one
``ccxt.pro.<id>`` object serves both when the exchange has a pro class;
:mod:`livegate.venues.ccxt.exchange`). Every ccxt exception is translated once in
:mod:`livegate.venues.ccxt.errors`. Submit is never retried here: an ambiguous outcome is
resolved by the execution engine with :meth:`CcxtAdapter.fetch_order` before any resend
(docs/architecture.md §3.6). Idempotent reads are retried with tenacity on
Retryable/Ambiguous, and every call takes a token from a rate budget shared per venue and
API key (:mod:`livegate.venues.ccxt.calls`). Streams: :mod:`livegate.venues.ccxt.market_data`
(quotes, trades) and :mod:`livegate.venues.ccxt.order_stream` (orders, fills).

The adapter is a :class:`~livegate.reconcile.fills.FillHistory` (``recent_fills``,
from ccxt ``fetchMyTrades``). On an exchange whose ccxt class lacks ``fetchMyTrades``
(none of the six tested ones; e.g. dydx, upbit) ``recent_fills`` refuses (Rejected
``NotSupported``) rather than report an empty history, so reconciliation stops there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import ccxt.async_support as ccxt_async

from livegate.domain.clock import Clock, WallClock, monotonic_secs
from livegate.domain.enums import OrderStatus, OrderType, TimeInForce
from livegate.domain.errors import Ambiguous, Rejected
from livegate.domain.ids import is_livegate_client_id
from livegate.domain.instruments import Instrument
from livegate.domain.orders import Fill, Order, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.venues.base import MarketDataEvent, ReportSink, VenueCapabilities
from livegate.venues.ccxt.account_map import AccountMap
from livegate.venues.ccxt.calls import CcxtCalls
from livegate.venues.ccxt.client_ids import (
    CANCEL_BY_CLIENT_ID,
    FETCH_BY_CLIENT_ID,
    HASHED_CLIENT_IDS,
    submit_params,
    venue_cid_of,
    venue_client_id,
)
from livegate.venues.ccxt.config import CcxtConfig, CcxtCredentials
from livegate.venues.ccxt.convert import (
    market_contract_size,
    to_balances,
    to_instrument,
    to_order_report,
    to_order_snapshot,
    to_position,
)
from livegate.venues.ccxt.exchange import build_exchange, spot_account
from livegate.venues.ccxt.market_data import CcxtMarketData
from livegate.venues.ccxt.order_stream import CcxtOrderStream
from livegate.venues.ccxt.request_guard import guard_requests
from livegate.venues.rate_budget import halt_requests

__all__ = ["CcxtAdapter"]

log = logging.getLogger("livegate.venues.ccxt")

_ArgumentsRequired: Any = ccxt_async.ArgumentsRequired
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
        self.exchange: Any = build_exchange(config, self._credentials)
        rate = config.requests_per_sec or max(1.0, 1000.0 / float(self.exchange.rateLimit or 50))
        self._calls = CcxtCalls(self.exchange, config, self._credentials, self._clock, self.name, rate)
        guard_requests(self.exchange, self._calls.weight_budget, self._clock.now_ms, self.name)
        has: Mapping[str, Any] = self.exchange.has
        self._has_native_cancel_all = has.get("cancelAllOrders") is True
        self.capabilities = VenueCapabilities(
            sandbox=bool(self.exchange.urls.get("test")),
            native_cancel_all=self._has_native_cancel_all,
            positions=bool(has.get("fetchPositions")) and not spot_account(self.exchange, config.exchange_id),
            fetch_by_client_order_id=config.exchange_id in FETCH_BY_CLIENT_ID,
            order_stream=bool(has.get("watchOrders")),
            market_data_stream=bool(has.get("watchBidsAsks") or has.get("watchTicker")),
            server_time=bool(has.get("fetchTime")),
            client_ids_hashed=config.exchange_id in HASHED_CLIENT_IDS,
        )
        self._map = AccountMap(self.exchange, self.name, self._clock, config.symbols)
        self._closed = False
        self._has_my_trades = bool(has.get("fetchMyTrades"))
        self._market_data = CcxtMarketData(
            self.exchange, config, self._clock, self.name, self._calls.translate, self._map.last_price
        )
        self._order_stream = CcxtOrderStream(
            self.exchange,
            config,
            self._clock,
            self.name,
            self._calls,
            self._map,
            interrupt=self._market_data.interrupt,
            has_my_trades=self._has_my_trades,
        )

    # ------------------------------------------------------------------ lifecycle
    def bind(self, sink: ReportSink) -> None:
        """Register the callable that receives order and fill reports from the private stream."""
        self._order_stream.sink = sink

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
            await self._calls.read(ex.load_markets)
        self._map.instruments = {}
        for symbol, market in (ex.markets or {}).items():
            try:
                inst = to_instrument(market, self.name, int(ex.precisionMode))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("venue %s: market %s skipped: %s", self.name, symbol, exc)
                continue
            if inst is not None:
                self._map.instruments[str(symbol)] = inst
        if self._config.order_stream and self.capabilities.order_stream and self._credentials.present():
            self._order_stream.start()

    async def close(self) -> None:
        """Stop the streams and close ccxt's sessions; idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._order_stream.close()
        await self.exchange.close()

    def instruments(self) -> dict[str, Instrument]:
        """Return tradable instruments (tick, lot, min notional) by unified symbol."""
        return dict(self._map.instruments)

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
        market = self._map.market(intent.symbol)
        vcid = venue_client_id(self._exchange_id, order.client_order_id)
        self._map.cid_by_venue_cid[vcid] = order.client_order_id
        params: dict[str, Any] = dict(submit_params(self._exchange_id, vcid))
        if intent.time_in_force is TimeInForce.IOC:
            params["timeInForce"] = "IOC"
        if intent.post_only:
            params["postOnly"] = True
        if intent.reduce_only:
            params["reduceOnly"] = True
        amount = float(intent.quantity / market_contract_size(market))
        price = None if intent.price is None else float(intent.price)
        order_type = "market" if intent.order_type is OrderType.MARKET else "limit"
        result = await self._calls.call(
            self.exchange.create_order, intent.symbol, order_type, intent.side.value, amount, price, params
        )
        self._map.traded_symbols.add(intent.symbol)
        try:
            report = to_order_report(result, order.client_order_id, self._clock.now_ms())
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise Ambiguous(f"{self.name}: unparsable submit answer: {exc}", "PARSE_FAILURE") from exc
        self._map.remember(report.venue_order_id, order.client_order_id)
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
            result = await self._calls.call(self.exchange.cancel_order, None, symbol, {"clientOrderId": vcid})
            venue_order_id = ""
        else:
            snapshot = await self.fetch_order(client_order_id, symbol)
            if snapshot is None:
                raise Rejected(f"{self.name}: no order {client_order_id!r} on {symbol}", "OrderNotFound")
            venue_order_id = snapshot.venue_order_id
            result = await self._calls.call(self.exchange.cancel_order, venue_order_id, symbol)
        return self._cancel_report(result or {}, client_order_id, venue_order_id)

    async def cancel_all(self, symbol: str | None = None, *, everything: bool = False) -> list[OrderReport]:
        """Cancel livegate's open orders (of ``symbol`` when given); outside orders are left open.

        The open orders are read first, so each cancelled order is reported by id and
        orders livegate did not make (:func:`~livegate.domain.ids.is_livegate_client_id`:
        typed into the web UI, sent by another program) are told apart. On a symbol where
        all open orders are livegate's, ccxt's native ``cancelAllOrders`` (Binance
        ``DELETE /api/v3/openOrders``, every order of the symbol) where the exchange has
        it; where an outside order rests too, livegate's are cancelled one by one.
        ``everything`` (``livegate cancel-all --venue``): the outside ones as well.

        Its requests, the open-order read included, take weight like cancels
        (:func:`~livegate.venues.rate_budget.halt_requests`): the session's reads cannot
        have spent what a cancel-all needs.
        """
        with halt_requests():
            return await self._cancel_all(symbol, everything)

    async def _cancel_all(self, symbol: str | None, everything: bool) -> list[OrderReport]:
        open_orders = await self.open_orders(symbol)
        ours = [s for s in open_orders if everything or is_livegate_client_id(s.client_order_id)]
        our_ids = {s.venue_order_id for s in ours}
        shared = {s.symbol for s in open_orders if s.venue_order_id not in our_ids}  # an outside order rests there
        native_ok = self._has_native_cancel_all
        native = [s for s in ours if native_ok and s.symbol not in shared]
        one_by_one = [s for s in ours if not (native_ok and s.symbol not in shared)]
        answered: dict[str, Any] = {}
        for sym in sorted({s.symbol for s in native}):  # first: one request cancels a symbol's orders
            result = await self._calls.call(self.exchange.cancel_all_orders, sym)
            for item in result if isinstance(result, list) else []:
                if isinstance(item, dict) and item.get("id"):
                    answered[str(item["id"])] = item
        reports = [
            self._cancel_report(answered.get(s.venue_order_id, {}), s.client_order_id, s.venue_order_id) for s in native
        ]
        for snap in one_by_one:
            result = await self._calls.call(self.exchange.cancel_order, snap.venue_order_id, snap.symbol)
            reports.append(self._cancel_report(result or {}, snap.client_order_id, snap.venue_order_id))
        return reports

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        """Look an order up by client order id: natively where ccxt can, else by scanning open and closed orders.

        Returns None when the venue has never seen the id.
        """
        vcid = venue_client_id(self._exchange_id, client_order_id)
        ex = self.exchange
        contract_size = market_contract_size(self._map.market(symbol))
        self._map.traded_symbols.add(symbol)
        if self._exchange_id in FETCH_BY_CLIENT_ID:
            found = await self._calls.read(ex.fetch_order, None, symbol, {"clientOrderId": vcid}, not_found_ok=True)
            if not found or not found.get("id"):
                return None
            self._map.remember(str(found["id"]), client_order_id)
            return to_order_snapshot(found, client_order_id, contract_size)
        scans: list[Callable[..., Awaitable[Any]]] = [ex.fetch_open_orders]
        if ex.has.get("fetchClosedOrders"):
            scans.append(ex.fetch_closed_orders)
        elif ex.has.get("fetchOrders"):
            scans.append(ex.fetch_orders)
        for scan in scans:
            for item in await self._calls.read(scan, symbol) or []:
                if venue_cid_of(item) == vcid:
                    self._map.remember(str(item.get("id") or ""), client_order_id)
                    return to_order_snapshot(item, client_order_id, contract_size)
        return None

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        """Return the venue's open orders (client ids mapped back to ours where known)."""
        result = await self._calls.read(self.exchange.fetch_open_orders, symbol)
        snapshots = [
            to_order_snapshot(
                item, self._map.our_cid(item), market_contract_size(self._map.market_or_none(item.get("symbol")))
            )
            for item in result or []
        ]
        for snap in snapshots:
            if snap.client_order_id:
                self._map.remember(snap.venue_order_id, snap.client_order_id)
        return snapshots

    async def positions(self) -> list[PositionSnapshot]:
        """Return non-flat positions (signed, base units); empty when the exchange has none."""
        if not self.capabilities.positions:
            return []
        result = await self._calls.read(self.exchange.fetch_positions)
        return [p for p in (to_position(item) for item in result or []) if p is not None]

    async def balances(self) -> list[BalanceSnapshot]:
        """Return balances per currency (total and free)."""
        return to_balances(await self._calls.read(self.exchange.fetch_balance) or {})

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
            trades = list(await self._calls.read(fetch, None, since_ms) or [])
        except Rejected as exc:
            if not isinstance(exc.__cause__, _ArgumentsRequired):
                raise
            trades = []
            for symbol in sorted(self._map.traded_symbols):
                if self._map.market_or_none(symbol) is not None:
                    trades.extend(await self._calls.read(fetch, symbol, since_ms) or [])
        fills = [self._map.to_fill(item) for item in trades if isinstance(item, Mapping)]
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
        value = await self._calls.read(self.exchange.fetch_time)
        return int(value) if value is not None else None

    def recv_window_ms(self) -> int | None:
        """Return the ``recvWindow`` (ms) signed requests carry, or None when the exchange uses none.

        A ccxt option; Binance refuses a request whose timestamp is outside it (error -1021).
        """
        value = self.exchange.options.get("recvWindow")
        return int(value) if isinstance(value, (int, float)) and value > 0 else None

    # ------------------------------------------------------------------ streams
    def stream_market_data(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
        """Yield quotes and trades of ``symbols`` (see :mod:`livegate.venues.ccxt.market_data`)."""
        return self._market_data.stream(symbols)

    # ------------------------------------------------------------------ helpers
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
