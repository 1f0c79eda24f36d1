"""Real apprise plugins (ntfy://, slack://) deliver to loopback stand-ins; a closed port fails and is counted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from livegate.alerts.catalog import probe_alert, state_changed_alert
from livegate.alerts.destinations import AppriseDestination, build_destinations
from livegate.alerts.dispatcher import AlertDispatcher
from livegate.alerts.model import AlertSeverity
from livegate.alerts.send import send_daily_summary, send_now
from livegate.config.alerts_models import AlertsConfig
from livegate.domain.enums import Mode, TradingState
from livegate.domain.errors import ConfigError
from tests.alerts.fakes import FakeClock
from tests.alerts.stubs import StubReceiver, dead_port

SLACK_TOKENS = "TQWERTY12/BASDFGH34/ZXCVBNMPOIUYT5678"


def config(ntfy: StubReceiver, slack: StubReceiver, **kw: object) -> AlertsConfig:
    return AlertsConfig(
        urls=[f"ntfy://127.0.0.1:{ntfy.port}/livegate"],
        crit_urls=[f"slack://{SLACK_TOKENS}"],
        slack_webhook_url=f"{slack.base}/services",
        **kw,  # type: ignore[arg-type]
    )


def test_ntfy_plugin_when_pointed_at_loopback_then_topic_title_and_text_arrive(ntfy: StubReceiver) -> None:
    dest = AppriseDestination(f"ntfy://127.0.0.1:{ntfy.port}/livegate", timeout_secs=5)
    assert dest.deliver(probe_alert(AlertSeverity.WARN, "hello ntfy")) is None
    (got,) = ntfy.received
    assert got.body == {"topic": "livegate", "title": "livegate: test alert (WARN)", "message": "hello ntfy"}
    assert dest.name == f"ntfy://127.0.0.1:{ntfy.port}/***"


def test_slack_plugin_when_webhook_base_overridden_then_webhook_path_and_text_arrive(slack: StubReceiver) -> None:
    dest = AppriseDestination(f"slack://{SLACK_TOKENS}", timeout_secs=5, slack_webhook_url=f"{slack.base}/services")
    assert dest.deliver(probe_alert(AlertSeverity.CRIT, "hello slack")) is None
    (got,) = slack.received
    assert got.path == f"/services/{SLACK_TOKENS}"
    assert "hello slack" in slack.texts()[0] and "test alert (CRIT)" in slack.texts()[0]
    assert dest.name == "slack://***"


def test_destination_when_port_closed_then_failure_reason_names_it_without_secrets() -> None:
    port = dead_port()
    dest = AppriseDestination(f"ntfy://127.0.0.1:{port}/SECRETTOPIC", timeout_secs=2)
    error = dest.deliver(probe_alert(AlertSeverity.INFO, "x"))
    assert error is not None and error.startswith(f"ntfy://127.0.0.1:{port}/***: ")
    assert "SECRETTOPIC" not in error


def test_destination_when_url_unknown_to_apprise_then_config_error_hides_the_url() -> None:
    with pytest.raises(ConfigError, match=r"nosuchservice://\*\*\*") as err:
        AppriseDestination("nosuchservice://SECRET/x", timeout_secs=1)
    assert "SECRET" not in str(err.value)


def test_build_destinations_when_urls_and_crit_urls_then_routes_share_one_object_per_url(
    ntfy: StubReceiver, slack: StubReceiver
) -> None:
    routes = build_destinations(config(ntfy, slack))
    assert [len(routes[s]) for s in AlertSeverity] == [1, 1, 2]
    assert routes[AlertSeverity.INFO][0] is routes[AlertSeverity.CRIT][0]


def test_dispatcher_with_real_plugins_when_n_identical_alerts_then_one_delivered_and_rest_throttled(
    ntfy: StubReceiver, slack: StubReceiver
) -> None:
    cfg = config(ntfy, slack, throttle_secs=300)
    d = AlertDispatcher(build_destinations(cfg), FakeClock(), throttle_secs=300, dedup_secs=3600)
    halted = state_changed_alert(TradingState.HALTED, TradingState.ACTIVE, "KILL file present", "kill_file")
    for _ in range(20):
        d.emit(halted)
    d.emit(probe_alert(AlertSeverity.INFO, "routine"))
    stats = d.close(drain_secs=20)
    assert len(slack.received) == 1  # CRIT: ntfy and slack, once
    assert len(ntfy.received) == 2  # the CRIT once, the INFO (ntfy only)
    assert (stats.throttled_total, stats.health.sent_total, stats.health.failed_total) == (19, 3, 0)


def test_dispatcher_with_real_plugins_when_one_destination_dead_then_health_failing_and_live_one_delivered(
    ntfy: StubReceiver,
) -> None:
    port = dead_port()
    cfg = AlertsConfig(urls=[f"ntfy://127.0.0.1:{ntfy.port}/ok", f"ntfy://127.0.0.1:{port}/gone"], timeout_secs=2)
    d = AlertDispatcher(build_destinations(cfg), FakeClock())
    d.emit(probe_alert(AlertSeverity.INFO, "x"))
    health = d.close(drain_secs=20).health
    assert len(ntfy.received) == 1
    assert (health.sent_total, health.failed_total, health.failing) == (1, 1, True)
    assert health.last_error is not None and f"127.0.0.1:{port}" in health.last_error


def test_send_now_when_severity_routed_then_only_its_destinations_and_report_per_destination(
    ntfy: StubReceiver, slack: StubReceiver
) -> None:
    cfg = config(ntfy, slack)
    info = send_now(cfg, probe_alert(AlertSeverity.INFO, "i"))
    crit = send_now(cfg, probe_alert(AlertSeverity.CRIT, "c"))
    assert info.delivered and len(info.results) == 1
    assert crit.delivered and [name for name, _ in crit.results] == [f"ntfy://127.0.0.1:{ntfy.port}/***", "slack://***"]
    assert (len(ntfy.received), len(slack.received)) == (2, 1)


def test_send_daily_summary_when_called_then_one_info_alert_with_a_line_per_fact(ntfy: StubReceiver) -> None:
    cfg = AlertsConfig(urls=[f"ntfy://127.0.0.1:{ntfy.port}/daily"])
    report = send_daily_summary(cfg, "2026-12-05", {"fills": 12, "pnl_usd": "31.20", "trading state": "ACTIVE"})
    assert report.delivered
    assert ntfy.received[0].body["title"] == "livegate: daily summary 2026-12-05"
    assert ntfy.received[0].body["message"] == "fills: 12\npnl_usd: 31.20\ntrading state: ACTIVE"


def _preflight_alerts(tmp_path: Path, alerts_toml: str) -> tuple[str, str]:
    from livegate.config.live_models import run_overrides
    from livegate.config.loader import load_config
    from livegate.domain.clock import WallClock
    from livegate.ops.preflight import PreflightInputs, run_preflight

    profile = tmp_path / "p.toml"
    profile.write_text(alerts_toml, encoding="utf-8")
    state = tmp_path / "state"
    state.mkdir()
    inputs = PreflightInputs(
        resolved=load_config(str(profile), {}, run_overrides()),
        mode=Mode.PAPER,
        env={"LIVEGATE_STATE_DIR": str(state)},
        state_dir=state,
        runs_root=tmp_path / "runs",
        clock=WallClock(),
    )
    checks = {c.name: c for c in asyncio.run(run_preflight(inputs)).checks}
    return checks["alerts"].status, checks["alerts"].detail


def test_preflight_alerts_when_destination_takes_test_alert_then_pass(tmp_path: Path, ntfy: StubReceiver) -> None:
    status, detail = _preflight_alerts(tmp_path, f'[alerts]\ncrit_urls = ["ntfy://127.0.0.1:{ntfy.port}/pf"]\n')
    assert (status, detail) == ("PASS", "test alert delivered to 1 destination(s)")
    assert ntfy.received[0].body["message"] == "livegate preflight: test delivery"


def test_preflight_alerts_when_destination_dead_then_fail_naming_it(tmp_path: Path) -> None:
    port = dead_port()
    status, detail = _preflight_alerts(tmp_path, f'[alerts]\nurls = ["ntfy://127.0.0.1:{port}/pf"]\n')
    assert status == "FAIL" and f"ntfy://127.0.0.1:{port}/***" in detail


def test_preflight_alerts_when_no_destination_then_warn(tmp_path: Path) -> None:
    assert _preflight_alerts(tmp_path, "seed = 1\n")[0] == "WARN"


def test_destination_when_apprise_not_installed_then_config_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "apprise", None)  # what `import apprise` sees without the extra
    with pytest.raises(ConfigError, match=r"pip install 'livegate\[alerts\]'"):
        AppriseDestination("ntfy://127.0.0.1:9/t", timeout_secs=1)
