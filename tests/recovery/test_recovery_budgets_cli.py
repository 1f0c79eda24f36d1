"""Issue 9 §5: trading-day budgets live in the state store and survive sessions and crashes.

End to end through the CLI in subprocesses: two sessions of one venue account on one day
share ``max_orders_per_day``; a replayed run killed with SIGKILL and resumed approves no
more than the cap in total across both processes.
"""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
from pathlib import Path

from livegate.domain.enums import Mode
from livegate.testing.crash_harness import hooked_exe, livegate_exe
from tests.integration.helpers import base_env
from tests.modes.live_helpers import PROFILE, armed_setup, subprocess_env
from tests.runtime.helpers import ledger_events

LIVEGATE = str(Path(sys.executable).with_name("livegate"))
CAP = 12


def approved(run_dir: Path) -> int:
    return sum(1 for kind, p in ledger_events(run_dir) if kind == "decision" and p["approved"])


def denied_codes(run_dir: Path) -> set[object]:
    return {p["code"] for kind, p in ledger_events(run_dir) if kind == "decision" and not p["approved"]}


def test_budgets_when_two_live_sessions_on_one_day_then_they_share_max_orders_per_day(tmp_path: Path) -> None:
    setup = armed_setup(
        tmp_path, mode=Mode.LIVE, profile_text=PROFILE.replace("[risk]\n", f"[risk]\nmax_orders_per_day = {CAP}\n")
    )
    runs = []
    for name in ("first", "second"):
        out = tmp_path / name
        argv = ["run", "--mode", "live", "--enable-live", "--profile", str(setup.profile), "--out", str(out)]
        done = subprocess.run(
            [LIVEGATE, *argv, "--no-progress", "--max-events", "600"],
            env=subprocess_env(setup.env), cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert done.returncode in (0, 3), done.stderr
        runs.append(out)
    assert approved(runs[0]) == CAP  # the first session used the whole day's count
    assert approved(runs[1]) == 0  # the second continues it: nothing left today
    assert "DAILY_ORDER_COUNT_CAP" in denied_codes(runs[1])
    files = list((setup.state_dir / "budgets").iterdir())
    assert [f.name for f in files] == ["fake_demo.json"]  # the venue account, in the state dir
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    day = json.loads(files[0].read_text(encoding="utf-8"))
    assert sorted(s["orders"] for s in day["sessions"].values()) == [0, CAP]


def test_budgets_when_replay_killed_and_resumed_then_approved_total_within_cap(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    quotes, trades, profile = recovery_data
    run_dir = tmp_path / "run"
    env = base_env()
    env |= {"LIVEGATE_STATE_DIR": str(tmp_path / "state"), "LIVEGATE_RISK__MAX_ORDERS_PER_DAY": "30"}
    first = [*hooked_exe(), "run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes)]
    first += ["--trades", str(trades), "--out", str(run_dir)]
    crashed = subprocess.run(first, env={**env, "LIVEGATE_CRASH_AT": "before_submit:20"}, check=False, timeout=300)
    assert crashed.returncode == -signal.SIGKILL
    assert approved(run_dir) == 20  # the 20th approval was on the ledger when the process died
    resumed = subprocess.run(
        [*livegate_exe(), "run", "--no-progress", "--resume", str(run_dir)], env=env, check=False, timeout=300
    )
    assert resumed.returncode in (0, 3)
    assert approved(run_dir) == 30  # 20 before the crash + 10 after it: the cap, not 20 + 30
    assert "DAILY_ORDER_COUNT_CAP" in denied_codes(run_dir)
    day = json.loads((run_dir / "budgets.json").read_text(encoding="utf-8"))
    assert [s["orders"] for s in day["sessions"].values()] == [30]  # one session: the resume continued it


def test_budgets_when_two_replays_of_same_data_then_independent_and_deterministic(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    quotes, trades, profile = recovery_data
    env = base_env()
    env |= {"LIVEGATE_STATE_DIR": str(tmp_path / "state"), "LIVEGATE_RISK__MAX_ORDERS_PER_DAY": "30"}
    hashes = []
    for name in ("a", "b"):
        argv = [*livegate_exe(), "run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes)]
        done = subprocess.run([*argv, "--trades", str(trades), "--out", str(tmp_path / name)], env=env, check=False)
        assert done.returncode in (0, 3)
        assert approved(tmp_path / name) == 30  # each replay is its own account: the second gets the whole cap
        hashes.append(json.loads((tmp_path / name / "summary.json").read_text())["ledger_hash"])
    assert hashes[0] == hashes[1]
    assert not (tmp_path / "state" / "budgets").exists()  # replays never touch a venue account's budgets
