"""Issue 11 §3 end to end: ``livegate run`` and ``livegate alerts test`` as subprocesses deliver alerts through
apprise's real ntfy:// and slack:// plugins to loopback stand-ins; a closed port shows in ``livegate status``.

The session is a paper replay of the bundled sample's first 180 s whose drawdown trigger (0.50 USD) halts
it part-way: alerts ``session.started`` (INFO), ``state.halted`` (CRIT), ``session.stopped``
(WARN). Routing: ``urls`` (ntfy, and a dead ntfy) take every severity, ``crit_urls`` (Slack)
only CRIT. The same run without ``[alerts]`` has the same ledger hash: alerting never
touches the order path, even with a Slack receiver that answers slowly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.alerts.stubs import StubReceiver, dead_port
from tests.integration import helpers

LIVEGATE = str(Path(sys.executable).with_name("livegate"))
SLACK_TOKENS = "TQWERTY12/BASDFGH34/ZXCVBNMPOIUYT5678"
BASE_PROFILE = """seed = 7
[risk]
max_drawdown_usd = 0.5
"""


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LIVEGATE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def base_env(state: Path) -> dict[str, str]:
    env = helpers.base_env()
    state.mkdir(parents=True)
    env["LIVEGATE_STATE_DIR"] = str(state)
    return env


def alerts_section(ntfy: StubReceiver, slack: StubReceiver, dead: int) -> str:
    return f"""[alerts]
