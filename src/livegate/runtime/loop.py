"""The one session loop, fed by two event sources: replayed data and a venue's market-data stream.

A source (:mod:`livegate.runtime.sources`) yields *batches* of market events
(:class:`~livegate.runtime.sources.ReplaySource`: lists of the replay stream, paced in
realtime mode; :class:`~livegate.runtime.sources.StreamSource`: one event at a time from the
venue, or a :class:`~livegate.venues.base.StreamInterrupted` marker). :func:`run_loop`
runs every event through the same steps: session-time risk checks (replay), clock,
quote cache, simulated venues, fills, the strategy (watched by the
:class:`~livegate.runtime.watchdog.StrategyWatchdog`), dispatch, the kill switch's service
step, then event-time maintenance and heartbeats (replay). Between batches the loop
yields to asyncio, so the wall-clock :class:`~livegate.runtime.timer.SessionTimer` runs on
time whatever the feed does; both take :attr:`LoopControl.lock` so a timer tick never
interleaves with an event.

Replays keep event-time heartbeats, maintenance and triggers (deterministic: same data,
config and seed give the same ledger); venue streams have them on the wall-clock timer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Final

from livegate.domain.clock import ReplayClock
from livegate.domain.market import Quote
from livegate.modes.market_hours import AlwaysOpen
from livegate.runtime.sources import Batch, ReplaySource, StreamSource
from livegate.venues.base import StreamInterrupted

if TYPE_CHECKING:
    from livegate.control.resume import CursorSlot
    from livegate.runtime.core import SessionCore

__all__ = ["Batch", "LoopControl", "ReplaySource", "StreamSource", "run_loop"]

log = logging.getLogger("livegate")

NEVER_MS = 2**62
_PROGRESS_EVERY = 5000
#: Seconds of clock time between two ``market closed; skipping cycle`` lines.
_CLOSED_LOG_EVERY_MS = 60_000


class LoopControl:
    """What the loop, the timer and the stop signals share: the lock and the stop request."""

    __slots__ = ("_stopped", "lock", "stop_reason", "stop_signal")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.stop_reason: str | None = None
        self.stop_signal: int | None = None
        self._stopped = asyncio.Event()

    def request_stop(self, reason: str, *, signum: int | None = None) -> None:
        """Ask the loop to stop before its next batch (the first reason wins)."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_signal = signum
        self._stopped.set()

    async def batches(self, source: ReplaySource | StreamSource) -> AsyncIterator[Batch]:
        """Yield ``source``'s batches until it ends or a stop is requested (a silent source is abandoned).

        A source that never waits (an as-fast-as-possible replay) is iterated directly,
        the stop being checked between batches; one that may wait (a venue stream, a paced
        replay) is raced against the stop request, so a silent feed cannot delay a stop.
        """
        if not source.waits:
            async for batch in source.batches():
                if self.stop_reason is not None:
                    return
                yield batch
            return
        iterator = source.batches().__aiter__()
        stop = asyncio.ensure_future(self._stopped.wait())
        try:
            while self.stop_reason is None:
                step = asyncio.ensure_future(iterator.__anext__())
                await asyncio.wait((step, stop), return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    step.cancel()
                    await asyncio.gather(step, return_exceptions=True)
                    return
                try:
                    batch = step.result()
                except StopAsyncIteration:
                    return
                yield batch
        finally:
            stop.cancel()


def _fan_out(handlers: Sequence[Callable[[object], None]]) -> Callable[[object], None]:
    if len(handlers) == 1:
        return handlers[0]

    def feed(event: object) -> None:
        for handler in handlers:
            handler(event)

    return feed


#: Event-tuple positions the loop reads by index (one specialised ``BINARY_SUBSCR`` instead of a
#: descriptor lookup): ``symbol`` of a Quote, ``ts_event_ms`` of a Quote and of a Trade.
#: (tests/runtime/test_loop_inline.py checks that both tuples keep ``ts_event_ms`` at this position.)
_SYMBOL: Final = 0
_TS_EVENT_MS: Final = 5


async def run_loop(core: SessionCore, source: ReplaySource | StreamSource, control: LoopControl) -> None:
    """Run every event of ``source`` through the session until it ends or ``control`` asks to stop.

    The hot path avoids calls where an attribute test says "nothing to do": risk checks run
    only when an event-time heartbeat is due, the service step only after something that
    can need it (a dispatch, delivered fills or a heartbeat), maintenance and heartbeats
    behind one comparison with the earlier of their due times. Three per-event steps are
    inlined rather than called, with the semantics of the methods they stand for: the
    replay cursor's store (:meth:`~livegate.control.resume.ReplayCursor.slot`), the replay
    clock's forward-only move (:meth:`~livegate.domain.clock.ReplayClock.advance_to`) and
    the quote cache's store (:meth:`~livegate.marketdata.quote_cache.QuoteCache.update`).
    """
    strategy, ctx, engine, risk, metrics = core.strategy, core.ctx, core.engine, core.risk, core.metrics
    watch = core.watchdog
    on_quote, on_trade = strategy.on_quote, strategy.on_trade
    fed = core.wiring.fed_venues
    feed_quote = _fan_out([v.on_quote for v in fed])  # type: ignore[misc]
    feed_trade = _fan_out([v.on_trade for v in fed])  # type: ignore[misc]
    latest_quotes = core.quotes.latest
    markouts = engine.quality.markouts  # fills' markouts come due on quotes (livegate.execution.quality)
    deliver_fills = core.deliver_fills
    now_ms = core.clock.now_ms
    lock = control.lock
    heartbeat_ms = core.resolved.config.telemetry.heartbeat_interval_ms
    cursor: CursorSlot
    if isinstance(source, ReplaySource):
        clock = source.clock
        cursor = source.cursor if source.cursor is not None else _scratch_slot()
        progress, total = source.progress, source.total
        market_open: Callable[[int], bool] | None = None
        quotes, trades = source.skipped_quotes, source.skipped_trades
        next_heartbeat = source.first_ts_ms + heartbeat_ms
    else:
        clock = ReplayClock(NEVER_MS)  # never read: the session runs on wall time (no event moves it)
        cursor, progress, total = _scratch_slot(), None, 0
        market_open = None if isinstance(source.hours, AlwaysOpen) else source.hours.is_open
        quotes = trades = 0
        next_heartbeat = NEVER_MS  # heartbeats and lookups run on the wall-clock timer (maintenance there too)
    maintenance = core.recovery.maintenance
    next_maintenance = maintenance.next_due_ms if maintenance is not None else NEVER_MS
    next_due = min(next_heartbeat, next_maintenance)
    closed_logged_ms: int | None = None
    async for batch in control.batches(source):
        async with lock:
            if type(batch) is StreamInterrupted:
                await _on_interrupted(core, batch)
                continue
            first, chunk = batch  # type: ignore[misc]
            # a closed calendar skips the strategy (venue streams: one event per batch; replays have none)
            skip = market_open is not None and not market_open(now_ms())
            if skip:
                closed_logged_ms = _log_closed(now_ms(), closed_logged_ms)
            for index, event in enumerate(chunk, first):
                ts = event[_TS_EVENT_MS]
                cursor[0] = index
                touched = ts >= risk.next_check_ms
                if touched:
                    risk.before_event(ts)
                if ts > clock.current_ms:
                    clock.current_ms = ts
                if type(event) is Quote:
                    quotes += 1
                    latest_quotes[event[_SYMBOL]] = event
                    if ts >= markouts.next_due_ms:
                        markouts.on_quote(event)
                    feed_quote(event)
                    if engine._new_fills:
                        deliver_fills()
                        touched = True
                    if not skip:
                        watch.current = event
                        on_quote(ctx, event)
                        watch.current = None
                else:
                    trades += 1
                    feed_trade(event)
                    if engine._new_fills:
                        deliver_fills()
                        touched = True
                    if not skip:
                        watch.current = event
                        on_trade(ctx, event)
                        watch.current = None
                while engine._pending_submits or engine._pending_cancels:
                    await engine.dispatch()
                    deliver_fills()
                    touched = True
                if touched and risk.needs_service(engine):
                    await risk.service(engine)
                if ts >= next_due:
                    if ts >= next_maintenance and maintenance is not None:
                        await maintenance.run(ts)
                        next_maintenance = maintenance.next_due_ms
                        if risk.needs_service(engine):  # drift may have tripped the kill switch
                            await risk.service(engine)
                    if ts >= next_heartbeat:
                        metrics.quotes, metrics.trades = quotes, trades
                        core.heartbeat(ts)
                        next_heartbeat = ts + heartbeat_ms
                    next_due = min(next_heartbeat, next_maintenance)
                if progress is not None and index % _PROGRESS_EVERY == 0:
                    progress(index, total)
            metrics.quotes, metrics.trades = quotes, trades
    metrics.quotes, metrics.trades = quotes, trades
    if progress is not None:
        progress(total, total)


def _scratch_slot() -> CursorSlot:
    """Return a slot the loop may store event indexes into that nobody reads (no replay cursor)."""
    return memoryview(bytearray(8)).cast("q")


async def _on_interrupted(core: SessionCore, event: StreamInterrupted) -> None:
    """Deny new orders ``RECONCILING`` and reconcile with the venue now (issue 6 §3).

    When the venue cannot be asked the denial stays until a later periodic run succeeds.
    """
    maintenance = core.recovery.maintenance
    now = core.clock.now_ms()
    log.warning("market-data stream: %s; new orders are denied until the venue is reconciled", event.reason)
    core.telemetry.emit("anomaly", now, anomaly_kind="stream_interrupted", detail=event.reason)
    if maintenance is not None and maintenance.stream_interrupted(event.reason):
        await maintenance.run(now)


def _log_closed(now: int, logged_ms: int | None) -> int:
    if logged_ms is None or now - logged_ms >= _CLOSED_LOG_EVERY_MS:
        log.info("market closed; skipping cycle")
        return now
    return logged_ms
