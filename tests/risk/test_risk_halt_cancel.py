"""On HALTED every open order on every venue is cancelled and the cancel is verified by polling."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from livegate.config.models import LivegateConfig
from livegate.control.session_risk import SessionRisk
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Mode, OrderStatus, TradingState
from livegate.domain.errors import Rejected
from livegate.domain.orders import OrderReport
from livegate.execution.engine import ExecutionEngine
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.gate import RiskContext
from livegate.risk.pipeline import RiskPipeline
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.paper import PaperParams, PaperVenue
from tests.risk.helpers import T0, instruments, intent, quote


class StuckVenue(PaperVenue):
    """A paper venue whose cancels never take effect (a venue that lost our cancels)."""

    async def cancel(self, client_order_id: str, symbol: str) -> OrderReport:
        raise Rejected("cancel lost", "-2011")

    async def cancel_all(self, symbol: str | None = None) -> list[OrderReport]:
        return []


def _session(
    tmp_path: Path,
    venues: list[PaperVenue],
    *,
    clock: ReplayClock | None = None,
    cache: QuoteCache | None = None,
    **kill: object,
) -> tuple[SessionRisk, ExecutionEngine, list]:
    config = LivegateConfig.model_validate({"kill": {"cancel_confirm_timeout_ms": 50, **kill}})
    clock = ReplayClock(T0) if clock is None else clock
    cache = QuoteCache() if cache is None else cache
    cache.update(quote())
    for venue in venues:
        venue.on_quote(quote())
    portfolio = Portfolio()
    ledger = Ledger.open(tmp_path / "ledger.sqlite")
    telemetry = TelemetryWriter(tmp_path / "telemetry.jsonl")
    anomalies: list[tuple[str, str]] = []
    risk = SessionRisk(
        config=config,
        env={"LIVEGATE_STATE_DIR": str(tmp_path / "state")},
        clock=clock,
        advance=clock.advance_to,
        quotes=cache,
        portfolio=portfolio,
        instruments=instruments(),
        ledger=ledger,
        telemetry=telemetry,
        run_dir=tmp_path,
        session_id="t",
        report_anomaly=lambda k, d: anomalies.append((k, d)),
    )
    ctx = RiskContext(instruments=instruments(), quotes=cache, portfolio=portfolio, clock=clock)
    names = itertools.cycle([v.name for v in venues])
    engine = ExecutionEngine(
        pipeline=RiskPipeline(risk.gates(Mode.PAPER), ctx),
        ledger=ledger,
        telemetry=telemetry,
        portfolio=portfolio,
        venues={v.name: v for v in venues},
        router=lambda _i: next(names),
        clock=clock,
        session_id="s",
        strategy_name="t",
    )
    return risk, engine, anomalies


def test_halted_when_orders_rest_on_two_venues_then_all_cancelled_and_verified(tmp_path: Path) -> None:
    venues = [PaperVenue(instruments(), PaperParams(), ReplayClock(T0), name=n) for n in ("paper-a", "paper-b")]
    risk, engine, anomalies = _session(tmp_path, venues)

    async def scenario() -> int:
        for k in range(4):
            assert engine.submit_intent(intent("buy", "0.001", f"5900{k}.0", tif="gtc")).approved
        await engine.dispatch()
        assert await engine.venue_open_order_count() == 4
        risk.kill.trip(TradingState.HALTED, "operator", "test")
        denied = engine.submit_intent(intent("buy", "0.001", "59000.0", tif="gtc"))
        assert not denied.approved
        await risk.service(engine)
        return await engine.venue_open_order_count()

    assert asyncio.run(scenario()) == 0
    assert anomalies == []
    assert all(o.status is OrderStatus.CANCELLED for o in engine._portfolio.all_orders() if o.venue_order_id)
    assert risk.cancel_latency_secs and risk.trips[0]["state"] == "halted"


def test_halted_when_venue_keeps_orders_then_confirmation_times_out_as_anomaly(tmp_path: Path) -> None:
    venue = StuckVenue(instruments(), PaperParams(), ReplayClock(T0), name="stuck")
    risk, engine, anomalies = _session(tmp_path, [venue], lock_on_anomaly=True)

    async def scenario() -> int:
        assert engine.submit_intent(intent("buy", "0.001", "59000.0", tif="gtc")).approved
        await engine.dispatch()
        risk.kill.trip(TradingState.HALTED, "operator", "test")
        await risk.service(engine)
        return await engine.venue_open_order_count()

    assert asyncio.run(scenario()) == 1
    assert [k for k, _ in anomalies] == ["cancel_all_unconfirmed"]
    risk.on_anomaly(*anomalies[0])
    assert (tmp_path / "state" / "session.lock").exists()


def test_halted_when_flatten_on_halt_then_position_closed_with_reduce_only_order(tmp_path: Path) -> None:
    venue = PaperVenue(instruments(), PaperParams(), ReplayClock(T0), name="paper")
    risk, engine, anomalies = _session(tmp_path, [venue], flatten_on_halt=True)

    async def scenario() -> None:
        assert engine.submit_intent(intent("buy", "0.010")).approved
        await engine.dispatch()
        risk.kill.trip(TradingState.HALTED, "operator", "test")
        await risk.service(engine)
        await risk.settle_flatten()

    asyncio.run(scenario())
    assert anomalies == []
    assert engine._portfolio.position_quantity("BTCUSDT") == 0
    flatten = [o for o in engine._portfolio.all_orders() if o.intent.strategy_id == "livegate-flatten"]
    assert len(flatten) == 1 and flatten[0].intent.reduce_only


def test_halted_when_flatten_on_halt_and_quote_stale_then_service_returns_rounds_retry_and_close_on_fresh_quote(
    tmp_path: Path,
) -> None:
    clock, cache = ReplayClock(T0), QuoteCache()
    venue = PaperVenue(instruments(), PaperParams(), clock, name="paper")
    risk, engine, anomalies = _session(
        tmp_path, [venue], clock=clock, cache=cache, flatten_on_halt=True, flatten_retry_ms=20, flatten_timeout_ms=5000
    )

    async def scenario() -> tuple[bool, list[tuple[str, str]]]:
        assert engine.submit_intent(intent("buy", "0.010")).approved
        await engine.dispatch()
        clock.advance_to(T0 + 10_000)  # the last quote is now 10 s old: flatten is denied (stale quote)
        risk.kill.trip(TradingState.HALTED, "operator", "test")
        await risk.service(engine)  # returns at once: the rounds run beside the session loop
        await asyncio.sleep(0.1)
        running, denied_so_far = engine._portfolio.position_quantity("BTCUSDT") != 0, list(anomalies)
        fresh = quote(ts=T0 + 10_000)
        cache.update(fresh)  # the session's feed goes on
        venue.on_quote(fresh)
        result = await risk.settle_flatten()
        assert result is not None and result.flat and result.rounds >= 2
        return running, denied_so_far

    running, denied_so_far = asyncio.run(scenario())
    assert running, "still open while the quote was stale"
    assert denied_so_far and all(kind == "flatten_denied" for kind, _ in denied_so_far)
    assert engine._portfolio.position_quantity("BTCUSDT") == 0
