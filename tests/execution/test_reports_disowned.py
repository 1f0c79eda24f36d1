"""Reports for orders of an earlier session this session cancels (issue 10, 3m): recorded, no anomaly."""

from __future__ import annotations

from pathlib import Path

from livegate.domain.enums import OrderStatus
from livegate.domain.orders import OrderReport
from livegate.execution.reports import EngineStats, ReportApplier
from livegate.ledger import events as ev
from livegate.ledger.store import Ledger
from livegate.portfolio import Portfolio
from livegate.telemetry.writer import TelemetryWriter

LEFTOVER = "lg0123456789-3e99-0"


def _applier(tmp_path: Path) -> tuple[ReportApplier, Ledger, list[str]]:
    anomalies: list[str] = []
    ledger = Ledger.open(tmp_path / "ledger.sqlite")
    applier = ReportApplier(
        ledger=ledger,
        telemetry=TelemetryWriter(tmp_path / "telemetry.jsonl"),
        portfolio=Portfolio(),
        stats=EngineStats(),
        anomaly=lambda kind, detail: anomalies.append(kind),
        crash=lambda point: None,
    )
    return applier, ledger, anomalies


def test_report_applier_when_report_for_disowned_leftover_then_recorded_without_anomaly(tmp_path: Path) -> None:
    applier, ledger, anomalies = _applier(tmp_path)
    applier.disown(LEFTOVER)
    applier.apply(OrderReport(LEFTOVER, OrderStatus.CANCELLED, 1_000))
    assert anomalies == []
    assert [e.payload["client_order_id"] for e in ledger.events(ev.ORDER_REPORT)] == [LEFTOVER]


def test_report_applier_when_report_for_unknown_order_then_invariant_violation(tmp_path: Path) -> None:
    applier, _ledger, anomalies = _applier(tmp_path)
    applier.apply(OrderReport(LEFTOVER, OrderStatus.CANCELLED, 1_000))
    assert anomalies == ["invariant_violation"]
