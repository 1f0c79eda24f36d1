"""The halt routine: cancel-all retried with backoff until the venue confirms none open; never raises."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.clock import monotonic_secs
from livegate.domain.enums import OrderStatus, OrderType, Side
from livegate.domain.errors import Retryable
from livegate.domain.orders import Order, OrderReport
from livegate.domain.snapshots import VenueOrderSnapshot
from livegate.venues.base import VenueCapabilities
from tests.execution.test_engine_ambiguous_submit import ScriptedVenue, _engine, _intent


class FlakyCancelVenue(ScriptedVenue):
    """Accepts orders; its native cancel-all fails ``failures`` times with a 429 before it works."""

    def __init__(self, failures: int, *, reads_fail: bool = False) -> None:
        super().__init__("accept")
        self.capabilities = VenueCapabilities(fetch_by_client_order_id=True, native_cancel_all=True)
        self.failures = failures
        self.reads_fail = reads_fail
        self.cancel_all_calls = 0
        self.open_order_reads = 0
        self.open: dict[str, Order] = {}

    async def submit(self, order: Order) -> OrderReport:
        self.submits.append(order.client_order_id)
        self.open[order.client_order_id] = order
        return OrderReport(order.client_order_id, OrderStatus.ACCEPTED, 1, venue_order_id=f"v{len(self.open)}")

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        self.cancel_all_calls += 1
        if self.cancel_all_calls <= self.failures:
            raise Retryable("429 Too many requests", "-1003")
        done = [OrderReport(cid, OrderStatus.CANCELLED, 2) for cid in self.open]
        self.open.clear()
        return done

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        self.open_order_reads += 1
        if self.reads_fail:
            raise Retryable("429 Too many requests", "-1003")
        return [
            VenueOrderSnapshot(
                cid, "v", o.symbol, Side.BUY, OrderType.LIMIT, o.quantity, o.price, Decimal(0), OrderStatus.ACCEPTED, 1
            )
            for cid, o in self.open.items()
        ]


@pytest.mark.asyncio
async def test_halt_when_cancel_all_fails_three_times_then_retried_until_venue_confirms_none_open(
    tmp_path: Path,
) -> None:
    venue = FlakyCancelVenue(failures=3)
    engine, portfolio, anomalies = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    await engine.halt_all_venues("kill: test", confirm_secs=10)
    assert venue.open == {}
    assert await engine.venue_open_order_count() == 0
    order = portfolio.order(decision.client_order_id)
    assert order is not None and order.status is OrderStatus.CANCELLED
    assert venue.cancel_all_calls == 4
    assert [k for k, _ in anomalies].count("cancel_failed") == 3


@pytest.mark.asyncio
async def test_halt_when_session_polls_in_a_tight_loop_then_venue_calls_paced_by_backoff(tmp_path: Path) -> None:
    venue = FlakyCancelVenue(failures=10**6, reads_fail=True)
    engine, _, _ = _engine(tmp_path, venue)
    engine.submit_intent(_intent(engine))
    await engine.dispatch()
    started = monotonic_secs()
    remaining = 0
    while monotonic_secs() - started < 1.0:  # the session's 5 ms confirm loop, for 1 s
        await engine.halt_all_venues("kill: test")
        remaining = await engine.venue_open_order_count()
        await asyncio.sleep(0.005)
    assert remaining >= 1, "a venue that cannot be asked is never confirmed empty"
    # backoff 0.05 s doubling (cap 5 s): at most ~6 attempts in 1 s, not ~200
    assert venue.cancel_all_calls <= 8
    assert venue.open_order_reads <= 8


@pytest.mark.asyncio
async def test_halt_when_open_orders_were_read_before_the_kill_then_cancel_all_is_not_backed_off(
    tmp_path: Path,
) -> None:
    venue = FlakyCancelVenue(failures=0)
    engine, _, _ = _engine(tmp_path, venue)
    engine.submit_intent(_intent(engine))
    await engine.dispatch()
    for _ in range(3):  # status reads, a flatten's report: orders are open, nothing is being halted
        assert await engine.venue_open_order_count() == 1
    assert engine.halt_wait_secs(venue.name) == 0.0
    await engine.halt_all_venues("kill: test")
    assert venue.cancel_all_calls == 1
    assert venue.open == {}


@pytest.mark.asyncio
async def test_halt_when_confirming_finds_orders_still_open_then_the_next_attempt_backs_off(tmp_path: Path) -> None:
    venue = FlakyCancelVenue(failures=0)
    engine, _, _ = _engine(tmp_path, venue)
    engine.submit_intent(_intent(engine))
    await engine.dispatch()
    assert await engine.venue_open_order_count(after_halt=True) == 1  # a halt's confirmation: still open
    assert engine.halt_wait_secs(venue.name) > 0.0
