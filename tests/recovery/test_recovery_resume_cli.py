"""``livegate run --resume`` after a SIGKILL: to the end of the data, venue positions, PnL from exported fills."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.enums import Liquidity, Side
from livegate.domain.orders import Fill
from livegate.domain.positions import Position
from livegate.marketdata.replay import load_replay
from livegate.testing.crash_harness import hooked_exe, livegate_exe
from tests.integration.helpers import base_env, livegate_in_process


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = base_env()
    env["LIVEGATE_STATE_DIR"] = str(tmp_path / "state")
    env.update(extra)
    return env


@pytest.mark.parametrize("reader", ["off", "always"])
def test_resume_when_sigkilled_between_fills_then_runs_to_end_with_venue_positions_and_exported_fill_pnl(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path, reader: str
) -> None:
    quotes, trades, profile = recovery_data
    run_dir = tmp_path / "run"
    first = [*hooked_exe(), "run", "--no-progress", "--reader-process", reader, "--profile", str(profile)]
    first += ["--quotes", str(quotes), "--trades", str(trades), "--out", str(run_dir)]
    crashed = subprocess.run(first, env=_env(tmp_path, LIVEGATE_CRASH_AT="between_fills:4"), check=False)
    assert crashed.returncode == -signal.SIGKILL
    assert not (run_dir / "summary.json").exists()

    resumed = subprocess.run(
        [*livegate_exe(), "run", "--no-progress", "--reader-process", reader, "--resume", str(run_dir)],
        env=_env(tmp_path),
        check=False,
    )
    assert resumed.returncode in (0, 3)
    summary = json.loads((run_dir / "summary.json").read_text())
    data = load_replay(quotes=quotes, trades=trades, venue="binanceusdm")
    assert summary["quotes_processed"] + summary["trades_processed"] == len(data.events)  # to the end of the data

    export = livegate_in_process(["ledger", "export", str(run_dir), "--kind", "fills", "--format", "jsonl"], tmp_path)
    export.check_returncode()
    positions: dict[str, Position] = {}
    for row in map(json.loads, export.stdout.splitlines()):
        fill = Fill(
            row["client_order_id"], row["fill_id"], row["symbol"], Side(row["side"]), Decimal(row["price"]),
            Decimal(row["quantity"]), Decimal(row["fee"]), Liquidity(row["liquidity"]), int(row["ts_ms"]),
        )  # fmt: skip
        positions.setdefault(fill.symbol, Position(fill.symbol)).apply_fill(fill)
    btc = positions["BTCUSDT"]
    mark = Decimal(summary["positions"]["BTCUSDT"]["mark_price"])
    assert Decimal(summary["pnl_realized_usd"]) == btc.realized_pnl
    assert Decimal(summary["fees_usd"]) == btc.fees
    assert Decimal(summary["pnl_total_usd"]) == btc.realized_pnl + btc.unrealized_pnl(mark) - btc.fees

    with sqlite3.connect(run_dir / "paper_venue.sqlite") as conn:
        (venue_qty,) = conn.execute("SELECT quantity FROM positions WHERE symbol = 'BTCUSDT'").fetchone()
        (venue_fills,) = conn.execute("SELECT COUNT(*) FROM fills").fetchone()
    assert Decimal(venue_qty) == btc.quantity == Decimal(summary["positions"]["BTCUSDT"]["quantity"])
    assert venue_fills == len(export.stdout.splitlines())
    drift = [json.loads(line) for line in (run_dir / "reconcile_drift.jsonl").read_text().splitlines()]
    assert drift and all(d["resolved"] for d in drift)  # the fill the crash hid was adopted from the venue
    verify = livegate_in_process(["ledger", "verify", str(run_dir)], tmp_path)
    assert verify.returncode == 0


def test_resume_when_run_already_ended_then_refuses_with_exit_2(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    quotes, trades, profile = recovery_data
    run_dir = tmp_path / "run"
    argv = [*livegate_exe(), "run", "--no-progress", "--profile", str(profile), "--quotes", str(quotes)]
    subprocess.run([*argv, "--trades", str(trades), "--out", str(run_dir)], env=_env(tmp_path), check=True)
    again = subprocess.run(
        [*livegate_exe(), "run", "--no-progress", "--resume", str(run_dir)],
        env=_env(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert again.returncode == 2
    assert "ended normally" in " ".join(again.stderr.split())


def test_resume_when_shadow_run_crashed_then_forgotten_orders_close_without_tripping(
    recovery_data: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    quotes, trades, profile = recovery_data
    run_dir = tmp_path / "run"
    argv = [*hooked_exe(), "run", "--no-progress", "--mode", "shadow", "--profile", str(profile)]
    argv += ["--quotes", str(quotes), "--trades", str(trades), "--out", str(run_dir)]
    crashed = subprocess.run(argv, env=_env(tmp_path, LIVEGATE_CRASH_AT="before_submit:20"), check=False)
    assert crashed.returncode == -signal.SIGKILL
    resumed = subprocess.run(
        [*livegate_exe(), "run", "--no-progress", "--resume", str(run_dir)], env=_env(tmp_path), check=False
    )
    assert resumed.returncode == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["trading_state"]["state"] == "active"
    drift = [json.loads(line) for line in (run_dir / "reconcile_drift.jsonl").read_text().splitlines()]
    assert drift and all(d["resolved"] and d["venue"] == "shadow" for d in drift)
