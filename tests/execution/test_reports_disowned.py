"""Reports of orders the session does not hold: a leftover it cancels (issue 10, 3m), outside orders."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.enums import Liquidity, OrderStatus, Side
from livegate.domain.orders import Fill, OrderReport
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


def _fill(client_order_id: str, fill_id: str) -> Fill:
    return Fill(client_order_id, fill_id, "BTCUSDT", Side.BUY, Decimal("60000"), Decimal("0.01"), Decimal(0),
                Liquidity.TAKER, 1_000)  # fmt: skip


def test_report_applier_when_outside_order_reports_and_fills_then_neither_recorded_nor_anomaly_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # an order typed into the venue's web UI: the account stream carries it like livegate's own
    applier, ledger, anomalies = _applier(tmp_path)
    with caplog.at_level(logging.WARNING, logger="livegate"):
        applier.apply(OrderReport("web_3f2a9c", OrderStatus.ACCEPTED, 1_000))
        applier.apply(_fill("web_3f2a9c", "t-1"))
        applier.apply(OrderReport("web_3f2a9c", OrderStatus.FILLED, 1_001))
    assert anomalies == []
    assert list(ledger.events()) == []
    assert [r.getMessage() for r in caplog.records] == [
        "report of an outside order 'web_3f2a9c' (not livegate's): left alone"
    ]


def test_report_applier_when_a_fill_names_no_client_order_id_then_invariant_violation_not_outside(
    tmp_path: Path,
) -> None:
    # a trade whose order the adapter cannot map (no client id at all) is not proof of an outside order
    applier, ledger, anomalies = _applier(tmp_path)
    applier.apply(_fill("", "t-2"))
    assert anomalies == ["invariant_violation"]
    assert [e.payload["fill_id"] for e in ledger.events(ev.FILL)] == ["t-2"]
