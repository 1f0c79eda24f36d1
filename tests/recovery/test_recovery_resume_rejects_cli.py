"""A resumed run counts only its recent venue rejects toward ``[kill] max_rejects`` (reject_storm).

The crashed run's restored reject count used to reach the trigger as that many new rejects
at once, so a run with ten rejects over its whole life halted (``reject_storm``) the moment
it resumed. A storm under way when the process died still counts: the rejects inside
``reject_window_secs`` are carried over at their ledger times.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from livegate.runtime.session import bundled_sample
from livegate.testing.crash_harness import hooked_exe, livegate_exe, write_slice
from tests.integration.helpers import base_env

STRATEGY = Path(__file__).with_name("crossing_strategy.py")
#: One crossing post-only buy every 10 s of event time: at most 6 rejects in any 60 s window.
PROFILE = f"""seed = 3
[strategy]
spec = "{STRATEGY}:Crossing"
[strategy.params]
every_ms = 10000
"""


def _run(argv: list[str], tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**base_env(), "LIVEGATE_STATE_DIR": str(tmp_path / "state"), **extra}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


def _rejected(run_dir: Path) -> int:
    return int(json.loads((run_dir / "summary.json").read_text())["rejected"])


def test_resume_when_the_run_had_more_lifetime_rejects_than_max_rejects_then_no_reject_storm(tmp_path: Path) -> None:
    quotes, trades = write_slice(*bundled_sample(), tmp_path / "data", 170)
    profile = tmp_path / "crossing.toml"
    profile.write_text(PROFILE, encoding="utf-8")
    run_dir = tmp_path / "run"
    first = [*hooked_exe(), "run", "--no-progress", "--profile", str(profile)]
    first += ["--quotes", str(quotes), "--trades", str(trades), "--out", str(run_dir)]
    crashed = _run(first, tmp_path, LIVEGATE_CRASH_AT="before_submit:13")  # after 12 rejected orders
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]

    resumed = _run([*livegate_exe(), "run", "--no-progress", "--resume", str(run_dir)], tmp_path)

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["trading_state"]["state"] == "active", summary["trading_state"]
    assert "reject_storm" not in resumed.stderr
    assert _rejected(run_dir) >= 13  # the crashed run's 12, and the resumed run's own