urls = ["ntfy://127.0.0.1:{ntfy.port}/livegate", "ntfy://127.0.0.1:{dead}/gone"]
crit_urls = ["slack://{SLACK_TOKENS}"]
slack_webhook_url = "{slack.base}/services"
timeout_secs = 2
"""


@pytest.mark.slow
def test_run_when_alerts_configured_then_stubs_get_routed_alerts_status_shows_dead_one_and_ledger_hash_unchanged(
    tmp_path: Path, ntfy: StubReceiver
) -> None:
    from livegate.runtime.session import bundled_sample
    from livegate.testing.crash_harness import write_slice

    quotes, trades = write_slice(*bundled_sample(), tmp_path / "data", 180)  # the halt comes at 147 s
    data = ["--no-progress", "--quotes", str(quotes), "--trades", str(trades)]
    slack = StubReceiver("slack", delay_secs=0.5).start()  # a slow receiver must not slow the session
    try:
        dead = dead_port()
        with_alerts = tmp_path / "with.toml"
        with_alerts.write_text(BASE_PROFILE + alerts_section(ntfy, slack, dead), encoding="utf-8")
        without = tmp_path / "without.toml"
        without.write_text(BASE_PROFILE, encoding="utf-8")
        env_a = base_env(tmp_path / "state_a")
        run_a = cli(["run", *data, "--profile", str(with_alerts), "--out", str(tmp_path / "run_a")], env_a, tmp_path)
        run_b = cli(
            ["run", *data, "--profile", str(without), "--out", str(tmp_path / "run_b")],
            base_env(tmp_path / "state_b"),
            tmp_path,
        )
    finally:
        slack.stop()
    assert run_a.returncode == 3, run_a.stderr[-2000:]  # the drawdown halt: completed with anomalies
    assert run_b.returncode == 3, run_b.stderr[-2000:]
    summary_a = json.loads((tmp_path / "run_a" / "summary.json").read_text())
    summary_b = json.loads((tmp_path / "run_b" / "summary.json").read_text())
    assert summary_a["ledger_hash"] == summary_b["ledger_hash"]
    assert summary_a["fills"] > 0

    # routing by severity: ntfy takes all three, Slack only the CRIT kill
    titles = [r.body["title"] for r in ntfy.received]
    assert titles == [
        "livegate: session started (paper)",
        "livegate: kill switch tripped, trading state HALTED",
        "livegate: session stopped",
    ]
    assert "drawdown" in ntfy.received[1].body["message"]
    assert [r.path for r in slack.received] == [f"/services/{SLACK_TOKENS}"]
    assert "trading state HALTED" in slack.texts()[0]

    # the dead destination: counted, failing, in alerts_health.json and in `livegate status RUN_DIR`
    health = json.loads((tmp_path / "run_a" / "alerts_health.json").read_text())
    assert (health["sent_total"], health["failed_total"], health["dropped_total"]) == (4, 3, 0)
    assert health["failing"] is True
    assert f"ntfy://127.0.0.1:{dead}/***" in health["last_error"]
    # the same deliveries counted in the session's Prometheus metrics (written before the last alerts drain)
    families = {f.name: f for f in text_string_to_metric_families((tmp_path / "run_a" / "metrics.prom").read_text())}
    sent = sum(x.value for x in families["livegate_alerts_sent"].samples if x.name.endswith("_total"))
    failed = sum(x.value for x in families["livegate_alerts_failed"].samples if x.name.endswith("_total"))
    assert 1 <= sent <= 4 and 1 <= failed <= 3
    status = cli(["status", str(tmp_path / "run_a")], env_a, tmp_path)
    assert status.returncode == 0, status.stderr
    assert "state:      HALTED" in status.stdout
    assert "ALERTS FAILING: sent 4, failed 3, dropped 0" in status.stdout
    assert f"FAILING ntfy://127.0.0.1:{dead}/***: sent 0, failed 3" in status.stdout
    status_json = json.loads(cli(["status", str(tmp_path / "run_a"), "--json"], env_a, tmp_path).stdout)
    assert status_json["alerts"]["failing"] is True

    # no token in any file of the run directory
    for path in (tmp_path / "run_a").iterdir():
        if path.suffix in (".json", ".jsonl", ".html"):
            assert "ZXCVBNMPOIUYT5678" not in path.read_text(), path


def test_alerts_test_command_when_destinations_answer_then_exit_0_and_routed_by_severity(
    tmp_path: Path, ntfy: StubReceiver, slack: StubReceiver
) -> None:
    env = base_env(tmp_path / "state")
    env["LIVEGATE_ALERTS__URLS"] = f'["ntfy://127.0.0.1:{ntfy.port}/ops"]'
    env["LIVEGATE_ALERTS__CRIT_URLS"] = f'["slack://{SLACK_TOKENS}"]'
    env["LIVEGATE_ALERTS__SLACK_WEBHOOK_URL"] = f"{slack.base}/services"
    info = cli(["alerts", "test"], env, tmp_path)
    crit = cli(["alerts", "test", "--severity", "crit", "--message", "pager check"], env, tmp_path)
    assert info.returncode == 0, info.stdout + info.stderr
    assert crit.returncode == 0, crit.stdout + crit.stderr
    assert "2/2 destination(s) took the CRIT test alert" in crit.stdout
    assert [r.body["title"] for r in ntfy.received] == ["livegate: test alert (INFO)", "livegate: test alert (CRIT)"]
    assert len(slack.received) == 1 and "pager check" in slack.texts()[0]


def test_alerts_test_command_when_a_destination_is_dead_then_exit_1_naming_it(
    tmp_path: Path, ntfy: StubReceiver
) -> None:
    dead = dead_port()
    env = base_env(tmp_path / "state")
    env["LIVEGATE_ALERTS__URLS"] = f'["ntfy://127.0.0.1:{ntfy.port}/ops", "ntfy://127.0.0.1:{dead}/ops"]'
    result = cli(["alerts", "test", "--severity", "warn"], env, tmp_path)
    assert result.returncode == 1
    assert f"FAIL ntfy://127.0.0.1:{dead}/***" in result.stdout
    assert "1/2 destination(s) took the WARN test alert" in result.stdout
    assert len(ntfy.received) == 1


def test_alerts_test_command_when_nothing_configured_then_exit_2(tmp_path: Path) -> None:
    result = cli(["alerts", "test"], base_env(tmp_path / "state"), tmp_path)
    assert result.returncode == 2
    assert "no alert destination receives INFO" in result.stdout


@pytest.mark.slow
def test_run_when_drift_persists_then_one_drift_alert_delivered_and_the_repeats_counted_throttled(
    tmp_path: Path, ntfy: StubReceiver
) -> None:
    from livegate.runtime.session import bundled_sample
    from livegate.testing.crash_harness import hooked_exe, write_slice

    quotes, trades = write_slice(*bundled_sample(), tmp_path / "data", 60)
    profile = tmp_path / "p.toml"
    profile.write_text(
        f'seed = 7\n[alerts]\nurls = ["ntfy://127.0.0.1:{ntfy.port}/livegate"]\nthrottle_secs = 300\n', encoding="utf-8"
    )
    env = base_env(tmp_path / "state")
    env.update(LIVEGATE_RECONCILE__INTERVAL_SECS="5", LIVEGATE_TEST_DRIFT="12:BTCUSDT:0.3")
    argv = [*hooked_exe(), "run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes)]
    run = subprocess.run(
        [*argv, "--trades", str(trades), "--out", str(tmp_path / "run")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 3, run.stderr[-2000:]
    anomalies = [
        json.loads(line)
        for line in (tmp_path / "run" / "telemetry.jsonl").read_text().splitlines()
        if '"anomaly"' in line
    ]
    drifts = [a for a in anomalies if a.get("anomaly_kind") == "reconcile_drift"]
    assert len(drifts) >= 5  # the drift persists: every 5 s pass reports it again
    titles = [r.body["title"] for r in ntfy.received]
    assert titles.count("livegate: reconcile drift beyond tolerance") == 1
    assert titles.count("livegate: kill switch tripped, trading state REDUCING") == 1
    health = json.loads((tmp_path / "run" / "alerts_health.json").read_text())
    assert health["throttled_total"] == len(drifts) - 1
    assert health["sent_total"] == len(ntfy.received) and health["failing"] is False


def test_run_when_an_alert_url_is_unknown_to_apprise_then_exit_2_before_the_run_dir_and_no_token_printed(
    tmp_path: Path,
) -> None:
    env = base_env(tmp_path / "state")
    env["LIVEGATE_ALERTS__URLS"] = '["nosuchservice://SECRETTOKEN42/x"]'
    result = cli(["run", "--out", str(tmp_path / "run")], env, tmp_path)
    assert result.returncode == 2
    assert "[alerts] destination nosuchservice://*** is not an apprise URL" in result.stderr
    assert "SECRETTOKEN42" not in result.stdout + result.stderr
    assert not (tmp_path / "run").exists()
