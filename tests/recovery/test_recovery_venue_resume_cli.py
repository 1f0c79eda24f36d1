"""Issue 9 §6: ``--resume`` works for a live run too (CLI end to end against the fake venue).

A live session killed with SIGKILL right after the venue accepted an order (its answer
not yet written) is resumed: the live gate is checked again (refused without
``--enable-live``), the same session continues its client order ids, the unfinished
order is settled from venue truth and the crashed strategy's leftovers are cancelled.
The fake venue keeps its book in memory, so the resumed process meets a venue that has
forgotten the first process's orders: reconciliation must see that drift and fail closed
(REDUCING, exit 3), never trade on as if nothing happened.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from livegate.domain.enums import Mode
from tests.modes.live_helpers import armed_setup, subprocess_env
from tests.runtime.helpers import ledger_events

LIVEGATE = str(Path(sys.executable).with_name("livegate"))
TERMINAL = {"filled", "cancelled", "rejected", "expired"}


def test_resume_when_live_run_killed_after_submit_then_gate_rechecked_and_session_continues(tmp_path: Path) -> None:
    setup = armed_setup(tmp_path, mode=Mode.LIVE)
    env = subprocess_env(setup.env)
    run_dir = tmp_path / "run"
    first = [sys.executable, "-m", "livegate.testing", "run", "--mode", "live", "--enable-live"]
    first += ["--profile", str(setup.profile), "--out", str(run_dir), "--no-progress", "--max-events", "600"]
    crashed = subprocess.run(first, env={**env, "LIVEGATE_CRASH_AT": "after_submit:3"}, cwd=tmp_path, check=False)
    assert crashed.returncode == -signal.SIGKILL
    before = ledger_events(run_dir)
    session_id = next(p["session_id"] for kind, p in before if kind == "session_started")

    resume = [LIVEGATE, "run", "--resume", str(run_dir), "--no-progress", "--max-events", "300"]
    refused = subprocess.run(resume, env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert refused.returncode == 2
    assert "--enable-live" in refused.stderr

    resumed = subprocess.run(
        [*resume, "--enable-live"], env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=180
    )
    assert resumed.returncode in (0, 3), resumed.stderr
    assert "gate mode=live status=PASS" in resumed.stderr
    events = ledger_events(run_dir)
    resumed_events = [p for kind, p in events if kind == "session_resumed"]
    assert len(resumed_events) == 1 and resumed_events[0]["session_id"] == session_id
    submitted = Counter(str(p["client_order_id"]) for kind, p in events if kind == "submit_requested")
    assert submitted and max(submitted.values()) == 1  # no client order id sent twice
    intents = Counter(str(p["client_order_id"]) for kind, p in events if kind == "intent")
    assert max(intents.values()) == 1  # the resumed session continued the id sequence
    unanswered = [str(p["client_order_id"]) for kind, p in before if kind == "submit_requested"][-1]
    lost = [p for kind, p in events if kind == "order_report" and p.get("code") == "LOST_BEFORE_VENUE"]
    assert [p["client_order_id"] for p in lost] == [unanswered]  # settled from venue truth, never resent
    orphans = {p["client_order_id"] for kind, p in events if kind == "cancel_requested"}
    assert orphans == set(submitted) - {unanswered}  # the crashed strategy's working orders: cancelled
    assert resumed.returncode == 3  # the forgetful venue is drift: REDUCING, anomaly
    states = [p for kind, p in events if kind == "trading_state_changed"]
    assert states and states[-1]["state"] == "reducing" and states[-1]["source"] == "reconcile"
    assert events[-1][0] == "session_ended"
