"""Issue 5 must-show: an authentication error halts trading with the reason in ``livegate status``.

End to end through the CLI in subprocesses with a private state dir: a correctly armed
live session against the fake venue gets ``Fatal`` (code AUTH) from the venue on submit,
the kill switch latches HALTED with the venue's reason, ``livegate status`` shows it, and
``livegate run`` again in the same state dir places no order.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from livegate.control.faults import VENUE_FAULT_ENV
from livegate.domain.enums import Mode
from tests.modes.live_helpers import armed_setup, subprocess_env
from tests.runtime.helpers import ledger_events

LIVEGATE = str(Path(sys.executable).with_name("livegate"))
AUTH_REASON = "authentication failed: invalid API key or signature"


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # the test composition installs the fake venue's fault hook (the production CLI refuses it in live)
    argv = [sys.executable, "-m", "livegate.testing"] if VENUE_FAULT_ENV in env else [LIVEGATE]
    return subprocess.run(
        [*argv, *args], env=subprocess_env(env), cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )


def live_run(profile: Path, out: Path) -> list[str]:
    return ["run", "--mode", "live", "--enable-live", "--profile", str(profile), "--out", str(out),
            "--no-progress", "--max-events", "600"]  # fmt: skip


def test_cli_when_venue_refuses_credentials_on_submit_then_halted_status_shows_reason_and_rerun_places_nothing(
    tmp_path: Path,
) -> None:
    setup = armed_setup(tmp_path, mode=Mode.LIVE)
    first = cli(live_run(setup.profile, tmp_path / "first"), {**setup.env, VENUE_FAULT_ENV: "auth_on_submit"}, tmp_path)
    assert first.returncode == 3, first.stderr
    assert "gate mode=live status=PASS" in first.stderr
    events = ledger_events(tmp_path / "first")
    fatal = [p for kind, p in events if kind == "anomaly" and p["kind"] == "venue_fatal"]
    assert fatal and AUTH_REASON in str(fatal[0]["detail"])
    halted = [p for kind, p in events if kind == "trading_state_changed" and p["state"] == "halted"]
    assert halted and AUTH_REASON in str(halted[0]["reason"])
    assert [p["kind"] for kind, p in events if kind == "anomaly"] == ["venue_fatal"]  # nothing resent or retried
    sent = [p for kind, p in events if kind == "submit_requested"]
    assert all(p["status"] == "rejected" for kind, p in events if kind == "order_report"), (
        "every order was refused or never sent"
    )
    assert len([p for kind, p in events if kind == "order_report"]) == len(sent)

    status = cli(["status"], setup.env, tmp_path)
    assert status.returncode == 0, status.stderr
    assert "state:      HALTED" in status.stdout
    reason_line = next(line for line in status.stdout.splitlines() if line.startswith("reason:"))
    assert AUTH_REASON in reason_line and "fake:demo" in reason_line

    again = cli(live_run(setup.profile, tmp_path / "again"), setup.env, tmp_path)  # the venue accepts keys again
    assert again.returncode == 3, again.stderr
    rerun = ledger_events(tmp_path / "again")
    kinds = [kind for kind, _ in rerun]
    assert "submit_requested" not in kinds
    decisions = [p for kind, p in rerun if kind == "decision"]
    assert decisions and all(p["code"] == "HALTED" for p in decisions)
    assert "state:      HALTED" in cli(["status"], setup.env, tmp_path).stdout
