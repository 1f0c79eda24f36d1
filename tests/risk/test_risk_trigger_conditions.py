"""The kill triggers' stored conditions follow what holds, heartbeat after heartbeat (``livegate rearm`` reads them)."""

from __future__ import annotations

from pathlib import Path

from livegate.config.models import LivegateConfig
from livegate.control.session_risk import SessionRisk
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import TradingState
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.gate import RiskContext
from livegate.risk.manual_state import blocking_conditions
from livegate.risk.state_store import TradingStateStore
from livegate.telemetry.writer import TelemetryWriter
from tests.risk.helpers import T0, add_working, instruments, quote


def _risk(tmp_path: Path, clock: ReplayClock, cache: QuoteCache, portfolio: Portfolio) -> SessionRisk:
    config = LivegateConfig.model_validate({"kill": {"stale_feed_secs": 2}})
    return SessionRisk(
        config=config,
        env={"LIVEGATE_STATE_DIR": str(tmp_path / "state")},
        clock=clock,
        advance=clock.advance_to,
        quotes=cache,
        portfolio=portfolio,
        instruments=instruments(),
        ledger=Ledger.open(tmp_path / "ledger.sqlite"),
        telemetry=TelemetryWriter(tmp_path / "telemetry.jsonl"),
        run_dir=tmp_path,
        session_id="t",
        report_anomaly=lambda kind, detail: None,
    )


def test_heartbeat_when_a_condition_holds_then_stops_holding_then_it_is_stored_then_cleared(tmp_path: Path) -> None:
    clock, cache, portfolio = ReplayClock(T0), QuoteCache(), Portfolio()
    cache.update(quote(ts=T0))
    ctx = RiskContext(instruments=instruments(), quotes=cache, portfolio=portfolio, clock=clock)
    add_working(ctx, "buy", "0.010", "59000.0")  # exposure: the stale-feed trigger watches this symbol
    risk = _risk(tmp_path, clock, cache, portfolio)
    store = TradingStateStore(tmp_path / "state")

    risk.heartbeat(T0 + 1_000)  # quote 1 s old: nothing holds, nothing stored
    assert risk.kill.conditions == {}
    assert risk.kill.state is TradingState.ACTIVE

    risk.heartbeat(T0 + 5_000)  # quote 5 s old > 2 s with exposure: stale_feed holds
    assert set(risk.kill.conditions) == {"stale_feed"}
    assert risk.kill.state is TradingState.REDUCING
    assert any("stale_feed" in reason for reason in blocking_conditions(store, {}, 0))

    cache.update(quote(ts=T0 + 5_000))
    risk.heartbeat(T0 + 6_000)  # fresh again: the condition no longer holds and is cleared from the store
    assert risk.kill.conditions == {}
    assert blocking_conditions(store, {}, 0) == []
    assert risk.kill.state is TradingState.REDUCING  # a trip stays until an operator rearms
