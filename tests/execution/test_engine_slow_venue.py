"""A slow venue never blocks the session: submits and cancels run as tasks (issue 10 §3l)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import OrderStatus
from livegate.domain.market import Quote
from livegate.domain.orders import Order, OrderReport
from livegate.execution.engine import ExecutionEngine
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.gate import RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.risk.structural import StructuralGate
from livegate.telemetry.writer import TelemetryWriter
from tests.execution.test_engine_ambiguous_submit import BTC, T0, ScriptedVenue, _intent


class SlowVenue(ScriptedVenue):
    """Accepts every order; a submit whose id is in ``slow`` answers only when ``release`` is set."""

    def __init__(self) -> None:
        super().__init__("accept")
        self.slow: set[str] = set()
        self.release = asyncio.Event()
        self.cancels: list[str] = []

    async def submit(self, order: Order) -> OrderReport:
        self.submits.append(order.client_order_id)
        if order.client_order_id in self.slow:
            await self.release.wait()
        return OrderReport(order.client_order_id, OrderStatus.ACCEPTED, 2, venue_order_id=f"v-{order.client_order_id}")

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        self.cancels.append(client_order_id)
        return OrderReport(client_order_id, OrderStatus.CANCELLED, 3)


def _engine(
    tmp_path: Path, venue: SlowVenue, timeout_secs: float | None = None
) -> tuple[ExecutionEngine, list[str], Portfolio]:
    clock = ReplayClock(T0)
    quotes = QuoteCache()
    quotes.update(Quote("BTCUSDT", Decimal("61800.20"), Decimal(2), Decimal("61800.30"), Decimal(2), T0))
    portfolio = Portfolio()
    ctx = RiskContext(instruments={"BTCUSDT": BTC}, quotes=quotes, portfolio=portfolio, clock=clock)
    engine = ExecutionEngine(
        pipeline=RiskPipeline([StructuralGate()], ctx),
        ledger=Ledger.open(tmp_path / "ledger.sqlite"),
        telemetry=TelemetryWriter(tmp_path / "telemetry.jsonl"),
        portfolio=portfolio,
        venues={venue.name: venue},
        router=lambda _i: venue.name,
        clock=clock,
        session_id="s1",
        strategy_name="t",
        background_venue_calls=True,
        venue_call_timeout_secs=timeout_secs,
    )
    anomalies: list[str] = []
    engine.add_anomaly_handler(lambda kind, _detail: anomalies.append(kind))
    return engine, anomalies, portfolio


@pytest.mark.asyncio
async def test_dispatch_when_submit_is_slow_then_returns_and_other_cancels_complete_meanwhile(
    tmp_path: Path,
) -> None:
    venue = SlowVenue()
    engine, _, portfolio = _engine(tmp_path, venue)
    resting = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    await engine.settle()
    slow = engine.submit_intent(_intent(engine))
    venue.slow.add(slow.client_order_id)
    await asyncio.wait_for(engine.dispatch(), 1)  # returns at once although the venue has not answered
    assert engine.calls_in_flight == 1
    assert engine.request_cancel(resting.client_order_id)
    await engine.dispatch()
    for _ in range(10):  # the session loop goes on: a few turns of the event loop
        await asyncio.sleep(0)
    assert venue.cancels == [resting.client_order_id], "a cancel went out while the submit hung"
    slow_order = portfolio.order(slow.client_order_id)
    assert slow_order is not None and slow_order.status is OrderStatus.SUBMITTED, "in flight, counted"
    venue.release.set()
    await engine.settle()
    assert slow_order.status is OrderStatus.ACCEPTED


@pytest.mark.asyncio
async def test_dispatch_when_cancel_requested_during_its_own_submit_then_sent_after_the_answer(
    tmp_path: Path,
) -> None:
    venue = SlowVenue()
    engine, _, _ = _engine(tmp_path, venue)
    slow = engine.submit_intent(_intent(engine))
    venue.slow.add(slow.client_order_id)
    await engine.dispatch()
    engine.request_cancel(slow.client_order_id)
    await engine.dispatch()
    await asyncio.sleep(0)
    assert venue.cancels == [], "not before the venue has answered the submit"
    venue.release.set()
    await engine.settle()
    await engine.dispatch()
    await engine.settle()
    assert venue.cancels == [slow.client_order_id]


@pytest.mark.asyncio
async def test_submit_when_venue_never_answers_within_call_timeout_then_ambiguous_in_flight(tmp_path: Path) -> None:
    venue = SlowVenue()
    engine, anomalies, _ = _engine(tmp_path, venue, timeout_secs=0.05)
    slow = engine.submit_intent(_intent(engine))
    venue.slow.add(slow.client_order_id)
    await engine.dispatch()
    await engine.settle()
    assert anomalies == ["ambiguous_submit"]
    assert slow.client_order_id in engine.ambiguous_orders
