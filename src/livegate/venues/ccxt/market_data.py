"""Public market data of the ccxt adapter: best bid/ask quotes and trades from ccxt.pro.

Each open stream has a queue; a dropped connection reconnects after a backoff and puts a
:class:`~livegate.venues.base.StreamInterrupted` marker into it, and so does a drop of
the private order stream (:meth:`CcxtMarketData.interrupt`), so the session reconciles.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async

from livegate.domain.clock import Clock
from livegate.domain.errors import Fatal, VenueError
from livegate.venues.base import MarketDataEvent, StreamInterrupted
from livegate.venues.ccxt.config import CcxtConfig
from livegate.venues.ccxt.convert import to_quote, to_trade

__all__ = ["CcxtMarketData"]

log = logging.getLogger("livegate.venues.ccxt")

_CcxtError: Any = ccxt_async.BaseError


class CcxtMarketData:
    """The market-data streams of one ccxt exchange object.

    Parameters
    ----------
    exchange:
        The ccxt.pro exchange object (``watchBidsAsks`` or ``watchTicker``, ``watchTrades``).
    config:
        Its ``read_backoff_secs`` is the first reconnect delay (doubling to 30 s).
    clock:
        Source of event times (ms since the epoch) when the venue gives none.
    name:
        Venue name used in quotes, trades and logs.
    translate:
        Turns a ccxt exception into livegate's error (:meth:`CcxtCalls.translate`).
    last_price:
        Last price per unified symbol, shared with the adapter; each quote sets its mid.
    """

    def __init__(
        self,
        exchange: Any,
        config: CcxtConfig,
        clock: Clock,
        name: str,
        translate: Callable[[Exception], VenueError],
        last_price: dict[str, Decimal],
    ) -> None:
        self.exchange = exchange
        self._config = config
        self._clock = clock
        self.name = name
        self._translate = translate
        self._last_price = last_price
        self._md_queues: list[asyncio.Queue[MarketDataEvent | VenueError]] = []

    async def stream(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
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
        marked = [-math.inf]  # event-loop time of this stream's last interruption marker

        async def quotes_all() -> None:
            async def once() -> None:
                tickers = await ex.watch_bids_asks(list(symbols))
                for ticker in (tickers or {}).values():
                    self._put_quote(queue, ticker)

            await self._watch_loop(once, queue, marked)

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
            tasks.extend(asyncio.create_task(self._watch_loop(quotes_one(s), queue, marked)) for s in symbols)
        if ex.has.get("watchTrades"):
            tasks.extend(asyncio.create_task(self._watch_loop(trades_one(s), queue, marked)) for s in symbols)
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
        errors: asyncio.Queue[MarketDataEvent | VenueError],
        marked: list[float],
    ) -> None:
        """Run ``once`` until cancelled; reconnect after a transient error, putting a marker into ``errors``.

        The loops of one stream (quotes, and trades per symbol) share one connection, so a
        drop ends them all within moments: only the first to fall puts a
        :class:`StreamInterrupted` marker in, and a loop puts another only when no loop of
        the stream did in the last ``read_backoff_secs`` (``marked`` holds the event-loop
        time of the last one). One drop, one reconciliation: two passes back to back would
        confirm as drift a difference that is only a report in flight
        (:func:`livegate.reconcile.confirm.confirmed` wants them an interval apart).

        An exception of livegate's own while handling an event (a conversion) is logged with
        its traceback and puts a marker in (events of that batch are lost); the loop reads on.
        Before, it ended the loop's task silently, and with it that symbol's quotes or trades.
        """
        backoff = self._config.read_backoff_secs
        while True:
            try:
                await once()
                backoff = self._config.read_backoff_secs
            except _CcxtError as exc:
                err = self._translate(exc)
                if isinstance(err, Fatal):
                    log.error("venue %s: stream stopped: %s", self.name, err.message)
                    errors.put_nowait(err)
                    return
                log.warning("venue %s: stream error, retrying in %.1fs: %s", self.name, backoff, err.message)
                now = asyncio.get_running_loop().time()
                if now - marked[0] >= self._config.read_backoff_secs:
                    marked[0] = now  # events may be lost until the reconnect: the session reconciles first
                    errors.put_nowait(StreamInterrupted(f"reconnect: {err.message}", self._clock.now_ms()))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception as exc:  # ours failed on an event (a conversion): never end the loop silently
                log.error(
                    "venue %s: market data: handling an event failed: %r; reading on in %.1fs",
                    self.name,
                    exc,
                    backoff,
                    exc_info=exc,
                )
                errors.put_nowait(StreamInterrupted(f"market data error: {exc!r}", self._clock.now_ms()))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def interrupt(self, reason: str) -> None:
        """Put a :class:`StreamInterrupted` marker into every open market-data stream (the session reconciles)."""
        marker = StreamInterrupted(reason, self._clock.now_ms())
        for queue in self._md_queues:
            queue.put_nowait(marker)


def _recv_ns(clock: Clock) -> int:
    return clock.now_ms() * 1_000_000
