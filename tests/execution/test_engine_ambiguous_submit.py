"""Ambiguous submits: resolved by client order id, resent at most once, silent fills adopted."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.clock import ReplayClock
from livegate.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.errors import Ambiguous
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote
from livegate.domain.orders import Order, OrderIntent, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.execution.engine import ExecutionEngine
from livegate.ledger.export import export_rows
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.gate import RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.risk.structural import StructuralGate
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.base import ReportSink, VenueCapabilities

BTC = Instrument("BTCUSDT", "scripted", Decimal("0.10"), Decimal("0.001"), Decimal(5), min_quantity=Decimal("0.001"))


class ScriptedVenue:
    """A venue whose submit always times out; ``behaviour`` says what really happened."""

    name = "scripted"
    capabilities = VenueCapabilities(fetch_by_client_order_id=True)

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.submits: list[str] = []
        self.known: dict[str, VenueOrderSnapshot] = {}

    def bind(self, sink: ReportSink) -> None:
        self.sink = sink

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def instruments(self) -> dict[str, Instrument]:
        return {"BTCUSDT": BTC}

    async def submit(self, order: Order) -> OrderReport:
        self.submits.append(order.client_order_id)
        if self.behaviour == "filled_silently":
            self.known[order.client_order_id] = VenueOrderSnapshot(
                order.client_order_id,
                "v1",
                order.symbol,
                order.side,
                order.intent.order_type,
                order.quantity,
                order.price,
                order.quantity,
                OrderStatus.FILLED,
                5,
                average_fill_price=Decimal("61800.30"),
            )
        raise Ambiguous("read timed out")

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        raise AssertionError("not used")

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        return []

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        return self.known.get(client_order_id)

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        return []

    async def positions(self) -> list[PositionSnapshot]:
        return []

    async def balances(self) -> list[BalanceSnapshot]:
        return []


def _engine(tmp_path: Path, venue: ScriptedVenue) -> tuple[ExecutionEngine, Portfolio, list[tuple[str, str]]]:
    clock = ReplayClock(1_723_161_256_313)
    quotes = QuoteCache()
    quotes.update(Quote("BTCUSDT", Decimal("61800.20"), Decimal(2), Decimal("61800.30"), Decimal(2), clock.now_ms()))
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
    )
    anomalies: list[tuple[str, str]] = []
    engine.add_anomaly_handler(lambda kind, detail: anomalies.append((kind, detail)))
    return engine, portfolio, anomalies


def _intent(engine: ExecutionEngine) -> OrderIntent:
    return OrderIntent(
        "BTCUSDT",
        Side.BUY,
        Decimal("0.002"),
        OrderType.LIMIT,
        Decimal("61800.30"),
        TimeInForce.GTC,
        False,
        False,
        "t",
        engine.new_intent_seq(),
        1_723_161_256_313,
    )


@pytest.mark.asyncio
async def test_resolve_when_lookup_never_finds_the_order_then_resent_exactly_once(tmp_path: Path) -> None:
    venue = ScriptedVenue("lost")
    engine, _, anomalies = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    for _ in range(4):
        await engine.resolve_ambiguous()
    assert venue.submits == [decision.client_order_id] * 2
    assert ("unresolved_after_resend", decision.client_order_id) in anomalies


@pytest.mark.asyncio
async def test_resolve_when_venue_filled_silently_then_fill_adopted_and_order_filled(tmp_path: Path) -> None:
    venue = ScriptedVenue("filled_silently")
    engine, portfolio, anomalies = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    await engine.resolve_ambiguous()
    order = portfolio.order(decision.client_order_id)
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert venue.submits == [decision.client_order_id]
    assert portfolio.position("BTCUSDT").quantity == Decimal("0.002")
    assert any(kind == "fills_adopted" for kind, _ in anomalies)
    _, fills = export_rows(tmp_path / "ledger.sqlite", "fills")
    assert [(f["price"], f["quantity"]) for f in fills] == [("61800.30", "0.002")]
