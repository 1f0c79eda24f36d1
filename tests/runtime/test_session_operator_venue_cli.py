"""Issue 9 must-show against a venue: kill, silent feed and SIGTERM during an armed fake-venue session.

``livegate run --mode live`` runs as a subprocess on a fully armed machine (its own state
dir, token, preflight) against the fake venue, paced at 100 market events a second. The
fake venue writes its book (open orders, positions) to a file when the session closes it,
so each test checks the venue's own state after the process ended.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.control.faults import VENUE_FAULT_ENV
from livegate.domain.enums import Mode
from tests.integration.session_helpers import (
    approved,
    cli,
    kill_events,
    kill_now,
    read_ledger,
    start_run,
    stop,
    summary,
    wait_for,
)
from tests.modes.live_helpers import PROFILE, armed_setup, subprocess_env

SILENT_PROFILE = PROFILE + '\n[kill]\nstale_feed_secs = 2\nstale_feed_action = "halted"\n'


def live_args(profile: Path, run_dir: Path) -> list[str]:
    return ["--mode", "live", "--enable-live", "--profile", str(profile), "--out", str(run_dir)]


def venue_book(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _kill_seen(run_dir: Path, source: str) -> bool:
    return (run_dir / "kill_events.jsonl").exists() and any(e["source"] == source for e in kill_events(run_dir))


@pytest.mark.slow
def test_live_run_when_operator_kills_then_nothing_approved_a_second_later_and_venue_has_no_open_order(
    tmp_path: Path,
) -> None:
    setup = armed_setup(tmp_path, mode=Mode.LIVE)
    book, run_dir = tmp_path / "book.json", tmp_path / "run"
    env = subprocess_env({**setup.env, VENUE_FAULT_ENV: f"pace:100,book_file:{book}"})
    process = start_run(live_args(setup.profile, run_dir), env, tmp_path)
    try:
        wait_for(lambda: len(approved(read_ledger(run_dir))) >= 3, 60, "approved orders at the venue")
        kill_ms = kill_now(env, tmp_path)
        wait_for(lambda: _kill_seen(run_dir, "cli:kill"), 5, "the session to adopt the kill")
        time.sleep(1.0)  # the stream goes on: nothing more may be approved
        code, err = stop(process)
    finally:
        process.kill()
    assert code == 3, err[-3000:]
    events = read_ledger(run_dir)
    assert [e for e in approved(events) if e.ts_ms > kill_ms + 1000] == []
    (seen,) = [e for e in kill_events(run_dir) if e["source"] == "cli:kill"]
    assert seen["wall_ms"] - kill_ms <= 1000
    assert venue_book(book)["open_orders"] == []
    assert summary(run_dir)["trading_state"]["state"] == "halted"


@pytest.mark.slow
def test_live_run_when_feed_goes_silent_then_stale_feed_halts_within_limit_plus_one_second_and_cancels(
    tmp_path: Path,
) -> None:
    setup = armed_setup(tmp_path, mode=Mode.LIVE, profile_text=SILENT_PROFILE)
    book, run_dir = tmp_path / "book.json", tmp_path / "run"
    env = subprocess_env({**setup.env, VENUE_FAULT_ENV: f"pace:100,silent:150,book_file:{book}"})
    process = start_run(live_args(setup.profile, run_dir), env, tmp_path)

    def stale_halt() -> bool:
        return any(
            e.kind == "trading_state_changed" and e.payload["source"] == "trigger:stale_feed"
            for e in read_ledger(run_dir)
        )

    try:
        wait_for(stale_halt, 30, "the stale_feed trigger on the silent feed")
        code, err = stop(process)
    finally:
        process.kill()
    assert code == 3, err[-3000:]
    events = read_ledger(run_dir)
    trip = next(e for e in events if e.kind == "trading_state_changed" and e.payload["state"] == "halted")
    assert trip.payload["source"] == "trigger:stale_feed"
    assert Decimal(2) < Decimal(str(trip.payload["trigger_value"])) <= Decimal(3)  # quote age: limit + 1 s at most
    assert all(e.seq < trip.seq for e in approved(events))
    assert venue_book(book)["open_orders"] == []


@pytest.mark.slow
def test_live_run_when_sigterm_then_orders_cancelled_at_venue_summary_written_telemetry_valid_exit_143(
    tmp_path: Path,
) -> None:
    setup = armed_setup(tmp_path, mode=Mode.LIVE)
    book, run_dir = tmp_path / "book.json", tmp_path / "run"
    env = subprocess_env({**setup.env, VENUE_FAULT_ENV: f"pace:100,book_file:{book}"})
    process = start_run(live_args(setup.profile, run_dir), env, tmp_path)
    try:
        wait_for(lambda: len(approved(read_ledger(run_dir))) >= 3, 60, "approved orders at the venue")
        code, err = stop(process)
    finally:
        process.kill()
    assert code == 143, err[-3000:]
    assert venue_book(book)["open_orders"] == []
    result = summary(run_dir)
    assert result["end_reason"] == "signal SIGTERM"
    assert result["trading_state"]["state"] == "active"
    events = read_ledger(run_dir)
    assert events[-1].kind == "session_ended" and events[-1].payload["reason"] == "signal SIGTERM"
    check = cli(["check-telemetry", str(run_dir / "telemetry.jsonl")], env, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
