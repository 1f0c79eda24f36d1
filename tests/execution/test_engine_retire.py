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
from livegate.ledger import events as ev
from livegate.venues.base import VenueCapabilities
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


class CancelAllVenue(SlowVenue):
    """As :class:`SlowVenue`, with a native cancel-all that answers ``cancel_all_answer``."""

    def __init__(self) -> None:
        super().__init__()
        self.release.set()
        self.capabilities = VenueCapabilities(fetch_by_client_order_id=True, native_cancel_all=True)
        self.cancel_all_answer: list[OrderReport] = []

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        return list(self.cancel_all_answer)


@pytest.mark.asyncio
async def test_halt_when_cancel_all_names_a_let_go_order_it_cannot_read_back_then_the_rest_applied_and_kept(
    tmp_path: Path,
) -> None:
    """The halt writes the venue's answers in one ledger transaction; a failed read back must not roll it back."""
    venue = CancelAllVenue()
    engine, _, portfolio = _engine(tmp_path, venue)
    gone, working = (portfolio.order(engine.submit_intent(_intent(engine)).client_order_id) for _ in range(2))
    assert gone is not None and working is not None
    await engine.dispatch()
    await engine.settle()
    assert engine.request_cancel(gone.client_order_id)
    await engine.dispatch()
    await engine.settle()
    assert engine.retire_finished([gone.client_order_id]) == 1 and working.status is OrderStatus.ACCEPTED
    ledger = engine._ledger
    said = f"ledger read failed: cannot rebuild finished order {gone.client_order_id}: disk I/O error"

    def unreadable(client_order_id: str) -> None:  # as the session's hook: record the failure, then raise
        ledger.append(ev.ANOMALY, 5, {"kind": "storage_failed", "detail": said})
        raise LedgerError(said)

    portfolio.revive_with(unreadable)
    venue.cancel_all_answer = [  # the venue still held the let-go order (its book and ours differed)
        OrderReport(gone.client_order_id, OrderStatus.CANCELLED, 6),
        OrderReport(working.client_order_id, OrderStatus.CANCELLED, 6),
    ]
    assert await engine.halt_all_venues("kill") == 1
    assert working.status is OrderStatus.CANCELLED  # applied after the failed read
    ledger.flush()
    anomalies = [e.payload["detail"] for e in ledger.events("anomaly")]
    assert said in anomalies  # the hook's record was not rolled back
    requested = [e.payload["client_order_id"] for e in ledger.events("cancel_requested")]
    assert requested.count(working.client_order_id) == 1 and requested.count(gone.client_order_id) == 2
    reports = [(e.payload["client_order_id"], e.payload["status"]) for e in ledger.events("order_report")]
    assert reports[-2:] == [(gone.client_order_id, "cancelled"), (working.client_order_id, "cancelled")]
    ledger.close()
