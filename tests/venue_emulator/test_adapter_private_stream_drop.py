"""livegate's ccxt adapter against the emulator: one private-stream drop asks for one reconciliation.

Binance spot sends orders and trades on one user data stream; ccxt.pro's ``watchOrders``
and ``watchMyTrades`` both end when it drops. A reconciliation asked per watch loop ran
twice before the gap's fills were imported, and the second pass confirmed the first's
differences (a fill of the gap the ledger did not hold yet) as drift.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from livegate.domain.enums import Side
from livegate.domain.orders import Fill
from livegate.venues.base import Report, StreamInterrupted
from tests.contract.base import make_order
from tests.venue_emulator import Emulator
from tests.venue_emulator.fixtures import ccxt_adapter_for


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.01)


async def test_private_stream_when_dropped_then_one_reconcile_asked_and_the_gap_fill_imported(
    spot_emulator: Emulator,
) -> None:
    spot_emulator.step(3)
    adapter = ccxt_adapter_for(spot_emulator)
    reports: list[Report] = []
    adapter.bind(reports.append)
    stream = adapter.stream_market_data(["BTC/USDT"])
    markers: list[StreamInterrupted] = []

    async def read_markers() -> None:
        async for event in stream:
            if isinstance(event, StreamInterrupted):
                markers.append(event)

    reading = asyncio.ensure_future(read_markers())
    await asyncio.sleep(0)  # the market-data stream is open before the private one drops
    try:
        await adapter.connect()
        await _until(spot_emulator.streams.private_connected)
        spot_emulator.lose_private(10)  # the trade's execution report never reaches the adapter
        answer = await adapter.submit(make_order("BTC/USDT", Side.BUY, Decimal("0.002"), None, venue=adapter.name))
        spot_emulator.faults.private.lose = 0
        assert await spot_emulator.drop_private_stream() >= 1
        await _until(lambda: any(isinstance(r, Fill) for r in reports))  # the gap's fill
        await asyncio.sleep(0.3)  # every loop dropped 0.5 s ago (its backoff): its marker, if any, is read
    finally:
        reading.cancel()
        await adapter.close()
    private = [m for m in markers if m.reason.startswith("private stream")]
    assert len(private) == 1, private
    (fill,) = [r for r in reports if isinstance(r, Fill)]
    (trade,) = spot_emulator.fills()
    assert (fill.fill_id, fill.client_order_id) == (str(trade.trade_id), answer.client_order_id)
