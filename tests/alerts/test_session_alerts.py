"""The session's alert hooks (runtime/alerting.py): what each event alerts, with which key and severity."""

from __future__ import annotations

import json
from pathlib import Path

from livegate.alerts.model import AlertSeverity
from livegate.config.alerts_models import AlertsConfig
from livegate.domain.enums import AnomalyKind, TradingState
from livegate.reconcile.drift import DriftKind, DriftRecord
from livegate.risk.killswitch import KillSwitch
from livegate.risk.triggers import ANOMALY_RESPONSES, AnomalyResponse
from livegate.runtime.alerting import ANOMALY_SEVERITY, SessionAlerts
from tests.alerts.fakes import FakeClock, FakeDestination


def session(tmp_path: Path) -> tuple[SessionAlerts, FakeDestination, FakeClock]:
    dest = FakeDestination("fake")
    clock = FakeClock()
    alerts = SessionAlerts(
        AlertsConfig(throttle_secs=0, dedup_secs=0), clock, tmp_path, routes={s: [dest] for s in AlertSeverity}
    )
    return alerts, dest, clock


def delivered(alerts: SessionAlerts, dest: FakeDestination) -> list[tuple[str, AlertSeverity]]:
    alerts.close()
    return [(a.key, a.severity) for a in dest.got]


def test_anomaly_severity_when_any_response_then_a_severity_exists_for_every_anomaly_kind() -> None:
    assert set(ANOMALY_SEVERITY) == set(AnomalyResponse)
    assert {ANOMALY_SEVERITY[ANOMALY_RESPONSES[k]] for k in AnomalyKind} <= set(AlertSeverity)


def test_session_alerts_when_anomalies_then_drift_is_its_own_key_and_severity_follows_the_response(
    tmp_path: Path,
) -> None:
    alerts, dest, _ = session(tmp_path)
    alerts.on_anomaly("reconcile_drift", "reconcile drift (periodic): 1 beyond tolerance")
    alerts.on_anomaly("venue_fatal", "auth error")
    alerts.on_anomaly("ambiguous_unresolved", "lg1 60 s")
    alerts.on_anomaly("strategy_error", "boom")
    assert delivered(alerts, dest) == [
        ("drift", AlertSeverity.CRIT),
        ("anomaly.venue_fatal", AlertSeverity.CRIT),
        ("anomaly.ambiguous_unresolved", AlertSeverity.WARN),
        ("anomaly.strategy_error", AlertSeverity.WARN),
    ]


def test_session_alerts_when_kill_switch_trips_then_state_alert_per_change(tmp_path: Path) -> None:
    alerts, dest, clock = session(tmp_path)
    kill = KillSwitch(None, clock)
    kill.add_listener(alerts.on_state_changed)
    kill.trip(TradingState.REDUCING, "drift", "reconcile")
    kill.trip(TradingState.HALTED, "drawdown 0.51 USD >= 0.50 USD", "trigger:drawdown")
    assert delivered(alerts, dest) == [("state.reducing", AlertSeverity.WARN), ("state.halted", AlertSeverity.CRIT)]
    assert dest.got[1].body == "REDUCING -> HALTED by trigger:drawdown: drawdown 0.51 USD >= 0.50 USD"


def test_session_alerts_when_real_money_mode_starts_then_live_enabled_alert(tmp_path: Path) -> None:
    alerts, dest, _ = session(tmp_path)
    common = {"session_id": "s1", "venue": "fake:demo", "strategy": "x:Y", "state": TradingState.ACTIVE}
    alerts.session_started(mode="live", real_money=True, **common)  # type: ignore[arg-type]
    alerts.session_started(mode="paper", real_money=False, **common)  # type: ignore[arg-type]
    assert delivered(alerts, dest) == [
        ("session.started", AlertSeverity.INFO),
        ("live.enabled", AlertSeverity.WARN),
        ("session.started", AlertSeverity.INFO),
    ]


def test_session_alerts_when_startup_settled_leftover_orders_then_one_alert_naming_them(tmp_path: Path) -> None:
    alerts, dest, _ = session(tmp_path)

    def record(cid: str, tolerance: str) -> DriftRecord:
        return DriftRecord(
            kind=DriftKind.MISSING_INTERNAL,
            venue="fake",
            symbol="BTCUSDT",
            internal_value="",
            venue_value="new/0",
            difference="leftover of an earlier session: cancelled",
            tolerance=tolerance,
            source="open_orders",
            trigger="startup",
            ts_ms=1,
            beyond_tolerance=False,
            resolved=True,
            client_order_id=cid,
        )

    alerts.startup_reconciled([record("lgaaaa-1", "on_leftover_orders=cancel"), record("x", "0")], "cancel")
    alerts.startup_reconciled([], "cancel")
    assert delivered(alerts, dest) == [("leftover_orders", AlertSeverity.WARN)]
    assert dest.got[0].title == "livegate: 1 leftover order(s) found at fake"
    assert dest.got[0].body == "on_leftover_orders=cancel: lgaaaa-1 (BTCUSDT)"


def test_session_alerts_when_built_and_closed_then_health_file_written_both_times(tmp_path: Path) -> None:
    alerts, _, _ = session(tmp_path)
    assert json.loads((tmp_path / "alerts_health.json").read_text())["sent_total"] == 0
    alerts.session_stopped(session_id="s1", reason="end of data", state=TradingState.HALTED, anomalies=1)
    alerts.close()
    record = json.loads((tmp_path / "alerts_health.json").read_text())
    assert (record["sent_total"], record["failing"], record["emitted_total"]) == (1, False, 1)
    assert alerts.health().sent_total == 1
