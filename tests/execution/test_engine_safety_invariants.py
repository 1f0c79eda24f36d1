"""docs/architecture.md §3.1, §3.4, §3.5: one door, fail closed on a ledger failure, write-ahead."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from livegate.config.risk_models import KillConfig, RiskConfig
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import DenialCode, OrderStatus, TradingState
from livegate.domain.errors import InvariantViolation
from livegate.domain.orders import Order, OrderReport
from livegate.risk.daily import DailyBook, EquityPeak
from livegate.risk.triggers import TriggerMonitor
from tests.execution.test_engine_ambiguous_submit import ScriptedVenue, _engine, _intent


class WriteAheadProbe(ScriptedVenue):
    """Accepts every order; at submit time reads the ledger file through its own connection."""

    def __init__(self, ledger_path: Path) -> None:
        super().__init__("accept")
        self.ledger_path = ledger_path
        self.seen_before_call: list[set[str]] = []

    async def submit(self, order: Order) -> OrderReport:
        con = sqlite3.connect(self.ledger_path)
        try:
            kinds = {
                kind
                for (kind,) in con.execute(
                    "SELECT kind FROM events WHERE json_extract(payload, '$.client_order_id') = ?",
                    (order.client_order_id,),
                )
            }
        finally:
            con.close()
        self.seen_before_call.append(kinds)
        return OrderReport(order.client_order_id, OrderStatus.ACCEPTED, 1, venue_order_id="v1")


def test_approved_when_built_without_the_pipeline_seal_then_refused() -> None:
    with pytest.raises(InvariantViolation):
        Approved(intent=None, client_order_id="x", venue="paper", _seal=object())  # type: ignore[arg-type]


def test_engine_when_given_a_denied_decision_then_refuses_it(tmp_path: Path) -> None:
    venue = ScriptedVenue("accept")
    engine, _, _ = _engine(tmp_path, venue)
    denied = Denied(_intent(engine), "cid", DenialCode.HALTED, "test")
    with pytest.raises(InvariantViolation):
        engine.accept(denied)  # type: ignore[arg-type]
    assert venue.submits == []


@pytest.mark.asyncio
async def test_submit_when_venue_is_called_then_intent_decision_and_submit_requested_are_already_durable(
    tmp_path: Path,
) -> None:
    venue = WriteAheadProbe(tmp_path / "ledger.sqlite")
    engine, _, _ = _engine(tmp_path, venue)
    decision = engine.submit_intent(_intent(engine))
    assert decision.approved
    await engine.dispatch()
    assert venue.seen_before_call == [{"intent", "decision", "submit_requested"}]


def test_submit_intent_when_ledger_cannot_be_written_then_denied_and_anomaly_halts(tmp_path: Path) -> None:
    venue = ScriptedVenue("accept")
    engine, portfolio, anomalies = _engine(tmp_path, venue)
    engine._ledger.close()
    decision = engine.submit_intent(_intent(engine))
    assert isinstance(decision, Denied)
    assert decision.code is DenialCode.GATE_ERROR
    assert not engine.has_pending
    assert portfolio.working_count() == 0
    kinds = [kind for kind, _ in anomalies]
    assert kinds == ["ledger_write_failed"]
    monitor = TriggerMonitor(RiskConfig(), KillConfig(), DailyBook(), EquityPeak())
    hit = monitor.on_anomaly("ledger_write_failed", anomalies[0][1], 1)
    assert hit is not None
    assert hit.state is TradingState.HALTED
