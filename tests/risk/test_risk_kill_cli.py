"""The kill switch end to end, in subprocesses sharing one state dir (LIVEGATE_STATE_DIR)."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

from tests.integration.helpers import livegate, livegate_in_process, summary

TAKER = "livegate.strategy.examples.taker:Taker"


def test_kill_then_run_then_rearm_when_same_state_dir_then_nothing_reaches_venue_until_rearmed(tmp_path: Path) -> None:
    killed = livegate(["kill", "--reason", "x"], tmp_path)
    assert killed.returncode == 0, killed.stderr
    status = livegate(["status"], tmp_path)
    assert "HALTED" in status.stdout and "x" in status.stdout and "cli:kill" in status.stdout

    run_dir = tmp_path / "halted"
    run = livegate(["run", "--no-progress", "--strategy", TAKER, "--out", str(run_dir)], tmp_path)
    assert run.returncode == 3, run.stdout + run.stderr
    s = summary(run_dir)
    assert s["intents"] > 0
    assert s["denied"] == {"HALTED": s["intents"]}
    assert s["approved"] == 0 and s["orders_submitted"] == 0 and s["fills"] == 0
    assert s["trading_state"]["state"] == "halted" and s["trading_state"]["state_at_start"] == "halted"
    with sqlite3.connect(run_dir / "ledger.sqlite") as db:
        kinds = {row[0] for row in db.execute("select kind from events")}
    assert "submit_requested" not in kinds and "trading_state_changed" in kinds

    rearmed = livegate(["rearm", "--reason", "y", "--run-dir", str(run_dir)], tmp_path)
    assert rearmed.returncode == 0, rearmed.stderr
    assert livegate_in_process(["ledger", "verify", str(run_dir)], tmp_path).returncode == 0
    active_dir = tmp_path / "active"
    run = livegate(["run", "--no-progress", "--strategy", TAKER, "--out", str(active_dir)], tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    s = summary(active_dir)
    assert s["approved"] > 0 and s["orders_submitted"] > 0 and "HALTED" not in s["denied"]
    log = (tmp_path / "state" / "trading_state.log.jsonl").read_text().splitlines()
    assert [json.loads(line)["action"] for line in log] == ["kill", "rearm"]


def test_kill_reducing_when_run_flat_then_every_opening_order_denied_reducing(tmp_path: Path) -> None:
    assert livegate(["kill", "--reason", "wind down", "--reducing"], tmp_path).returncode == 0
    run_dir = tmp_path / "run"
    livegate(["run", "--no-progress", "--strategy", TAKER, "--out", str(run_dir)], tmp_path)
    s = summary(run_dir)
    assert s["denied"] == {"REDUCING": s["intents"]}


def test_kill_file_or_env_when_present_then_run_halts_and_rearm_refuses(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "KILL").touch()
    run_dir = tmp_path / "run"
    livegate(["run", "--no-progress", "--strategy", TAKER, "--out", str(run_dir)], tmp_path)
    s = summary(run_dir)
    assert set(s["denied"]) == {"HALTED"} and s["trading_state"]["source"] == "kill_file"
    refused = livegate(["rearm", "--reason", "y"], tmp_path)
    assert refused.returncode == 1 and "KILL file" in refused.stderr
    (state / "KILL").unlink()
    assert livegate(["rearm", "--reason", "y"], tmp_path).returncode == 0
    env_run = tmp_path / "env_run"
    livegate(["run", "--no-progress", "--out", str(env_run)], tmp_path, LIVEGATE_KILL_SWITCH="1")
    assert summary(env_run)["trading_state"]["source"] == "env"


def test_session_lock_when_anomaly_locked_then_next_run_refused_until_unlock(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "session.lock").write_text(json.dumps({"kind": "cancel_all_unconfirmed", "reason": "2 open orders"}))
    refused = livegate(["run", "--no-progress", "--out", str(tmp_path / "r1")], tmp_path)
    assert refused.returncode == 2
    assert "unlock" in refused.stdout + refused.stderr
    assert livegate(["unlock", "--reason", "checked the venue"], tmp_path).returncode == 0
    ok = livegate(["run", "--no-progress", "--out", str(tmp_path / "r2")], tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def _splice_stale_gap(src: Path, dst: Path, kind: str, keep_secs: int, gap: tuple[int, int] | None) -> None:
    """Copy the first ``keep_secs`` of a normalized file, dropping rows inside ``gap`` (s from start)."""
    with gzip.open(src, "rt") as fin, gzip.open(dst, "wt") as fout:
        header = fin.readline()
        fout.write(header)
        start = None
        for line in fin:
            ts = int(line.split(",")[1])
            start = start if start is not None else ts
            offset = ts - start
            if offset > keep_secs * 1000:
                break
            if gap is not None and kind == "quotes" and gap[0] * 1000 <= offset < gap[1] * 1000:
                continue
            fout.write(line)


def test_stale_gap_spliced_into_real_capture_when_holding_exposure_then_tripwire_kill_and_restart_stays_halted(
    tmp_path: Path, core_data: Path
) -> None:
    norm = core_data / "crypto" / "normalized"
    quotes, trades = tmp_path / "q.csv.gz", tmp_path / "t.csv.gz"
    _splice_stale_gap(norm / "binance_usdm_btcusdt_20240808_quotes.csv.gz", quotes, "quotes", 90, (40, 60))
    _splice_stale_gap(norm / "binance_usdm_btcusdt_20240808_trades.csv.gz", trades, "trades", 90, None)
    profile = tmp_path / "stale.toml"
    profile.write_text(
        f'[strategy]\nspec = "{TAKER}"\n[strategy.params]\ncooldown_ms = 300\nthreshold = "0.3"\n'
        '[tripwires]\nmax_quote_age_ms = 1500\n[kill]\nstale_feed_secs = 5\nstale_feed_action = "halted"\n'
    )
    args = ["run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes), "--trades", str(trades)]
    first = tmp_path / "first"
    run = livegate([*args, "--out", str(first)], tmp_path)
    assert run.returncode == 3, run.stdout + run.stderr
    s = summary(first)
    assert s["denied"].get("STALE_QUOTE", 0) > 0
    assert s["denied"].get("HALTED", 0) > 0
    assert s["trading_state"]["state"] == "halted" and s["trading_state"]["source"] == "trigger:stale_feed"
    events = [json.loads(line) for line in (first / "kill_events.jsonl").read_text().splitlines()]
    assert [e["source"] for e in events] == ["trigger:stale_feed"]
    assert events[0]["threshold"] == "5" and float(events[0]["trigger_value"]) > 5
    assert events[0]["positions"] and "pnl" in events[0]
    assert s["trading_state"]["venue_health"] == {"binanceusdm": "healthy"}  # disabled in the gap, healthy after
    assert livegate_in_process(["check-telemetry", str(first / "telemetry.jsonl")], tmp_path).returncode == 0

    second = tmp_path / "second"
    livegate([*args, "--out", str(second)], tmp_path)
    s2 = summary(second)
    assert s2["trading_state"]["state_at_start"] == "halted"
    assert s2["denied"] == {"HALTED": s2["intents"]} and s2["orders_submitted"] == 0
    refused = livegate(["rearm", "--reason", "feed back"], tmp_path)
    assert refused.returncode == 0, refused.stderr  # the restart saw no exposure: the condition cleared
