"""Live arming (docs/architecture.md §3.3): every key alone refuses, all keys start live on the fake venue."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from livegate.config.live_models import run_overrides
from livegate.config.loader import load_config
from livegate.domain.clock import wall_time_ms
from livegate.domain.enums import Mode
from livegate.modes.preflight_artifact import preflight_path
from livegate.runtime.live_session import LiveOptions
from livegate.runtime.session import RunOptions
from livegate.runtime.start import GateRefused, start
from livegate.venues.fake import FAKE_PRODUCTION_URL, FAKE_SANDBOX_URL
from tests.modes.live_helpers import FakeFactory, LiveSetup, armed_setup

ARMED = LiveOptions(enable_live=True)


def gate_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("gate ")]


def run_start(setup: LiveSetup, mode: Mode, live: LiveOptions = ARMED):
    options = RunOptions(mode=mode.value, profile=str(setup.profile), out=setup.root / "runs" / mode.value)
    return start(options, live, setup.env, factories=setup.factory.factories)


def rehash_preflight(setup: LiveSetup) -> None:
    """Point the (passing) artifact at the profile's current config hash, so only the key under test is off."""
    path = preflight_path(setup.state_dir)
    record = json.loads(path.read_text())
    record["config_hash"] = load_config(str(setup.profile), setup.env, run_overrides()).config_hash
    path.write_text(json.dumps(record))


def edit_preflight(setup: LiveSetup, **changes: object) -> None:
    path = preflight_path(setup.state_dir)
    record = json.loads(path.read_text())
    record.update(changes)
    path.write_text(json.dumps(record))


def drop_flag(setup: LiveSetup) -> LiveOptions:
    return LiveOptions(enable_live=False)


def drop_env(var: str) -> Callable[[LiveSetup], LiveOptions]:
    def act(setup: LiveSetup) -> LiveOptions:
        del setup.env[var]
        return ARMED

    return act


def wrong_token(setup: LiveSetup) -> LiveOptions:
    setup.env["LIVEGATE_LIVE_CONFIRM_TOKEN"] = "not-the-token"
    return ARMED


def token_0644(setup: LiveSetup) -> LiveOptions:
    os.chmod(setup.state_dir / "live_token", 0o644)
    return ARMED


def no_preflight(setup: LiveSetup) -> LiveOptions:
    preflight_path(setup.state_dir).unlink()
    return ARMED


def stale_preflight(setup: LiveSetup) -> LiveOptions:
    edit_preflight(setup, time_ms=wall_time_ms() - 2 * 3600 * 1000)
    return ARMED


def other_config_hash(setup: LiveSetup) -> LiveOptions:
    edit_preflight(setup, config_hash="0" * 64)
    return ARMED


def failed_preflight(setup: LiveSetup) -> LiveOptions:
    record = json.loads(preflight_path(setup.state_dir).read_text())
    record["checks"][0]["status"] = "FAIL"
    edit_preflight(setup, checks=record["checks"])
    return ARMED


def profile_edit(old: str, new: str) -> Callable[[LiveSetup], LiveOptions]:
    def act(setup: LiveSetup) -> LiveOptions:
        text = setup.profile.read_text()
        assert old in text
        setup.profile.write_text(text.replace(old, new))
        rehash_preflight(setup)
        return ARMED

    return act


CASES = [
    ("enable_flag", drop_flag, "--enable-live"),
    ("enable_env", drop_env("LIVEGATE_LIVE_ENABLE"), "LIVEGATE_LIVE_ENABLE=1"),
    ("token_env", drop_env("LIVEGATE_LIVE_CONFIRM_TOKEN"), "LIVEGATE_LIVE_CONFIRM_TOKEN (not set)"),
    ("token_mismatch", wrong_token, "LIVEGATE_LIVE_CONFIRM_TOKEN (does not match the token file)"),
    ("token_file_0644", token_0644, "has mode 0644; it must be 0600"),
    ("credentials", drop_env("LIVEGATE_FAKE_API_SECRET"), "credentials (LIVEGATE_FAKE_API_SECRET)"),
    ("preflight_missing", no_preflight, "preflight (no artifact"),
    ("preflight_stale", stale_preflight, "preflight (stale: 7,200 s old > max 3,600 s)"),
    ("preflight_config_hash", other_config_hash, "preflight (config hash 000000000000 differs"),
    ("preflight_failed", failed_preflight, "preflight (failed checks: config)"),
    ("reconcile", profile_edit("[risk]", "[reconcile]\nenabled = false\n\n[risk]"), "reconcile.enabled"),
    ("cap", profile_edit("max_order_notional_usd = 1000\n", ""), "[risk] max_order_notional_usd (cap not set)"),
    ("venue", profile_edit('name = "fake:demo"', 'name = "binanceusdm"'), "venue (a real venue"),
]


