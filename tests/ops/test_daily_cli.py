"""``livegate daily`` (issue 13 item 5) end to end: the CLI in a subprocess on a fresh install, offline."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from livegate.ops.daily_steps import housekeep, send_summary
from tests.alerts.stubs import StubReceiver
from tests.ops.rollup_helpers import DRIFT, run_cli


def _only_daily_dir(runs: Path) -> Path:
    (daily,) = [p for p in runs.iterdir() if p.name.startswith("daily-")]
    return daily


def _summary(daily: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((daily / "daily_summary.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.slow
def test_daily_when_fresh_install_offline_then_exit_0_with_a_rollup_a_report_and_a_green_summary(
    tmp_path: Path,
) -> None:
    done = run_cli(["daily", "--runs-dir", "runs", "--keep-days", "7"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    daily = _only_daily_dir(tmp_path / "runs")
    summary = _summary(daily)
    assert summary["green"] is True and summary["exit_code"] == 0
    assert {s["name"]: s["status"] for s in summary["steps"]} == {
        "preflight paper": "pass",
        "paper": "pass",
        "canary": "skip",  # no venue configured: offline on the bundled sample
        "rollup": "pass",
        "report": "pass",
        "housekeeping": "pass",
    }
    assert all(c["ok"] for c in summary["criteria"]) and len(summary["criteria"]) == 5
    assert (daily / "rollup.csv").read_text().startswith("day,mode,venue,symbol,")
    assert json.loads((daily / "rollup.json").read_text())["runs"] == ["paper"]
    report = (daily / "report.html").read_text(encoding="utf-8")
    assert "data-banner='ok'" in report and "href='paper/report.html'" in report
    assert (daily / "paper" / "report.html").is_file()
    assert summary["alert"]["title"] == "livegate daily GREEN (exit 0)"
    assert "daily alert: livegate daily GREEN" in done.stderr
    assert (tmp_path / "state").is_dir()  # the fresh install's state dir was created (0700) for preflight
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700


@pytest.mark.slow
def test_daily_when_an_anomaly_is_injected_then_exit_3_not_green_and_the_alert_says_red(tmp_path: Path) -> None:
    ntfy = StubReceiver("ntfy").start()  # apprise's real ntfy:// plugin, pointed at loopback
    try:
        done = run_cli(
            ["daily", "--runs-dir", "runs"],
            tmp_path,
            hooks=True,
            LIVEGATE_TEST_DRIFT=DRIFT,
            LIVEGATE_ALERTS__URLS=f'["ntfy://127.0.0.1:{ntfy.port}/ops"]',
        )
    finally:
        ntfy.stop()
    assert done.returncode == 3, done.stdout + done.stderr
    delivered = [json.dumps(r.body) for r in ntfy.received]
    assert any("livegate daily RED (exit 3)" in body for body in delivered), delivered
    summary = _summary(_only_daily_dir(tmp_path / "runs"))
    failed = {c["name"] for c in summary["criteria"] if not c["ok"]}
    assert {"no anomalies", "reconcile clean", "sessions completed"} <= failed
    assert summary["alert"]["title"] == "livegate daily RED (exit 3)"
    assert summary["alert"]["via"] == "alerts"
    assert "NOT GREEN no anomalies" in summary["alert"]["body"]
    assert "daily alert: livegate daily RED (exit 3)" in done.stderr
    assert "data-banner='bad'" in (_only_daily_dir(tmp_path / "runs") / "report.html").read_text()


def test_daily_when_preflight_fails_then_exit_2_and_no_session_runs(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "KILL").write_text("operator stop\n")
    done = run_cli(["daily", "--runs-dir", "runs"], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    daily = _only_daily_dir(tmp_path / "runs")
    summary = _summary(daily)
    assert summary["exit_code"] == 2 and summary["report"] is None
    preflight = summary["steps"][0]
    assert preflight["status"] == "fail" and "KILL file" in preflight["detail"]
    assert not (daily / "paper").exists()
    assert summary["alert"]["title"] == "livegate daily PREFLIGHT FAILED (exit 2)"


def test_daily_when_options_are_invalid_then_exit_2(tmp_path: Path) -> None:
    done = run_cli(["daily", "--runs-dir", "runs", "--minutes", "0"], tmp_path)
    assert done.returncode == 2
    assert "--minutes" in done.stderr


def _aged(path: Path, days: float) -> Path:
    when = time.time() - days * 86_400
    os.utime(path, (when, when))
    return path


def test_housekeep_when_runs_and_logs_are_older_than_keep_days_then_only_those_go(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    (runs / "logs").mkdir(parents=True)
    for name in ("old-run", "new-run"):
        (runs / name).mkdir()
        (runs / name / "ledger.sqlite").write_bytes(b"")
    (runs / "old-daily").mkdir()
    (runs / "old-daily" / "daily_summary.json").write_text("{}")
    (runs / "old-notes").mkdir()  # not a run: never touched
    (runs / "logs" / "daily.log.3").write_text("x")
    (runs / "logs" / "daily.log").write_text("x")
    (runs / "logs" / "keep.txt").write_text("x")
    today = runs / "today"
    today.mkdir()
    (today / "daily_summary.json").write_text("{}")
    for path in ("old-run", "old-daily", "old-notes", "logs/daily.log.3", "logs/keep.txt", "today"):
        _aged(runs / path, 30)
    removed = housekeep(runs, 7, keep=today)
    assert sorted(removed) == ["logs/daily.log.3", "old-daily", "old-run"]
    assert sorted(p.name for p in runs.iterdir()) == ["logs", "new-run", "old-notes", "today"]
    assert sorted(p.name for p in (runs / "logs").iterdir()) == ["daily.log", "keep.txt"]


def test_send_summary_when_not_green_then_title_and_body_name_the_failed_criteria() -> None:
    sent = send_summary(
        {
            "exit_code": 3,
            "steps": [{"name": "paper", "status": "fail", "detail": "completed with anomalies (exit 3)"}],
            "criteria": [{"name": "no anomalies", "ok": False, "detail": "paper: reconcile_drift"}],
            "report": "report.html",
        }
    )
    assert sent["title"] == "livegate daily RED (exit 3)"
    assert "NOT GREEN no anomalies: paper: reconcile_drift" in sent["body"]
    assert sent["via"] == "log"


@pytest.mark.slow
def test_daily_when_a_venue_is_configured_then_the_canary_shadows_its_stream_and_is_rolled_up(tmp_path: Path) -> None:
    args = ["daily", "--runs-dir", "runs", "--venue", "fake:demo", "--symbols", "btcusdt", "--minutes", "0.2"]
    done = run_cli([*args, "--skip-paper"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    daily = _only_daily_dir(tmp_path / "runs")
    steps = {s["name"]: s for s in _summary(daily)["steps"]}
    assert steps["preflight shadow"]["status"] == "pass" and steps["canary"]["status"] == "pass"
    assert steps["paper"]["status"] == "skip"
    rows = (daily / "rollup.csv").read_text().splitlines()
    assert rows[1].split(",")[1:4] == ["shadow", "shadow", "BTCUSDT"]
    assert "--symbol BTCUSDT" in (daily / "logs" / "canary.log").read_text().splitlines()[0]
