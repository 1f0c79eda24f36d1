"""``livegate preflight`` checks one by one, against the fake venue and a temporary state dir."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from livegate.cli.arm_cmd import create_token_file
from livegate.config.live_models import run_overrides
from livegate.config.loader import load_config
from livegate.domain.clock import WallClock
from livegate.domain.enums import Mode
from livegate.modes.preflight_artifact import CheckResult, PreflightArtifact, read_preflight
from livegate.ops.preflight import PreflightInputs, run_preflight, write_artifact
from tests.ledger.helpers import tamper
from tests.modes.live_helpers import BOGUS_KEY, BOGUS_SECRET, PROFILE, FakeFactory, write_profile

LINE_RE = re.compile(r"^(PASS|WARN|FAIL) [a-z ]+: .+$")


def preflight(
    tmp_path: Path, *, mode: Mode = Mode.LIVE, profile_text: str | None = None, factory: FakeFactory | None = None
) -> dict[str, CheckResult]:
    state = tmp_path / "state"
    if not state.exists():
        create_token_file(state, force=False)
    profile = write_profile(tmp_path, profile_text) if profile_text is not None else write_profile(tmp_path)
    env = {
        "LIVEGATE_STATE_DIR": str(state),
        "LIVEGATE_FAKE_API_KEY": BOGUS_KEY,
        "LIVEGATE_FAKE_API_SECRET": BOGUS_SECRET,
    }
    inputs = PreflightInputs(
        resolved=load_config(str(profile), env, run_overrides()),
        mode=mode,
        env=env,
        state_dir=state,
        runs_root=tmp_path / "runs",
        factories=(factory or FakeFactory()).factories,
        clock=WallClock(),
    )
    artifact = asyncio.run(run_preflight(inputs))
    for check in artifact.checks:
        assert LINE_RE.match(check.line()), check.line()
    return {c.name: c for c in artifact.checks}


def test_preflight_when_setup_correct_then_every_check_passes_or_warns(tmp_path: Path) -> None:
    checks = preflight(tmp_path)
    assert {c.status for c in checks.values()} <= {"PASS", "WARN"}
    assert set(checks) >= {
        "config", "state dir", "disk", "credentials", "live token", "reconciliation", "venue reachable", "clock",
        "caps", "trading state", "session lock", "last ledger", "market hours", "alerts",
    }  # fmt: skip
    assert checks["alerts"].status == "WARN"
    assert BOGUS_KEY not in checks["credentials"].detail and BOGUS_SECRET not in checks["credentials"].detail


def test_preflight_when_venue_unreachable_then_fail(tmp_path: Path) -> None:
    checks = preflight(tmp_path, factory=FakeFactory(reachable=False))
    assert checks["venue reachable"].status == "FAIL"


@pytest.mark.parametrize(("offset_ms", "status"), [(300, "PASS"), (-3000, "WARN"), (20_000, "FAIL")])
def test_preflight_when_venue_clock_skewed_then_graded(tmp_path: Path, offset_ms: int, status: str) -> None:
    checks = preflight(tmp_path, factory=FakeFactory(server_time_offset_ms=offset_ms))
    assert checks["clock"].status == status


def test_preflight_when_cap_above_balance_then_fail(tmp_path: Path) -> None:
    text = PROFILE.replace("max_order_notional_usd = 1000", "max_order_notional_usd = 250000")
    checks = preflight(tmp_path, profile_text=text)
    assert checks["caps"].status == "FAIL"
    assert "max_order_notional_usd 250,000.00 > balance 100,000.00" in checks["caps"].detail


def test_preflight_when_trading_state_halted_or_locked_then_fail(tmp_path: Path) -> None:
    state = tmp_path / "state"
    create_token_file(state, force=False)
    (state / "trading_state.json").write_text(
        json.dumps({"version": 1, "current": {"state": "halted", "reason": "drill", "source": "cli", "actor": "op"}})
    )
    (state / "session.lock").write_text(json.dumps({"reason": "anomaly x"}))
    checks = preflight(tmp_path)
    assert checks["trading state"].status == "FAIL" and "HALTED" in checks["trading state"].detail
    assert checks["session lock"].status == "FAIL"


def test_preflight_when_last_ledger_tampered_then_fail(tmp_path: Path) -> None:
    from livegate.ledger.store import Ledger

    run_dir = tmp_path / "runs" / "r1"
    run_dir.mkdir(parents=True)
    ledger = Ledger.open(run_dir / "ledger.sqlite")
    ledger.append("session_started", 1, {"session_id": "x"})
    ledger.append("session_ended", 2, {"reason": "done"})
    ledger.close()
    assert preflight(tmp_path)["last ledger"].status == "PASS"
    tamper(run_dir / "ledger.sqlite", "UPDATE events SET payload = ? WHERE seq = 2", ('{"reason":"edited"}',))
    assert preflight(tmp_path)["last ledger"].status == "FAIL"


def test_preflight_when_calendar_closed_now_then_warns(tmp_path: Path) -> None:
    text = PROFILE.replace('symbols = ["BTCUSDT"]', 'symbols = ["BTCUSDT"]\ncalendar = "XNYS"')
    checks = preflight(tmp_path, profile_text=text)
    assert checks["market hours"].status in {"PASS", "WARN"}
    assert checks["market hours"].detail.startswith("XNYS: ")


def test_preflight_when_shadow_mode_then_credentials_not_loaded(tmp_path: Path) -> None:
    checks = preflight(tmp_path, mode=Mode.SHADOW)
    assert checks["credentials"].detail == "not needed in mode shadow (not loaded)"
    assert "live token" not in checks


def test_preflight_artifact_when_written_then_0600_and_read_back(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    artifact = PreflightArtifact(
        checks=[CheckResult("config", "PASS", "ok"), CheckResult("alerts", "WARN", "none")],
        time_ms=5,
        host="h",
        livegate_version="0.1.0",
        config_hash="ab" * 32,
        mode="live",
        venue="fake:demo",
    )
    path = write_artifact(state, artifact)
    assert path is not None and path.stat().st_mode & 0o777 == 0o600
    back, problem = read_preflight(state)
    assert problem == "" and back == artifact
    record = json.loads(path.read_text())
    assert record["status"] == "WARN"
    assert set(record) >= {"checks", "time_ms", "host", "livegate_version", "config_hash"}
