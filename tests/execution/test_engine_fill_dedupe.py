"""Fills count once per venue trade id, and a fill after the cancel report is applied (issue 9 item 7)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from livegate.control.resume import rebuild_from_ledger
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from livegate.domain.errors import Rejected
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote
from livegate.domain.orders import Fill, Order, OrderIntent, OrderReport
from livegate.domain.snapshots import BalanceSnapshot, PositionSnapshot, VenueOrderSnapshot
from livegate.execution.engine import ExecutionEngine
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.gate import RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.risk.structural import StructuralGate
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.base import ReportSink, VenueCapabilities

BTC = Instrument("BTCUSDT", "acks", Decimal("0.10"), Decimal("0.001"), Decimal(5), min_quantity=Decimal("0.001"))
T0 = 1_723_161_256_313


class AcceptingVenue:
    """A venue that accepts every order and cancels on request; fills are pushed by the test."""

    name = "acks"
    capabilities = VenueCapabilities(fetch_by_client_order_id=True)

    def bind(self, sink: ReportSink) -> None:
        self.sink = sink

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def instruments(self) -> dict[str, Instrument]:
        return {"BTCUSDT": BTC}

    async def submit(self, order: Order) -> OrderReport:
        return OrderReport(order.client_order_id, OrderStatus.ACCEPTED, T0, venue_order_id="v1")

    refuse_cancels = 0

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        if self.refuse_cancels:
            self.refuse_cancels -= 1
            raise Rejected("unknown order sent", "-2011")
        return OrderReport(client_order_id, OrderStatus.CANCELLED, T0 + 5)

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        return []

    async def fetch_order(self, client_order_id: str, symbol: str) -> VenueOrderSnapshot | None:
        return None

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        return []

    async def positions(self) -> list[PositionSnapshot]:
        return []

    async def balances(self) -> list[BalanceSnapshot]:
        return []


def _engine(
    tmp_path: Path, venue: AcceptingVenue | None = None
) -> tuple[ExecutionEngine, Portfolio, Ledger, list[tuple[str, str]]]:
    clock = ReplayClock(T0)
    quotes = QuoteCache()
    quotes.update(Quote("BTCUSDT", Decimal("61800.20"), Decimal(2), Decimal("61800.30"), Decimal(2), T0))
    portfolio = Portfolio()
    ctx = RiskContext(instruments={"BTCUSDT": BTC}, quotes=quotes, portfolio=portfolio, clock=clock)
    ledger = Ledger.open(tmp_path / "ledger.sqlite", synchronous="OFF")
    ledger.append(ev.SESSION_STARTED, T0, {"session_id": "s1", "mode": "paper", "config_hash": "c", "inputs": []})
    venue = venue or AcceptingVenue()
    engine = ExecutionEngine(
        pipeline=RiskPipeline([StructuralGate()], ctx),
        ledger=ledger,
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
    return engine, portfolio, ledger, anomalies


async def _accepted_order(engine: ExecutionEngine, quantity: str = "1.164") -> str:
    intent = OrderIntent(
        "BTCUSDT", Side.BUY, Decimal(quantity), OrderType.LIMIT, Decimal("61800.30"), TimeInForce.GTC,
        False, False, "t", engine.new_intent_seq(), T0,
    )  # fmt: skip
    decision = engine.submit_intent(intent)
    await engine.dispatch()
    return decision.client_order_id


def _fill(cid: str, fill_id: str, quantity: str, ts_ms: int = T0 + 1) -> Fill:
    return Fill(
        cid, fill_id, "BTCUSDT", Side.BUY, Decimal("61800.30"), Decimal(quantity), Decimal("0.01"),
        Liquidity.MAKER, ts_ms, "acks",
    )  # fmt: skip


@pytest.mark.asyncio
async def test_engine_when_fill_reported_twice_then_position_counted_once(tmp_path: Path) -> None:
    engine, portfolio, ledger, anomalies = _engine(tmp_path)
    cid = await _accepted_order(engine)
    fill = _fill(cid, "t-1", "1.164")
    engine.on_report(fill)  # by the stream
    engine.on_report(fill)  # again, by a REST lookup or reconciliation
    assert portfolio.position("BTCUSDT").quantity == Decimal("1.164")
    assert engine.stats.fills == 1 and engine.stats.duplicate_fills == 1
    assert [e.payload["fill_id"] for e in ledger.events(ev.FILL)] == ["t-1"]
    assert anomalies == []
    assert rebuild_from_ledger(ledger).portfolio.position("BTCUSDT").quantity == Decimal("1.164")


@pytest.mark.asyncio
async def test_engine_when_fills_arrive_out_of_order_and_repeated_then_each_trade_counted_once(tmp_path: Path) -> None:
    engine, portfolio, _, anomalies = _engine(tmp_path)
    cid = await _accepted_order(engine, "1.000")
    for fill_id, qty in (("t-2", "0.600"), ("t-1", "0.400"), ("t-2", "0.600"), ("t-1", "0.400")):
        engine.on_report(_fill(cid, fill_id, qty))
    order = portfolio.order(cid)
    assert order is not None and order.status is OrderStatus.FILLED
    assert portfolio.position("BTCUSDT").quantity == Decimal("1.000")
    assert anomalies == []


@pytest.mark.asyncio
async def test_engine_when_fill_arrives_after_cancel_report_then_applied_without_anomaly(tmp_path: Path) -> None:
    engine, portfolio, ledger, anomalies = _engine(tmp_path)
    cid = await _accepted_order(engine, "1.000")
    assert engine.request_cancel(cid)
    await engine.dispatch()
    order = portfolio.order(cid)
    assert order is not None and order.status is OrderStatus.CANCELLED
    engine.on_report(_fill(cid, "t-9", "0.250", T0 + 4))  # executed before the cancel, reported after it
    assert portfolio.position("BTCUSDT").quantity == Decimal("0.250")
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELLED, Decimal("0.250"))
    assert anomalies == []
    rebuilt = rebuild_from_ledger(ledger)
    assert rebuilt.portfolio.position("BTCUSDT").quantity == Decimal("0.250")
    assert rebuilt.anomalies == 0


@pytest.mark.asyncio
async def test_engine_and_ledger_fold_when_reports_race_then_same_orders_and_position(tmp_path: Path) -> None:
    venue = AcceptingVenue()
    venue.refuse_cancels = 1
    engine, portfolio, ledger, anomalies = _engine(tmp_path, venue)
    a, b, c = [await _accepted_order(engine, "1.000") for _ in range(3)]
    engine.on_report(_fill(a, "a-1", "0.300"))
    engine.request_cancel(a)
    await engine.dispatch()  # refused: a is partly filled and working again
    engine.on_report(_fill(a, "a-1", "0.300"))  # repeated
    engine.on_report(OrderReport(a, OrderStatus.ACCEPTED, T0 + 6))  # late echo
    engine.on_report(_fill(b, "b-1", "1.000"))
    engine.on_report(OrderReport(b, OrderStatus.ACCEPTED, T0 + 7))  # late echo after the fill
    engine.request_cancel(c)
    await engine.dispatch()
    engine.on_report(_fill(c, "c-1", "0.100"))  # raced the cancel
    rebuilt = rebuild_from_ledger(ledger)
    for cid in (a, b, c):
        live, folded = portfolio.order(cid), rebuilt.portfolio.order(cid)
        assert live is not None and folded is not None
        assert (folded.status, folded.filled_quantity) == (live.status, live.filled_quantity), cid
    assert [portfolio.order(x).status for x in (a, b, c)] == [  # type: ignore[union-attr]
        OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.CANCELLED,
    ]  # fmt: skip
    position = rebuilt.portfolio.position("BTCUSDT").quantity
    assert position == portfolio.position("BTCUSDT").quantity == Decimal("1.400")
    assert anomalies == []
