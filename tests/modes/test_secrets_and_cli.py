"""Secrets stay secret (docs/architecture.md §3.10) and the CLI must-show flows of issue 4, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from livegate.runtime.live_session import LiveOptions
from livegate.runtime.session import RunOptions
from livegate.runtime.start import start
from tests.modes.live_helpers import BOGUS_KEY, BOGUS_SECRET, armed_setup, subprocess_env, write_profile

LIVEGATE = str(Path(sys.executable).with_name("livegate"))
BOGUS_TOKEN_VALUES = (BOGUS_KEY, BOGUS_SECRET)


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LIVEGATE, *args], env=subprocess_env(env), cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def scan_tree(root: Path, needles: tuple[str, ...]) -> list[str]:
    """Return ``file: needle`` for every needle found in any file under ``root`` (bytes, so SQLite too)."""
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits.extend(f"{path}: {n}" for n in needles if n.encode() in data)
    return hits


@pytest.mark.parametrize("mode", ["paper", "shadow"])
def test_non_live_modes_when_bogus_credentials_in_env_then_they_appear_nowhere(tmp_path: Path, mode: str) -> None:
    profile = write_profile(tmp_path, '[venue]\nname = "fake:demo"\n[strategy.params]\nrequote_interval_ms = 0\n')
    env = {
        "LIVEGATE_STATE_DIR": str(tmp_path / "state"),
        "LIVEGATE_FAKE_API_KEY": BOGUS_KEY,
        "LIVEGATE_FAKE_API_SECRET": BOGUS_SECRET,
        # Unusable on purpose: a mode that loaded credentials would report this file.
        "LIVEGATE_SECRETS_FILE": str(tmp_path / "missing-secrets.toml"),
    }
    out = tmp_path / "run"
    proc = cli(["run", "--mode", mode, "--profile", str(profile), "--out", str(out), "--no-progress",
                "--max-events", "800"], env, tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"gate mode={mode} status=PASS" in proc.stderr
    for needle in (*BOGUS_TOKEN_VALUES, "missing-secrets"):
        assert needle not in proc.stdout and needle not in proc.stderr
    assert scan_tree(out, (*BOGUS_TOKEN_VALUES, "missing-secrets")) == []
    assert {p.name for p in out.iterdir()} >= {"config_resolved.json", "telemetry.jsonl", "ledger.sqlite"}


def test_live_mode_when_armed_then_credentials_and_token_appear_nowhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    setup = armed_setup(tmp_path)
    token = setup.env["LIVEGATE_LIVE_CONFIRM_TOKEN"]
    options = RunOptions(mode="live", profile=str(setup.profile), out=tmp_path / "live")
    result = start(options, LiveOptions(enable_live=True), setup.env, factories=setup.factory.factories)
    assert result.exit_code == 0
    needles = (*BOGUS_TOKEN_VALUES, token)
    captured = capsys.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for needle in needles:
        assert needle not in captured.out and needle not in captured.err and needle not in logged
    assert scan_tree(result.run_dir, needles) == []
    assert scan_tree(setup.state_dir, (BOGUS_KEY, BOGUS_SECRET)) == []  # the preflight artifact too


def test_cli_run_live_when_nothing_armed_then_exit_2_and_one_gate_line_naming_every_key(tmp_path: Path) -> None:
    proc = cli(["run", "--mode", "live", "--no-progress"], {"LIVEGATE_STATE_DIR": str(tmp_path / "s")}, tmp_path)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("gate ")]
    assert len(lines) == 1 and "status=FAIL" in lines[0]
    for key in ("--enable-live", "LIVEGATE_LIVE_ENABLE=1", "LIVEGATE_LIVE_CONFIRM_TOKEN", "token file", "venue",
                "preflight", "[risk] max_order_notional_usd"):  # fmt: skip
        assert key in lines[0], key
    assert not (tmp_path / "runs").exists()


def test_cli_run_live_with_fallback_shadow_when_nothing_armed_then_shadow_run_exit_0(tmp_path: Path) -> None:
    proc = cli(["run", "--mode", "live", "--fallback-shadow", "--no-progress"],
               {"LIVEGATE_STATE_DIR": str(tmp_path / "s")}, tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("gate ")]
    assert len(lines) == 1
    assert lines[0].startswith("gate mode=shadow status=PASS reason=fallback-shadow: live refused")
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("-shadow")


def test_cli_ladder_when_operator_follows_runbook_then_preflight_passes_and_live_run_completes(tmp_path: Path) -> None:
    """arm init -> preflight --mode live -> run --mode live --enable-live, on the fake venue."""
    profile = write_profile(tmp_path)
    state = tmp_path / "state"
    env = {"LIVEGATE_STATE_DIR": str(state)}
    unarmed = cli(["preflight", "--mode", "live", "--profile", str(profile)], env, tmp_path)
    assert unarmed.returncode == 2
    fails = [ln for ln in unarmed.stdout.splitlines() if ln.startswith("FAIL ")]
    assert any(ln.startswith("FAIL state dir:") for ln in fails)
    assert any(ln.startswith("FAIL credentials:") for ln in fails)
    assert any(ln.startswith("FAIL live token:") for ln in fails)

    armed = cli(["arm", "init"], env, tmp_path)
    assert armed.returncode == 0
    token = (state / "live_token").read_text().strip()
    assert token not in armed.stdout
    assert (state / "live_token").stat().st_mode & 0o777 == 0o600
    assert 'export LIVEGATE_LIVE_CONFIRM_TOKEN="$(cat ' in armed.stdout

    env |= {"LIVEGATE_LIVE_ENABLE": "1", "LIVEGATE_LIVE_CONFIRM_TOKEN": token,
            "LIVEGATE_FAKE_API_KEY": BOGUS_KEY, "LIVEGATE_FAKE_API_SECRET": BOGUS_SECRET}  # fmt: skip
    ok = cli(["preflight", "--mode", "live", "--profile", str(profile)], env, tmp_path)
    assert ok.returncode == 0, ok.stdout
    assert all(ln.split(" ", 1)[0] in {"PASS", "WARN"} for ln in ok.stdout.splitlines())
    assert (state / "preflight.json").stat().st_mode & 0o777 == 0o600
    assert BOGUS_SECRET not in ok.stdout and BOGUS_KEY not in ok.stdout

    run = cli(["run", "--mode", "live", "--enable-live", "--profile", str(profile), "--no-progress",
               "--max-events", "1500"], env, tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "gate mode=live status=PASS reason=armed: all live keys present source=cli" in run.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("-live")


def test_token_file_when_mode_0644_then_preflight_fails_it(tmp_path: Path) -> None:
    setup = armed_setup(tmp_path)
    os.chmod(setup.state_dir / "live_token", 0o644)
    proc = cli(["preflight", "--mode", "live", "--profile", str(setup.profile)], setup.env, tmp_path)
    assert proc.returncode == 2
    assert any(ln.startswith("FAIL live token:") and "0644" in ln for ln in proc.stdout.splitlines())


def test_arm_init_when_token_exists_then_kept_unless_forced(tmp_path: Path) -> None:
    env = {"LIVEGATE_STATE_DIR": str(tmp_path / "state")}
    assert cli(["arm", "init"], env, tmp_path).returncode == 0
    first = (tmp_path / "state" / "live_token").read_text()
    assert cli(["arm", "init"], env, tmp_path).returncode == 1
    assert (tmp_path / "state" / "live_token").read_text() == first
    assert cli(["arm", "init", "--force"], env, tmp_path).returncode == 0
    assert (tmp_path / "state" / "live_token").read_text() != first
