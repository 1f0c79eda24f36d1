"""Ambiguous submits: in flight until venue truth settles them, never resent by default, silent fills adopted."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from livegate.config.risk_models import KillConfig, RiskConfig
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce, TradingState
from livegate.domain.errors import Ambiguous, Rejected, Retryable
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote
from livegate.domain.orders import Fill, Order, OrderIntent, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.execution.engine import ExecutionEngine
from livegate.ledger.export import export_rows
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.daily import DailyBook, EquityPeak
from livegate.risk.gate import RiskContext
from livegate.risk.limits import OpenOrdersGate, SymbolNotionalGate
from livegate.risk.pipeline import RiskPipeline
from livegate.risk.structural import StructuralGate
from livegate.risk.triggers import TriggerMonitor
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.base import ReportSink, VenueCapabilities

BTC = Instrument("BTCUSDT", "scripted", Decimal("0.10"), Decimal("0.001"), Decimal(5), min_quantity=Decimal("0.001"))


class ScriptedVenue:
    """A venue whose submit fails; ``behaviour`` says what really happened.

    ``lost``: timed out, the venue never saw it. ``filled_silently``: timed out, the venue
    filled it. ``stream_then_503``: the private stream reports it accepted and filled, then
    the REST answer is 503 -1007. ``rate_limited``: 429, not placed. ``duplicate``:
    "Duplicate order sent." (-2010), the venue holds it.
    """

    name = "scripted"

    def __init__(self, behaviour: str, *, unique_for_life: bool = False) -> None:
        self.behaviour = behaviour
        self.capabilities = VenueCapabilities(fetch_by_client_order_id=True, client_id_unique_for_life=unique_for_life)
        self.submits: list[str] = []
        self.lookups: list[str] = []
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
        if self.behaviour == "stream_then_503":
            cid = order.client_order_id
            self.sink(OrderReport(cid, OrderStatus.ACCEPTED, 5, venue_order_id="v1"))
            fill = Fill(cid, "t1", order.symbol, order.side, Decimal("61800.30"), order.quantity, Decimal(0),
                        Liquidity.TAKER, 6, self.name)  # fmt: skip
            self.sink(fill)
            self.sink(OrderReport(cid, OrderStatus.FILLED, 6, venue_order_id="v1", filled_quantity=order.quantity))
            raise Ambiguous("503 Timeout waiting for response from backend server", "-1007")
        if self.behaviour == "rate_limited":
            raise Retryable("429 Too many requests", "-1003")
        if self.behaviour == "duplicate":
            raise Ambiguous("Duplicate order sent.", "-2010")
        if self.behaviour == "accept_on_resend" and len(self.submits) > 1:
            return OrderReport(order.client_order_id, OrderStatus.ACCEPTED, 7, venue_order_id="v2")
        raise Ambiguous("read timed out")

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        if client_order_id not in self.known:
            raise Rejected("Unknown order sent.", "-2011")
        raise AssertionError("not used")

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        return []

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        self.lookups.append(client_order_id)
        return self.known.get(client_order_id)

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        return []

    async def positions(self) -> list[PositionSnapshot]:
        return []

    async def balances(self) -> list[BalanceSnapshot]:
        return []


T0 = 1_723_161_256_313


def _engine(
    tmp_path: Path, venue: ScriptedVenue, clock: ReplayClock | None = None, *, caps: bool = False
) -> tuple[ExecutionEngine, Portfolio, list[tuple[str, str]]]:
    clock = clock or ReplayClock(T0)
    quotes = QuoteCache()
    quotes.update(Quote("BTCUSDT", Decimal("61800.20"), Decimal(2), Decimal("61800.30"), Decimal(2), clock.now_ms()))
    portfolio = Portfolio()
    ctx = RiskContext(instruments={"BTCUSDT": BTC}, quotes=quotes, portfolio=portfolio, clock=clock)
    engine = ExecutionEngine(
        pipeline=RiskPipeline(
            [StructuralGate(), *((OpenOrdersGate(1), SymbolNotionalGate(Decimal(200), Decimal(0))) if caps else ())],
            ctx,
        ),
        ledger=Ledger.open(tmp_path / "ledger.sqlite"),
        telemetry=TelemetryWriter(tmp_path / "telemetry.jsonl"),
        portfolio=portfolio,
        venues={venue.name: venue},
        router=lambda _i: venue.name,
        clock=clock,
        session_id="s1",
        strategy_name="t",
        ambiguous_timeout_secs=30,
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
async def test_resolve_when_lookup_never_finds_the_order_then_never_resent_counted_until_timeout_anomaly(
    tmp_path: Path,
) -> None:
    clock = ReplayClock(T0)
    venue = ScriptedVenue("lost")
    engine, portfolio, anomalies = _engine(tmp_path, venue, clock, caps=True)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    for step_ms in (0, 500, 1_000, 3_000, 29_000, 31_000, 90_000):
        clock.advance_to(T0 + step_ms)
        await engine.resolve_ambiguous()
    assert venue.submits == [decision.client_order_id], "nothing is resent"
    order = portfolio.order(decision.client_order_id)
    assert order is not None and order.status is OrderStatus.SUBMITTED
    assert decision.client_order_id in engine.ambiguous_orders
    second = engine.submit_intent(_intent(engine))
    assert not second.approved and second.code.value == "OPEN_ORDERS_CAP", "the in-flight order counts in full"
    kinds = [kind for kind, _ in anomalies]
    assert kinds.count("ambiguous_unresolved") == 1
    assert kinds[0] == "ambiguous_submit"


@pytest.mark.asyncio
async def test_resolve_when_looked_up_again_and_again_then_backoff_spaces_the_lookups(tmp_path: Path) -> None:
    clock = ReplayClock(T0)
    venue = ScriptedVenue("lost")
    engine, _, _ = _engine(tmp_path, venue, clock)
    engine.submit_intent(_intent(engine))
    await engine.dispatch()
    for step_ms in range(0, 8_000, 100):  # a heartbeat every 100 ms for 8 s
        clock.advance_to(T0 + step_ms)
        await engine.resolve_ambiguous()
    # due at 0, +1 s, +2 s, +4 s: lookups at 0, 1.0, 3.0 and 7.0 s
    assert len(venue.lookups) == 4


@pytest.mark.asyncio
async def test_submit_when_stream_reported_fill_before_503_then_settled_and_never_resent(tmp_path: Path) -> None:
    venue = ScriptedVenue("stream_then_503")
    engine, portfolio, _ = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    await engine.resolve_ambiguous()
    assert engine.ambiguous_orders == {}
    order = portfolio.order(decision.client_order_id)
    assert order is not None and order.status is OrderStatus.FILLED
    assert portfolio.position("BTCUSDT").quantity == Decimal("0.002")
    assert venue.submits == [decision.client_order_id]


@pytest.mark.asyncio
async def test_submit_when_venue_says_duplicate_order_sent_then_in_flight_not_rejected(tmp_path: Path) -> None:
    venue = ScriptedVenue("duplicate")
    engine, portfolio, _ = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    order = portfolio.order(decision.client_order_id)
    assert order is not None and order.status is OrderStatus.SUBMITTED
    assert decision.client_order_id in engine.ambiguous_orders
    venue.known[decision.client_order_id] = VenueOrderSnapshot(
        decision.client_order_id, "v9", "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.002"),
        Decimal("61800.30"), Decimal(0), OrderStatus.ACCEPTED, 9,
    )  # fmt: skip
    await engine.resolve_ambiguous()
    assert order.status is OrderStatus.ACCEPTED and order.venue_order_id == "v9"
    assert venue.submits == [decision.client_order_id]


@pytest.mark.asyncio
async def test_submit_when_rate_limited_then_rejected_as_not_placed_and_never_looked_up(tmp_path: Path) -> None:
    venue = ScriptedVenue("rate_limited")
    engine, portfolio, anomalies = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    await engine.resolve_ambiguous()
    order = portfolio.order(decision.client_order_id)
    assert order is not None and order.status is OrderStatus.REJECTED
    assert engine.ambiguous_orders == {}
    assert venue.lookups == []
    assert [kind for kind, _ in anomalies] == []


@pytest.mark.asyncio
async def test_resolve_when_venue_guarantees_ids_unique_for_life_then_resent_at_most_once(tmp_path: Path) -> None:
    venue = ScriptedVenue("lost", unique_for_life=True)
    engine, _, anomalies = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    for _ in range(3):
        await engine.resolve_ambiguous()
    assert venue.submits == [decision.client_order_id] * 2
    assert ("ambiguous_resend", f"{decision.client_order_id}: read timed out") in anomalies


@pytest.mark.asyncio
async def test_resolve_when_opted_in_but_halted_then_never_resent(tmp_path: Path) -> None:
    venue = ScriptedVenue("lost", unique_for_life=True)
    engine, _, _ = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    await engine.halt_all_venues("kill: test")
    await engine.resolve_ambiguous()
    assert venue.submits == [decision.client_order_id]
    assert decision.client_order_id in engine.ambiguous_orders


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
    # venue answers join the next commit (the session timer's tick; docs/recovery.md "Durability")
    engine._ledger.flush()
    _, fills = export_rows(tmp_path / "ledger.sqlite", "fills")
    assert [(f["price"], f["quantity"]) for f in fills] == [("61800.30", "0.002")]


def test_trigger_when_ambiguous_order_unresolved_after_timeout_then_reducing() -> None:
    risk = RiskConfig()
    monitor = TriggerMonitor(risk, KillConfig(), DailyBook(), EquityPeak())
    hit = monitor.on_anomaly("ambiguous_unresolved", "c1: outcome unknown 61.0 s after submit", T0)
    assert hit is not None and hit.state is TradingState.REDUCING


@pytest.mark.asyncio
async def test_resolve_when_opted_in_but_a_report_showed_the_order_then_never_resent(tmp_path: Path) -> None:
    venue = ScriptedVenue("stream_then_503", unique_for_life=True)
    engine, _, _ = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    await engine.dispatch()
    for _ in range(3):
        await engine.resolve_ambiguous()
    assert venue.submits == [decision.client_order_id]
    assert venue.lookups == [], "settled by the stream's reports: nothing to look up"


@pytest.mark.asyncio
async def test_submit_when_many_orders_reported_then_none_kept_as_shown_after_their_calls(tmp_path: Path) -> None:
    # what a report showed matters only while that order's submit call is in the air: a run of
    # many orders must not keep every client order id (issue 14 item 2)
    venue = ScriptedVenue("stream_then_503")
    engine, portfolio, _ = _engine(tmp_path, venue)
    decisions = []
    for _ in range(3):
        decisions.append(engine.submit_intent(_intent(engine)))
        await engine.dispatch()
    await engine.resolve_ambiguous()
    assert engine.ambiguous_orders == {}
    assert all(portfolio.order(d.client_order_id).status is OrderStatus.FILLED for d in decisions)  # type: ignore[union-attr]
    assert engine._ambiguous._shown == set() and engine._ambiguous._calling == set()
