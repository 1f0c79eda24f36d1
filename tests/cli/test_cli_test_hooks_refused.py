"""Issue 9 §11: test hooks are composed in by ``python -m livegate.testing``; production refuses them.

End to end: the production ``livegate`` refuses each test variable in testnet, canary and
live with exit 2 naming it, before any order; in shadow it ignores them (the process is
not killed); the test composition installs them (the process is killed at the point).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from livegate.control.faults import CRASH_ENV, DRIFT_ENV, VENUE_FAULT_ENV
from livegate.domain.enums import Mode
from tests.modes.live_helpers import armed_setup, subprocess_env

LIVEGATE = str(Path(sys.executable).with_name("livegate"))
HOOKED = [sys.executable, "-m", "livegate.testing"]
VALUES = {CRASH_ENV: "before_submit:1", DRIFT_ENV: "1:BTCUSDT:0.1", VENUE_FAULT_ENV: "auth_on_submit"}


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=subprocess_env(env), cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.mark.parametrize(
    ("mode", "variable"), [(Mode.LIVE, CRASH_ENV), (Mode.CANARY, DRIFT_ENV), (Mode.TESTNET, VENUE_FAULT_ENV)]
)
def test_production_cli_when_test_variable_set_in_real_mode_then_refused_exit_2_naming_it(
    tmp_path: Path, mode: Mode, variable: str
) -> None:
    setup = armed_setup(tmp_path, mode=mode)
    out = tmp_path / "run"
    argv = [LIVEGATE, "run", "--mode", mode.value, "--enable-live", "--profile", str(setup.profile)]
    done = _run(
        [*argv, "--out", str(out), "--no-progress", "--max-events", "50"],
        {**setup.env, variable: VALUES[variable]},
        tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr and "refused" in done.stderr
    assert not (out / "ledger.sqlite").exists()  # refused before the session started


def test_production_cli_when_crash_variable_set_in_shadow_then_ignored(tmp_path: Path) -> None:
    setup = armed_setup(tmp_path, mode=Mode.LIVE)
    argv = [LIVEGATE, "run", "--mode", "shadow", "--profile", str(setup.profile), "--out", str(tmp_path / "run")]
    done = _run([*argv, "--no-progress", "--max-events", "200"], {**setup.env, CRASH_ENV: "before_submit:1"}, tmp_path)
    assert done.returncode in (0, 3), done.stderr
    assert f"{CRASH_ENV} ignored" in done.stderr


def test_test_composition_when_crash_variable_set_then_hook_installed_and_process_killed(tmp_path: Path) -> None:
    setup = armed_setup(tmp_path, mode=Mode.LIVE)
    argv = [*HOOKED, "run", "--mode", "live", "--enable-live", "--profile", str(setup.profile)]
    argv += ["--out", str(tmp_path / "run"), "--no-progress", "--max-events", "600"]
    done = _run(argv, {**setup.env, CRASH_ENV: "before_submit:1"}, tmp_path)
    assert done.returncode == -signal.SIGKILL, done.stderr
