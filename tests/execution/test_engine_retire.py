"""The engine's book lets a finished order go only when no venue call holds it (issue 14 item 2).

A call in the air (a submit, a cancel) applies its answer to the ``Order`` object it
holds; the book keeps that order until the call returned, even when a stream report
finished it meanwhile. An ambiguous order stays too. A working order never goes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from livegate.domain.enums import OrderStatus
from livegate.domain.orders import OrderReport
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