@pytest.mark.parametrize(("case", "remove", "named"), CASES, ids=[c[0] for c in CASES])
def test_live_gate_when_one_key_missing_then_refused_naming_that_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, case: str, remove: Callable[[LiveSetup], LiveOptions], named: str
) -> None:
    caplog.set_level(logging.INFO, logger="livegate")
    setup = armed_setup(tmp_path)
    live = remove(setup)
    with pytest.raises(GateRefused) as info:
        run_start(setup, Mode.LIVE, live)
    lines = gate_lines(caplog)
    assert len(lines) == 1, lines
    assert lines[0].startswith("gate mode=live status=FAIL reason=live gate refused, missing 1 key(s): ")
    assert lines[0].endswith(" source=cli")
    assert named in lines[0]
    assert named in str(info.value)
    assert not (tmp_path / "runs" / "live").exists()
    assert all(not v.submitted for v in setup.factory.built)


def test_canary_when_ramp_cap_absent_then_refused_naming_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="livegate")
    setup = armed_setup(tmp_path, mode=Mode.CANARY)
    profile_edit("max_live_notional_usd_per_day = 100000\n", "")(setup)
    with pytest.raises(GateRefused):
        run_start(setup, Mode.CANARY)
    (line,) = gate_lines(caplog)
    assert "status=FAIL" in line
    assert "missing 1 key(s): [canary] max_live_notional_usd_per_day" in line


def test_live_gate_when_all_keys_present_then_live_run_starts_and_completes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livegate")
    setup = armed_setup(tmp_path)
    result = run_start(setup, Mode.LIVE)
    assert result.exit_code == 0, result.anomalies
    assert gate_lines(caplog) == ["gate mode=live status=PASS reason=armed: all live keys present source=cli"]
    (venue,) = setup.factory.built
    assert venue.endpoint == FAKE_PRODUCTION_URL
    assert venue.has_credentials
    assert venue.submitted, "the live run placed no order on the fake venue"
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["mode"] == "live"
    assert summary["orders_by_venue"] == {"fake:demo": summary["orders_submitted"]}


def test_live_gate_when_nothing_armed_then_every_key_named(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="livegate")
    env = {"LIVEGATE_STATE_DIR": str(tmp_path / "state")}
    with pytest.raises(GateRefused):
        start(RunOptions(mode="live", out=tmp_path / "run"), LiveOptions(), env)
    (line,) = gate_lines(caplog)
    for key in (
        "--enable-live",
        "LIVEGATE_LIVE_ENABLE=1",
        "LIVEGATE_LIVE_CONFIRM_TOKEN",
        "token file",
        "venue",
        "preflight",
        "[risk] max_order_notional_usd",
        "[risk] daily_loss_limit_usd",
    ):
        assert key in line, key
    assert "status=FAIL" in line


def test_fallback_shadow_when_gate_refuses_then_shadow_run_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livegate")
    setup = armed_setup(tmp_path)
    del setup.env["LIVEGATE_LIVE_ENABLE"]
    result = run_start(setup, Mode.LIVE, LiveOptions(enable_live=True, fallback_shadow=True))
    assert result.exit_code == 0
    (line,) = gate_lines(caplog)
    assert line.startswith("gate mode=shadow status=PASS reason=fallback-shadow: live refused (")
    assert "LIVEGATE_LIVE_ENABLE=1" in line
    assert result.summary["mode"] == "shadow"
    assert set(result.summary["orders_by_venue"]) <= {"shadow"}
    (venue,) = setup.factory.built
    assert not venue.has_credentials and not venue.submitted


def test_testnet_when_armed_then_sandbox_endpoint_is_used(tmp_path: Path) -> None:
    setup = armed_setup(tmp_path, mode=Mode.TESTNET)
    result = run_start(setup, Mode.TESTNET)
    assert result.exit_code == 0
    (venue,) = setup.factory.built
    assert venue.endpoint == FAKE_SANDBOX_URL


def test_testnet_when_adapter_has_no_sandbox_then_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="livegate")
    setup = armed_setup(tmp_path, mode=Mode.TESTNET, factory=FakeFactory(sandbox_supported=False))
    with pytest.raises(GateRefused):
        run_start(setup, Mode.TESTNET)
    (line,) = gate_lines(caplog)
    assert "status=FAIL" in line and "declares no sandbox endpoints" in line


def test_preflight_for_another_mode_when_starting_live_then_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livegate")
    setup = armed_setup(tmp_path, mode=Mode.TESTNET)
    with pytest.raises(GateRefused):
        run_start(setup, Mode.LIVE)
    (line,) = gate_lines(caplog)
    assert "made for mode testnet, not live" in line
