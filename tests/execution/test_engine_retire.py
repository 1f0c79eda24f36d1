"""The engine's book lets a finished order go only when no venue call holds it (issue 14 item 2).

A call in the air (a submit, a cancel) applies its answer to the ``Order`` object it
holds; the book keeps that order until the call returned, even when a stream report
finished it meanwhile. An ambiguous order stays too. A working order never goes. A report
about a let-go order that the ledger cannot give back raises (the session halts on it)
after the venue's answer is recorded.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.enums import Liquidity, OrderStatus, Side
from livegate.domain.errors import LedgerError
from livegate.domain.orders import Fill, OrderReport
from tests.execution.test_engine_ambiguous_submit import _intent
from tests.execution.test_engine_slow_venue import SlowVenue, _engine


class SlowCancelVenue(SlowVenue):
    """As :class:`SlowVenue`; a cancel answers only when ``cancel_release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.cancel_release = asyncio.Event()

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        self.cancels.append(client_order_id)
        await self.cancel_release.wait()
        return OrderReport(client_order_id, OrderStatus.CANCELLED, 3)


@pytest.mark.asyncio
async def test_retire_finished_when_submit_call_in_the_air_then_kept_until_it_returns(tmp_path: Path) -> None:
    venue = SlowVenue()
    engine, _, portfolio = _engine(tmp_path, venue)
    order = portfolio.order(engine.submit_intent(_intent(engine)).client_order_id)
    assert order is not None
    venue.slow.add(order.client_order_id)
    await engine.dispatch()
    for _ in range(5):  # the submit task starts; its call hangs
        await asyncio.sleep(0)
    assert order.status is OrderStatus.SUBMITTED and venue.submits == [order.client_order_id]
    assert engine.retire_finished([order.client_order_id]) == 0  # working
    engine.on_report(OrderReport(order.client_order_id, OrderStatus.CANCELLED, 2))  # the stream ran ahead
    assert order.status is OrderStatus.CANCELLED
    assert engine.retire_finished([order.client_order_id]) == 0  # its submit call still holds it
    assert portfolio.order(order.client_order_id) is order
    venue.release.set()
    await engine.settle()
    assert engine.retire_finished([order.client_order_id]) == 1
    assert portfolio.order(order.client_order_id) is None  # gone (no reviver in this book)


@pytest.mark.asyncio
async def test_retire_finished_when_cancel_call_in_the_air_then_kept_until_it_returns(tmp_path: Path) -> None:
    venue = SlowCancelVenue()
    engine, _, portfolio = _engine(tmp_path, venue)
    order = portfolio.order(engine.submit_intent(_intent(engine)).client_order_id)
    assert order is not None
    await engine.dispatch()
    await engine.settle()
    assert order.status is OrderStatus.ACCEPTED
    assert engine.request_cancel(order.client_order_id)
    await engine.dispatch()
    await asyncio.sleep(0)
    assert venue.cancels == [order.client_order_id]
    engine.on_report(OrderReport(order.client_order_id, OrderStatus.CANCELLED, 3))  # the stream's report first
    assert engine.retire_finished([order.client_order_id]) == 0  # its cancel call still holds it
    venue.cancel_release.set()
    await engine.settle()
    assert engine.retire_finished([order.client_order_id, "lg-unknown"]) == 1
    assert portfolio.order(order.client_order_id) is None


@pytest.mark.asyncio
async def test_retire_finished_when_submit_ambiguous_then_kept(tmp_path: Path) -> None:
    venue = SlowVenue()
    engine, anomalies, portfolio = _engine(tmp_path, venue, timeout_secs=0.05)
    order = portfolio.order(engine.submit_intent(_intent(engine)).client_order_id)
    assert order is not None
    venue.slow.add(order.client_order_id)
    await engine.dispatch()
    await engine.settle()
    assert anomalies == ["ambiguous_submit"] and order.client_order_id in engine.ambiguous_orders
    order.transition(OrderStatus.CANCELLED, 4)  # however it reads, an ambiguous order is the resolver's
    assert engine.retire_finished([order.client_order_id]) == 0
    assert portfolio.order(order.client_order_id) is order


@pytest.mark.asyncio
async def test_on_report_when_a_let_go_order_cannot_be_read_back_then_raises_and_the_venues_fill_is_still_recorded(
    tmp_path: Path,
) -> None:
    venue = SlowVenue()
    venue.release.set()
    engine, anomalies, portfolio = _engine(tmp_path, venue)
    order = portfolio.order(engine.submit_intent(_intent(engine)).client_order_id)
    assert order is not None
    cid = order.client_order_id
    await engine.dispatch()
    await engine.settle()
    assert engine.request_cancel(cid)
    await engine.dispatch()
    await engine.settle()
    assert order.status is OrderStatus.CANCELLED and engine.retire_finished([cid]) == 1
    said = f"ledger read failed: cannot rebuild finished order {cid} from ledger seqs 1 to 9: disk I/O error"

    def unreadable(client_order_id: str) -> None:
        raise LedgerError(said)

    portfolio.revive_with(unreadable)  # as Retirement.order_copy raises when SQLite fails
    late = Fill(cid, "t-late", "BTCUSDT", Side.BUY, order.intent.price or Decimal(0), Decimal("0.001"),
                Decimal("0.01"), Liquidity.MAKER, 4, venue.name)  # fmt: skip
    with pytest.raises(LedgerError, match="disk I/O error"):
        engine.on_report(late)  # a fill that raced the cancel
    with pytest.raises(LedgerError, match="disk I/O error"):
        engine.on_report(OrderReport(cid, OrderStatus.CANCELLED, 5))  # a repeated report
    # not applied (the book could not be rebuilt: the session halts), but the venue's answers are in the ledger
    assert engine.take_new_fills() == [] and portfolio.position_quantity("BTCUSDT") == 0
    assert engine.stats.fills == 0 and anomalies == []
    ledger = engine._ledger
    ledger.flush()
    fills = [e.payload for e in ledger.events("fill")]
    assert [(p["client_order_id"], p["fill_id"], p["quantity"]) for p in fills] == [(cid, "t-late", "0.001")]
    assert [e.payload["status"] for e in ledger.events("order_report")][-1] == "cancelled"
    ledger.close()
