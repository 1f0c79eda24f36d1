"""livegate's ccxt adapter against the emulator: one market-data drop puts one interruption marker in.

ccxt.pro's public watch loops of one stream (best bid/ask or ticker, and trades per
symbol) share one connection, and a drop ends them all at once. A marker per loop made
the session reconcile twice back to back, and the second pass confirmed the first's
differences (an order report still in flight) as drift.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from livegate.domain.market import Quote, Trade
from livegate.venues.base import StreamInterrupted
from livegate.venues.ccxt import market_data
from livegate.venues.ccxt.adapter import CcxtAdapter
from livegate.venues.ccxt.convert import to_trade
from tests.venue_emulator import Emulator
from tests.venue_emulator.fixtures import ccxt_adapter_for


def _subscriptions(emulator: Emulator) -> int:
    """Return how many public streams the adapter's open market connections subscribed to."""
    return sum(len(c.streams) for c in emulator.streams.conns if not c.private and not c.ws.closed)


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.01)


def _collect(adapter: CcxtAdapter) -> tuple[list[object], asyncio.Future[None]]:
    """Open the adapter's BTC/USDT market-data stream and collect its events in the background."""
    stream = adapter.stream_market_data(["BTC/USDT"])
    events: list[object] = []

    async def read() -> None:
        async for event in stream:
            events.append(event)

    return events, asyncio.ensure_future(read())


async def test_market_stream_when_dropped_then_one_marker_and_quotes_flow_again(spot_emulator: Emulator) -> None:
    adapter = ccxt_adapter_for(spot_emulator)
    events, reading = _collect(adapter)
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


async def test_market_stream_when_handling_a_trade_fails_then_logged_one_marker_and_trades_flow_on(
    spot_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure of livegate's own on an event (here its trade conversion, once) used to end that loop silently."""
    failed: list[object] = []

    def to_trade_failing_once(item: Any, *args: Any) -> Trade | None:
        if not failed:
            failed.append(item)
            raise KeyError("price")
        return to_trade(item, *args)

    monkeypatch.setattr(market_data, "to_trade", to_trade_failing_once)
    adapter = ccxt_adapter_for(spot_emulator)
    events, reading = _collect(adapter)
    try:
        await _until(lambda: _subscriptions(spot_emulator) >= 2)  # quotes and trades loops
        with caplog.at_level(logging.ERROR, logger="livegate"):
            spot_emulator.print_trade(Decimal("61800.10"), Decimal("0.001"))
            await _until(lambda: bool(failed))
        async with asyncio.timeout(10):  # trades printed while the loop waits out its backoff come with the next one
            while not any(isinstance(e, Trade) for e in events):
                spot_emulator.print_trade(Decimal("61800.20"), Decimal("0.002"))
                await asyncio.sleep(0.2)
    finally:
        reading.cancel()
        await adapter.close()
    markers = [e.reason for e in events if isinstance(e, StreamInterrupted)]
    assert markers == ["market data error: KeyError('price')"]
    trades = {(t.price, t.size) for t in events if isinstance(t, Trade)}
    assert trades == {(Decimal("61800.20"), Decimal("0.002"))}  # read on; the failed one's batch is lost
    logged = [r for r in caplog.records if "handling an event failed" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
