"""``livegate run --reader-process``: a replay read by reader processes is the same session as one read in place."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.integration.helpers import clean_env
from tests.integration.session_helpers import cli

VENUE_TABLES = ("orders", "fills", "positions", "balances")


def _venue_rows(run_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """The paper venue's own state after the run: every row of its orders, fills, positions and balances."""
    with sqlite3.connect(run_dir / "paper_venue.sqlite") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall()) for table in VENUE_TABLES if table in names
        }


def test_run_when_inputs_read_by_reader_processes_then_same_ledger_telemetry_and_venue_state(tmp_path: Path) -> None:
    # the bundled sample (real Binance USD-M quotes and trades), the market maker: orders, fills, cancels
    env = clean_env(tmp_path)
    runs = {}
    for reader in ("off", "always"):
        run_dir = tmp_path / reader
        done = cli(["run", "--no-progress", "--reader-process", reader, "--out", str(run_dir)], env, tmp_path)
        assert done.returncode in (0, 3), done.stderr[-3000:]
        runs[reader] = run_dir
    summaries = {reader: json.loads((run_dir / "summary.json").read_text()) for reader, run_dir in runs.items()}
    assert summaries["off"]["fills"] > 0 and summaries["off"]["quotes_processed"] > 60_000
    for key in ("ledger_hash", "quotes_processed", "trades_processed", "bad_rows", "fills", "pnl_total_usd"):
        assert summaries["always"][key] == summaries["off"][key], key
    telemetry = {reader: (run_dir / "telemetry.jsonl").read_bytes() for reader, run_dir in runs.items()}
    assert telemetry["always"] == telemetry["off"]
    venue = {reader: _venue_rows(run_dir) for reader, run_dir in runs.items()}
    assert venue["off"]["fills"] and venue["always"] == venue["off"]
