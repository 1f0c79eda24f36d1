"""The private stream of the ccxt adapter: the account's order reports and fills, to the bound sink.

ccxt.pro ``watchOrders`` (and ``watchMyTrades`` where the exchange has it) feed the
session's report sink. After a drop the stream reconnects with backoff, asks the session
to reconcile (a :class:`~livegate.venues.base.StreamInterrupted` marker in every open
market-data stream) and reports the fills of the gap (:mod:`livegate.venues.ccxt.gap`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import ccxt.async_support as ccxt_async

from livegate.domain.clock import Clock
from livegate.domain.errors import Fatal, VenueError
from livegate.domain.orders import Fill
from livegate.venues.base import Report, ReportSink
from livegate.venues.ccxt.account_map import AccountMap
from livegate.venues.ccxt.calls import CcxtCalls
from livegate.venues.ccxt.config import CcxtConfig
from livegate.venues.ccxt.convert import to_order_report
from livegate.venues.ccxt.gap import FillGap

__all__ = ["CcxtOrderStream"]

log = logging.getLogger("livegate.venues.ccxt")

_CcxtError: Any = ccxt_async.BaseError


class CcxtOrderStream:
    """The private order and fill stream of one ccxt account.

    Parameters
    ----------
    exchange:
        The ccxt.pro exchange object (``watchOrders``, ``watchMyTrades``, ``fetchMyTrades``).
    config:
        Exchange id (how the gap is fetched) and ``read_backoff_secs`` (first reconnect delay,
        doubling to 30 s).
    clock:
        Source of report times (ms since the epoch) when the venue gives none.
    name:
        Venue name used in reports and logs.
    calls:
        The adapter's budgeted requests (gap import, error translation).
    account:
        The adapter's markets and client order ids (trades become fills there).
    interrupt:
        Puts a :class:`StreamInterrupted` marker into every open market-data stream.
    has_my_trades:
        ccxt has ``fetchMyTrades`` for this exchange (else no gap import).
    """

    def __init__(
        self,
        exchange: Any,
        config: CcxtConfig,
        clock: Clock,
        name: str,
        calls: CcxtCalls,
        account: AccountMap,
        *,
        interrupt: Callable[[str], None],
        has_my_trades: bool,
    ) -> None:
        self.exchange = exchange
        self._config = config
        self._clock = clock
        self.name = name
        self._calls = calls
        self._map = account
        self._interrupt = interrupt
        self._has_my_trades = has_my_trades
        self.sink: ReportSink | None = None
        self._stream_tasks: list[asyncio.Task[None]] = []
        self._gap = FillGap(config.exchange_id)
        #: The private loops down now (dropped, their gap not imported yet): one outage, one reconciliation.
        self._down: set[str] = set()

    def start(self) -> None:
        """Start watching orders (and the account's trades where ccxt can) in background tasks."""
        ex = self.exchange

        async def orders_once() -> None:
            for item in await ex.watch_orders() or []:
                self._emit(to_order_report(item, self._map.our_cid(item), self._clock.now_ms()))

        async def trades_once() -> None:
            for item in await ex.watch_my_trades() or []:
                self._emit(self._map.to_fill(item))

        self._stream_tasks.append(asyncio.create_task(self._private_loop(orders_once, "orders")))
        if ex.has.get("watchMyTrades"):
            self._stream_tasks.append(asyncio.create_task(self._private_loop(trades_once, "trades")))

    async def close(self) -> None:
        """Cancel the stream tasks and wait for them to end."""
        for task in self._stream_tasks:
            task.cancel()
        await asyncio.gather(*self._stream_tasks, return_exceptions=True)
        self._stream_tasks.clear()

    async def _private_loop(self, once: Callable[[], Awaitable[None]], name: str) -> None:
        """Watch the private stream; after a drop, tell the session to reconcile and import the gap's fills.

        The loops (``name``: ``orders``, ``trades``) share one connection, so a drop ends
        them all at once: only the first to fall asks the session to reconcile. A second
        request at once would run a second reconciliation before the gap's fills are
        imported, and a difference seen by two passes in a row counts as drift
        (:meth:`livegate.reconcile.reconciler.Reconciler.reconcile`): the fills of the gap
        would trip the kill switch before the import brings them.

        An exception of livegate's own while handling an event (the session's report sink
        raised, e.g. a ledger read failed) is logged with its traceback and handled as a
        drop: the session reconciles, the fills of the gap left after it (the rest of that
        batch) are imported, and the loop reads on. Before, it ended the task silently and
        the session heard nothing from the private stream again.
        """
        backoff = self._config.read_backoff_secs
        dropped = False
        while True:
            try:
                if dropped:
                    await self._import_gap()
                    dropped = False
                    self._down.discard(name)
                await once()
                backoff = self._config.read_backoff_secs
                continue
            except _CcxtError as exc:
                err = self._calls.translate(exc)
                if isinstance(err, Fatal):
                    log.error("venue %s: private stream stopped: %s", self.name, err.message)
                    self._interrupt(f"private stream stopped: {err.message}")
                    return
                log.warning(
                    "venue %s: private stream dropped, reconnecting in %.1fs: %s", self.name, backoff, err.message
                )
                reason: str | None = f"private stream reconnect: {err.message}"
            except VenueError as err:  # the gap import failed: reconciliation (already asked for) covers it
                log.warning("venue %s: fills of the stream gap not imported yet: %s", self.name, err.message)
                reason = None
            except Exception as exc:  # ours failed on an event (the session's sink, a conversion): never end silently
                log.error(
                    "venue %s: private %s stream: handling an event failed: %r; reconciling, reading on in %.1fs",
                    self.name,
                    name,
                    exc,
                    backoff,
                    exc_info=exc,
                )
                reason = f"private stream error: {exc!r}"  # the rest of that batch is lost: as after a drop
            if reason is not None:  # a drop: reconcile once for the stream, import the gap's fills first
                dropped = True
                if not self._down:
                    self._interrupt(reason)
                self._down.add(name)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def _import_gap(self) -> None:
        """Report the account's fills since the last one reported (see :mod:`livegate.venues.ccxt.gap`)."""
        if not self._has_my_trades:
            return
        fills: list[Fill] = []
        for symbol, since_ms, params in self._gap.requests(self._map.traded_symbols):
            if self._map.market_or_none(symbol) is None:
                continue
            trades = await self._calls.read(self.exchange.fetch_my_trades, symbol, since_ms, None, params)
            fills.extend(self._map.to_fill(t) for t in trades or [] if isinstance(t, Mapping))
        for fill in self._gap.new(fills):
            log.info("venue %s: fill %s from the stream gap imported", self.name, fill.fill_id)
            self._emit(fill)

    def _emit(self, report: Report) -> None:
        """Hand ``report`` to the session; a fill counts as seen for the gap import once handed over.

        A fill the sink raised on was the sink's to record (the engine records a fill before
        it applies it): the gap import after the error does not hand it over again.
        """
        if isinstance(report, Fill):
            self._gap.saw(report)
        if self.sink is None:
            log.warning("venue %s: report dropped, no sink bound: %r", self.name, report)
            return
        self.sink(report)
