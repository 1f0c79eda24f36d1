"""livegate's ccxt adapter against the emulator: a failure of ours on a private event is not silent.

The private-stream loop hands each order update and trade to the session's report sink. When
that raised anything but a ccxt error (the session's ledger failed to read an order back,
say), the loop's task ended with the exception unread: no log line, no reconciliation, and
no report from the private stream ever again. Now it is handled as a drop: logged, one
reconciliation asked, and the stream read on. The event the sink raised on was handed over
once (the engine records a fill before it applies it), and is not handed over again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal

import pytest

from livegate.domain.enums import Side
from livegate.domain.errors import LedgerError
from livegate.domain.orders import Fill
from livegate.venues.base import Report, StreamInterrupted
from tests.contract.base import make_order
from tests.venue_emulator import Emulator
from tests.venue_emulator.fixtures import ccxt_adapter_for


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.01)


async def test_private_stream_when_the_sink_raises_on_a_fill_then_logged_reconciled_and_read_on(
    spot_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    spot_emulator.step(3)
    adapter = ccxt_adapter_for(spot_emulator)
    reports: list[Report] = []
    refused: list[Fill] = []

    def sink(report: Report) -> None:
        if isinstance(report, Fill) and not refused:
            refused.append(report)
            raise LedgerError("database disk image is malformed (test)")
        reports.append(report)

    adapter.bind(sink)
    stream = adapter.stream_market_data(["BTC/USDT"])
    markers: list[StreamInterrupted] = []

    async def read_markers() -> None:
        async for event in stream:
            if isinstance(event, StreamInterrupted):
                markers.append(event)

    reading = asyncio.ensure_future(read_markers())
    await asyncio.sleep(0)  # the market-data stream is open before the private events come
    try:
        await adapter.connect()
        await _until(spot_emulator.streams.private_connected)
        with caplog.at_level(logging.ERROR, logger="livegate"):
            first = await adapter.submit(make_order("BTC/USDT", Side.BUY, Decimal("0.002"), None, venue=adapter.name))
            await _until(lambda: bool(refused))
        second = await adapter.submit(make_order("BTC/USDT", Side.BUY, Decimal("0.003"), None, venue=adapter.name))
        await _until(lambda: any(isinstance(r, Fill) and r.client_order_id == second.client_order_id for r in reports))
        await asyncio.sleep(0.3)  # a second marker, if one were asked, is read
    finally:
        reading.cancel()
        await adapter.close()
    trade, later = spot_emulator.fills()
    assert [(f.fill_id, f.client_order_id) for f in refused] == [(str(trade.trade_id), first.client_order_id)]
    fills = [(r.fill_id, r.client_order_id) for r in reports if isinstance(r, Fill)]
    assert fills == [(str(later.trade_id), second.client_order_id)]  # read on; the first not handed over again
    private = [m.reason for m in markers if m.reason.startswith("private stream")]
    assert private == ["private stream error: LedgerError('database disk image is malformed (test)')"]
    logged = [r for r in caplog.records if "handling an event failed" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
