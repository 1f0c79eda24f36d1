"""Alpaca's stock and crypto data streams as one stream of quotes, trades and interruption markers.

alpaca-py's ``StockDataStream`` (feed ``iex`` or ``sip``) and ``CryptoDataStream`` run on
the session's event loop (their ``_run_forever`` coroutine; ``run()`` would own a loop of
its own). alpaca-py reconnects silently, 1 s doubling to 30 s; :meth:`AlpacaMarketData.watch`
wraps a stream's ``_start_ws`` (the one place every connect passes) so that every connect
after the first runs the adapter's gap handler (importing missed fills) and then yields a
:class:`~livegate.venues.base.StreamInterrupted` marker, so the session reconciles.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from livegate.domain.clock import Clock
from livegate.domain.market import Quote
from livegate.venues.alpaca.mapping import market_data_from_frame
from livegate.venues.base import MarketDataEvent, StreamInterrupted

__all__ = ["AlpacaMarketData"]

log = logging.getLogger("livegate.venues.alpaca")

#: Events buffered between the SDK's callbacks and the session; beyond it quotes are dropped (logged).
_QUEUE_SIZE = 10_000


class AlpacaMarketData:
    """One market-data stream over alpaca-py's data streams.

    Parameters
    ----------
    venue:
        Venue name put on every quote and trade.
    clock:
        The session clock (receive time, marker time).
    stream_factory:
        Builds a data stream: ``stream_factory(crypto)``.
    on_reconnect:
        Awaited after every reconnect, before the marker (the adapter imports missed fills).
    """

    def __init__(
        self,
        venue: str,
        clock: Clock,
        stream_factory: Callable[[bool], Any],
        on_reconnect: Callable[[], Awaitable[None]],
    ) -> None:
        self._venue = venue
        self._clock = clock
        self.factory = stream_factory
        self._on_reconnect = on_reconnect
        self._queue: asyncio.Queue[MarketDataEvent] | None = None

    def watch(self, stream: Any, reason: str) -> None:
        """Make every reconnect of ``stream`` (after its first connect) yield a marker with ``reason``."""
        original = stream._start_ws
        connects = 0

        async def start_ws() -> None:
            nonlocal connects
            await original()
            connects += 1
            if connects > 1:
                log.warning("alpaca: %s", reason)
                await self._on_reconnect()
                queue = self._queue
                if queue is not None and not queue.full():
                    queue.put_nowait(StreamInterrupted(reason, self._clock.now_ms()))

        stream._start_ws = start_ws

    async def stream(self, symbols: Sequence[str]) -> AsyncIterator[MarketDataEvent]:
        """Yield quotes and trades of ``symbols`` (equities ``SPY``, crypto ``BTC/USD``); closing stops the streams."""
        queue: asyncio.Queue[MarketDataEvent] = asyncio.Queue(maxsize=_QUEUE_SIZE)
        self._queue = queue
        last_quotes: dict[str, Quote] = {}

        async def on_frame(frame: Any) -> None:
            event = market_data_from_frame(frame, self._venue, last_quotes, self._clock.now_ms() * 1_000_000)
            if event is None:
                return
            if queue.full():
                log.warning("alpaca market data: queue full, dropping %s", event.symbol)
                return
            queue.put_nowait(event)

        streams: list[Any] = []
        for crypto in (False, True):
            chosen = [s for s in symbols if ("/" in s) is crypto]
            if chosen:
                stream = self.factory(crypto)
                self.watch(stream, "market-data stream reconnected")
                stream.subscribe_quotes(on_frame, *chosen)
                stream.subscribe_trades(on_frame, *chosen)
                streams.append(stream)
        tasks = [asyncio.create_task(s._run_forever(), name="alpaca-market-data") for s in streams]
        try:
            while True:
                yield await queue.get()
        finally:
            self._queue = None
            for stream in streams:
                await stream.stop_ws()
                await stream.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
