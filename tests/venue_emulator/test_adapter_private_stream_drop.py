"""livegate's ccxt adapter against the emulator: one private-stream drop asks for one reconciliation.

Binance spot sends orders and trades on one user data stream; ccxt.pro's ``watchOrders``
and ``watchMyTrades`` both end when it drops. A reconciliation asked per watch loop ran
twice before the gap's fills were imported, and the second pass confirmed the first's
differences (a fill of the gap the ledger did not hold yet) as drift.

A failure of livegate's own on a private event (the session's report sink raised, e.g. its
ledger could not read an order back) ended the loop's task with the exception unread: no
log line, no reconciliation, and no report from that stream ever again. Now it is handled as
a drop: logged, one reconciliation asked, and the stream read on. The event the sink raised
on was handed over once (the engine records a fill before it applies it), and is not handed
over again.
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
from livegate.venues.ccxt.adapter import CcxtAdapter
from tests.contract.base import make_order
from tests.venue_emulator import Emulator
from tests.venue_emulator.fixtures import ccxt_adapter_for


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.01)


def _read_markers(adapter: CcxtAdapter) -> tuple[list[StreamInterrupted], asyncio.Future[None]]:
    """Open the adapter's market-data stream and collect its interruption markers in the background."""
    stream = adapter.stream_market_data(["BTC/USDT"])
    markers: list[StreamInterrupted] = []

    async def read() -> None:
        async for event in stream:
            if isinstance(event, StreamInterrupted):
                markers.append(event)

    return markers, asyncio.ensure_future(read())


async def test_private_stream_when_dropped_then_one_reconcile_asked_and_the_gap_fill_imported(
    spot_emulator: Emulator,
) -> None:
    spot_emulator.step(3)
    adapter = ccxt_adapter_for(spot_emulator)
    reports: list[Report] = []
    adapter.bind(reports.append)
    markers, reading = _read_markers(adapter)
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
    markers, reading = _read_markers(adapter)
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
