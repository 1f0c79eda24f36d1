"""Drift injection: the paper venue's position changes behind livegate's back (issue 6 item 7)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from livegate.testing.crash_harness import hooked_exe, livegate_exe
from tests.integration.helpers import base_env


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = base_env()
    env["LIVEGATE_STATE_DIR"] = str(tmp_path / "state")
    env.update(extra)
    return env


@pytest.mark.parametrize("on_drift", ["reducing", "halted"])
def test_drift_when_venue_position_moves_in_paper_then_record_within_one_interval_state_moves_and_status_says_why(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path, on_drift: str
) -> None:
    quotes, trades, profile = recovery_data
    run_dir = tmp_path / "run"
    env = _env(
        tmp_path,
        LIVEGATE_RECONCILE__INTERVAL_SECS="5",
        LIVEGATE_RECONCILE__ON_DRIFT=on_drift,
        LIVEGATE_TEST_DRIFT="12:BTCUSDT:0.3",
    )
    argv = [*hooked_exe(), "run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes)]
    run = subprocess.run([*argv, "--trades", str(trades), "--out", str(run_dir)], env=env, check=False)
    assert run.returncode == 3  # completed with anomalies

    drift = [json.loads(line) for line in (run_dir / "reconcile_drift.jsonl").read_text().splitlines()]
    position = [d for d in drift if d["kind"] == "position_mismatch"]
    assert position, drift
    first = position[0]
    assert first["beyond_tolerance"] and first["trigger"] == "periodic" and first["source"] == "positions"
    assert first["venue"] == "paper" and first["symbol"] == "BTCUSDT" and first["tolerance"] == "0"
    from livegate.marketdata.replay import load_replay

    start_ms = load_replay(quotes=quotes, trades=trades, venue="binanceusdm").first_ts_ms
    assert first["ts_ms"] - (start_ms + 12_000) <= 5_000  # within one reconcile interval of the injection

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["trading_state"]["state"] == on_drift
    status = subprocess.run([*livegate_exe(), "status"], env=env, capture_output=True, text=True, check=False)
    assert on_drift.upper() in status.stdout
    assert "reconcile drift" in status.stdout and "position_mismatch" in status.stdout


def test_drift_when_paper_store_edited_while_engine_down_then_resume_trips_at_startup(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    quotes, trades, profile = recovery_data
    run_dir = tmp_path / "run"
    env = _env(tmp_path, LIVEGATE_RECONCILE__ON_DRIFT="halted")
    argv = [*hooked_exe(), "run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes)]
    argv += ["--trades", str(trades), "--out", str(run_dir)]
    crashed = subprocess.run(argv, env={**env, "LIVEGATE_CRASH_AT": "before_submit:25"}, check=False)
    assert crashed.returncode == -signal.SIGKILL
    with sqlite3.connect(run_dir / "paper_venue.sqlite") as conn:  # the exchange moves while livegate is dead
        conn.execute("UPDATE positions SET quantity = CAST(quantity AS REAL) + 1 WHERE symbol = 'BTCUSDT'")

    resumed = subprocess.run([*livegate_exe(), "run", "--no-progress", "--resume", str(run_dir)], env=env, check=False)
    assert resumed.returncode == 3
    drift = [json.loads(line) for line in (run_dir / "reconcile_drift.jsonl").read_text().splitlines()]
    assert any(d["kind"] == "position_mismatch" and d["trigger"] == "startup" and d["beyond_tolerance"] for d in drift)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["trading_state"]["state"] == "halted"
    assert summary["denied"].get("HALTED", 0) > 0  # no new risk after the drift

    check = subprocess.run([*livegate_exe(), "reconcile", str(run_dir), "--dry-run", "--json"], env=env,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert check.returncode == 3
    assert json.loads(check.stdout)["clean"] is False
