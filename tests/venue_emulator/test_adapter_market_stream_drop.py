"""livegate's ccxt adapter against the emulator: one market-data drop puts one interruption marker in.

ccxt.pro's public watch loops of one stream (best bid/ask or ticker, and trades per
symbol) share one connection, and a drop ends them all at once. A marker per loop made
the session reconcile twice back to back, and the second pass confirmed the first's
differences (an order report still in flight) as drift.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from livegate.domain.market import Quote
from livegate.venues.base import StreamInterrupted
from tests.venue_emulator import Emulator
from tests.venue_emulator.fixtures import ccxt_adapter_for


def _subscriptions(emulator: Emulator) -> int:
    """Return how many public streams the adapter's open market connections subscribed to."""
    return sum(len(c.streams) for c in emulator.streams.conns if not c.private and not c.ws.closed)


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.01)


async def test_market_stream_when_dropped_then_one_marker_and_quotes_flow_again(spot_emulator: Emulator) -> None:
    adapter = ccxt_adapter_for(spot_emulator)
    stream = adapter.stream_market_data(["BTC/USDT"])
    events: list[object] = []

    async def read() -> None:
        async for event in stream:
            events.append(event)

    reading = asyncio.ensure_future(read())
    try:
        await _until(lambda: _subscriptions(spot_emulator) >= 2)  # quotes and trades loops
        spot_emulator.step(5)
        await _until(lambda: any(isinstance(e, Quote) for e in events))
        assert await spot_emulator.drop_market_streams() >= 1
        await _until(lambda: any(isinstance(e, StreamInterrupted) for e in events))
        await asyncio.sleep(0.3)  # every loop fell at the drop: a marker of its own, if any, is in by now
        dropped_at = len(events)
        await _until(lambda: _subscriptions(spot_emulator) >= 2)  # reconnected after the backoff
        spot_emulator.step(5)
        await _until(lambda: any(isinstance(e, Quote) for e in events[dropped_at:]))
    finally:
        reading.cancel()
        await adapter.close()
    markers = [e for e in events if isinstance(e, StreamInterrupted)]
    assert len(markers) == 1, markers
    assert markers[0].reason.startswith("reconnect:")
