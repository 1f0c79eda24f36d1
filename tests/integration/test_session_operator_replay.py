"""Issue 9 must-show on replayed data: the running session obeys its operator and fails closed.

Each test runs ``livegate run`` as a subprocess with its own state dir and looks at what
the run left: the ledger, ``kill_events.jsonl``, ``summary.json``, telemetry and the paper
venue's own store (the venue's truth: its open orders).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.integration.helpers import clean_env
from tests.integration.session_helpers import (
    approved,
    cli,
    finish,
    has_resting_order,
    kill_events,
    kill_now,
    paper_open_orders,
    process_gone,
    read_ledger,
    reader_children,
    start_run,
    stop,
    summary,
    wait_for,
)

STUCK_STRATEGY = '''
import pathlib
import time

from livegate.strategy.examples.market_maker import MarketMaker


class Stuck(MarketMaker):
    """Quotes like the market maker, then loops forever inside its 300th on_quote."""

    name = "stuck"

    def __init__(self, **params):
        self._marker = pathlib.Path(str(params.pop("marker")))
        super().__init__(**params)
        self._seen = 0

    def on_quote(self, ctx, quote):
        self._seen += 1
        if self._seen == 300:
            self._marker.write_text(str(time.time_ns() // 1_000_000))
            while True:
                pass
        super().on_quote(ctx, quote)
'''


def _kill_seen(run_dir: Path, source: str) -> bool:
    return (run_dir / "kill_events.jsonl").exists() and any(e["source"] == source for e in kill_events(run_dir))


@pytest.mark.parametrize("reader", ["off", "always"])
def test_run_when_operator_kills_during_realtime_replay_then_halted_within_a_second_and_no_order_open(
    tmp_path: Path, reader: str
) -> None:
    env, run_dir = clean_env(tmp_path), tmp_path / "run"
    process = start_run(["--realtime", "1", "--reader-process", reader, "--out", str(run_dir)], env, tmp_path)
    try:
        wait_for(lambda: len(approved(read_ledger(run_dir))) >= 2, 60, "approved orders")
        kill_ms = kill_now(env, tmp_path)
        wait_for(lambda: _kill_seen(run_dir, "cli:kill"), 5, "the session to adopt the kill")
        time.sleep(1.0)  # more market data arrives: nothing more may be approved
        code, err = stop(process)
    finally:
        process.kill()
    assert code == 3, err[-3000:]
    (seen,) = [e for e in kill_events(run_dir) if e["source"] == "cli:kill"]
    assert seen["state"] == "halted"
    assert seen["wall_ms"] - kill_ms <= 1000  # one timer interval (250 ms) plus slack, never more than 1 s
    events = read_ledger(run_dir)
    halted = next(e for e in events if e.kind == "trading_state_changed" and e.payload["source"] == "cli:kill")
    assert all(e.seq < halted.seq for e in approved(events))
    after = [e for e in events if e.kind == "decision" and e.seq > halted.seq]
    assert all(e.payload["code"] == "HALTED" for e in after)
    assert paper_open_orders(run_dir) == 0
    result = summary(run_dir)
    assert result["trading_state"]["state"] == "halted"
    assert result["end_reason"] == "signal SIGTERM"


@pytest.mark.parametrize("reader", ["off", "always"])
def test_run_when_sigterm_during_realtime_replay_then_orders_cancelled_summary_written_exit_143(
    tmp_path: Path, reader: str
) -> None:
    env, run_dir = clean_env(tmp_path), tmp_path / "run"
    telemetry = run_dir / "telemetry.jsonl"
    process = start_run(["--realtime", "1", "--reader-process", reader, "--out", str(run_dir)], env, tmp_path)
    try:
        wait_for(lambda: has_resting_order(run_dir), 60, "a resting order at the paper venue")
        wait_for(lambda: telemetry.exists() and '"kind":"heartbeat"' in telemetry.read_text(), 5,
                 "a heartbeat on disk while the session runs")  # fmt: skip
        readers = reader_children(process.pid)
        code, err = stop(process)
    finally:
        process.kill()
    assert code == 143, err[-3000:]
    assert len(readers) == (2 if reader == "always" else 0)  # the bundled sample: a quotes and a trades file
    assert all(process_gone(pid, within_secs=2) for pid in readers)
    assert paper_open_orders(run_dir) == 0
    result = summary(run_dir)
    assert result["end_reason"] == "signal SIGTERM"
    assert result["trading_state"]["state"] == "active"  # a graceful stop is not a kill
    events = read_ledger(run_dir)
    assert events[-1].kind == "session_ended" and events[-1].payload["reason"] == "signal SIGTERM"
    cancels = [e for e in events if e.kind == "cancel_requested"]
    assert cancels and cancels[-1].payload["reason"] == "shutdown: SIGTERM"
    check = cli(["check-telemetry", str(telemetry)], env, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    kinds = [json.loads(line)["kind"] for line in telemetry.read_text().splitlines()]
    assert kinds[-1] == "session_ended"


def test_run_when_strategy_loops_forever_then_interrupted_within_timeout_halted_naming_callback(
    tmp_path: Path,
) -> None:
    strategy = tmp_path / "stuck.py"
    strategy.write_text(STUCK_STRATEGY, encoding="utf-8")
    marker = tmp_path / "entered_ms"
    profile = tmp_path / "stuck.toml"
    profile.write_text(
        f'[strategy]\nspec = "{strategy}:Stuck"\ncallback_timeout_ms = 300\n\n'
        f'[strategy.params]\nmarker = "{marker}"\nrequote_interval_ms = 0\n',
        encoding="utf-8",
    )
    env, run_dir = clean_env(tmp_path), tmp_path / "run"
    code, err = finish(start_run(["--profile", str(profile), "--out", str(run_dir)], env, tmp_path), 120)
    assert code == 3, err[-3000:]
    (trip,) = [e for e in kill_events(run_dir) if e["source"] == "strategy_timeout"]
    assert trip["state"] == "halted"
    assert "on_quote" in trip["reason"] and "callback_timeout_ms=300" in trip["reason"]
    assert trip["wall_ms"] - int(marker.read_text()) <= 300 + 700  # the timeout, plus sampling and slack
    assert paper_open_orders(run_dir) == 0
    result = summary(run_dir)
    assert result["end_reason"].startswith("strategy watchdog: strategy callback on_quote")
    assert result["trading_state"]["state"] == "halted"
    status = cli(["status"], env, tmp_path)
    assert "HALTED" in status.stdout and "on_quote" in status.stdout


@pytest.mark.parametrize(("name", "what"), [("ledger.sqlite", "ledger"), ("telemetry.jsonl", "telemetry")])
def test_run_when_ledger_or_telemetry_deleted_mid_run_then_halted_orders_cancelled_exit_3(
    name: str, what: str, tmp_path: Path
) -> None:
    env, run_dir = clean_env(tmp_path), tmp_path / "run"
    process = start_run(["--realtime", "1", "--out", str(run_dir)], env, tmp_path)
    try:
        wait_for(lambda: has_resting_order(run_dir), 60, "a resting order at the paper venue")
        os.remove(run_dir / name)
        code, err = finish(process, 30)  # the session ends by itself
    finally:
        process.kill()
    assert code == 3, err[-3000:]
    result = summary(run_dir)
    assert result["end_reason"].startswith(f"storage failure: {what}") and "was deleted" in result["end_reason"]
    assert result["trading_state"]["state"] == "halted"
    assert paper_open_orders(run_dir) == 0
    state = json.loads((tmp_path / "state" / "trading_state.json").read_text())
    assert state["current"]["state"] == "halted" and state["current"]["source"] == "storage_failed"
    kills = kill_events(run_dir)
    assert kills and kills[-1]["source"] == "storage_failed"


def test_run_when_kill_switch_env_true_then_nothing_approved_and_rearm_refused(tmp_path: Path) -> None:
    env, run_dir = clean_env(tmp_path, LIVEGATE_KILL_SWITCH="True"), tmp_path / "run"
    code, err = finish(start_run(["--out", str(run_dir)], env, tmp_path), 120)
    assert code == 3, err[-3000:]
    events = read_ledger(run_dir)
    assert approved(events) == []
    assert any(e.kind == "decision" for e in events)
    assert summary(run_dir)["trading_state"]["source"] == "env"
    refused = cli(["rearm", "--reason", "try"], env, tmp_path)
    assert refused.returncode == 1 and "LIVEGATE_KILL_SWITCH=True is set" in refused.stderr + refused.stdout
