"""The session loop's two event sources: replayed data and a venue's market-data stream.

A source yields *batches* of market events to :func:`livegate.runtime.loop.run_loop`:
:class:`ReplaySource` lists of the replay stream (paced in realtime mode),
:class:`StreamSource` one event at a time from the venue, or a
:class:`~livegate.venues.base.StreamInterrupted` marker.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livegate.domain.clock import ReplayClock, monotonic_secs
from livegate.domain.market import Quote, Trade
from livegate.modes.market_hours import MarketHours
from livegate.venues.base import MarketDataEvent, MarketDataStream, StreamInterrupted

if TYPE_CHECKING:
    from livegate.control.resume import CursorSlot

__all__ = ["Batch", "ReplaySource", "StreamSource"]

#: Events per batch of an as-fast-as-possible replay: the timer runs between batches (a few ms apart).
REPLAY_BATCH = 4096

Batch = tuple[int, Sequence[Quote | Trade]] | StreamInterrupted
ProgressCallback = Callable[[int, int], None]


@dataclass(slots=True)
class ReplaySource:
    """Replayed events from ``start``, as fast as possible or paced at ``realtime`` x real time.

    Parameters
    ----------
    blocks:
        The events from index ``start`` on, in replay order, in lists
        (:meth:`livegate.marketdata.stream.ReplayStream.blocks` after the resume skip).
    start:
        Index of the first event of ``blocks`` in the whole replay.
    clock:
        The replay clock.
    total:
        The progress total (input rows).
    first_ts_ms:
        Exchange time of the replay's first event (the heartbeat schedule starts there).
    skipped_quotes, skipped_trades:
        Quotes and trades before ``start`` (processed by the run this one resumes).
    cursor:
        The replay cursor's slot (:meth:`livegate.control.resume.ReplayCursor.slot`): the
        loop stores each event's index in ``cursor[0]`` before processing it; None: no cursor.
    """

    blocks: Iterator[list[Quote | Trade]]
    start: int
    clock: ReplayClock
    total: int = 0
    first_ts_ms: int = 0
    skipped_quotes: int = 0
    skipped_trades: int = 0
    realtime: float | None = None
    progress: ProgressCallback | None = None
    cursor: CursorSlot | None = None

    wall_clock = False

    @property
    def waits(self) -> bool:
        """Return True when paced (the source sleeps between batches)."""
        return bool(self.realtime)

    async def batches(self) -> AsyncIterator[Batch]:
        """Yield ``(index of the first event, events)`` lists; sleep between them when paced."""
        index = self.start
        if not self.realtime:
            for block in self.blocks:
                yield index, block
                index += len(block)
                await asyncio.sleep(0)
            return
        speed = self.realtime
        events = itertools.chain.from_iterable(self.blocks)
        upcoming = next(events, None)
        if upcoming is None:
            return
        pace_start_ms = upcoming.ts_event_ms
        pace_wall = monotonic_secs()
        while upcoming is not None:
            delay = (upcoming.ts_event_ms - pace_start_ms) / 1000 / speed - (monotonic_secs() - pace_wall)
            await asyncio.sleep(max(delay, 0.0))
            due_ms = pace_start_ms + (monotonic_secs() - pace_wall) * 1000 * speed
            chunk = [upcoming]
            upcoming = next(events, None)
            while upcoming is not None and len(chunk) < REPLAY_BATCH and upcoming.ts_event_ms <= due_ms:
                chunk.append(upcoming)
                upcoming = next(events, None)
            yield index, chunk
            index += len(chunk)


@dataclass(slots=True)
class _Span:
    first_ms: int = 0
    last_ms: int = 0


class StreamSource:
    """A venue's market-data stream, one event per batch, up to ``max_events`` market events.

    Parameters
    ----------
    stream:
        The adapter's market-data stream.
    symbols:
        Symbols to subscribe.
    hours:
        The venue calendar: closed hours skip the strategy (fills are still delivered).
    max_events:
        Stop after this many market events (None: until the stream ends).
    max_secs:
        Stop this many seconds of wall time after the first batch is asked for (``--minutes``),
        even while the stream is silent; None: no time bound.
    record:
        Called with each quote and trade before the loop sees it (the run's market-data
        recorder, :mod:`livegate.marketdata.recorder`), or None.
    """

    wall_clock = True
    waits = True

    def __init__(
        self,
        stream: MarketDataStream,
        symbols: list[str],
        hours: MarketHours,
        max_events: int | None,
        max_secs: float | None = None,
        record: Callable[[Quote | Trade], None] | None = None,
    ) -> None:
        self._stream = stream
        self._max_secs = max_secs
        self.timed_out = False
        self._symbols = symbols
        self.hours = hours
        self._max_events = max_events
        self._record = record
        self.span = _Span()
        self.count = 0

    @property
    def span_secs(self) -> float:
        """Return the time between the first and the last market event, in s."""
        return (self.span.last_ms - self.span.first_ms) / 1000

    async def batches(self) -> AsyncIterator[Batch]:
        """Yield ``(count, (event,))`` per market event, and interruption markers as they come."""
        span, limit, record = self.span, self._max_events, self._record
        events = self._stream.stream_market_data(self._symbols)
        if self._max_secs is not None:
            events = _bounded(events, self._max_secs, self)
        async for event in events:
            if isinstance(event, StreamInterrupted):
                yield event
                continue
            if record is not None:
                record(event)
            span.last_ms = event.ts_event_ms
            span.first_ms = span.first_ms or span.last_ms
            yield self.count, (event,)
            self.count += 1
            if limit is not None and self.count >= limit:
                return


async def _bounded(
    events: AsyncIterator[MarketDataEvent], max_secs: float, source: StreamSource
) -> AsyncIterator[MarketDataEvent]:
    """Yield ``events`` until ``max_secs`` of wall time have passed; then close the stream and end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_secs
    iterator = aiter(events)
    try:
        while True:
            try:
                event = await asyncio.wait_for(anext(iterator), max(0.0, deadline - loop.time()))
            except TimeoutError:
                source.timed_out = True
                return
            except StopAsyncIteration:
                return
            yield event
    finally:
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            await closer()
