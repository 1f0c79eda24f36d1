"""The main job end to end: `livegate run` on real recorded Binance data."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.integration.helpers import LIVEGATE, clean_env, livegate, livegate_in_process, summary

RUN_DIR_FILES = {
    "config_resolved.json",
    "build_info.json",
    "ledger.sqlite",
    "telemetry.jsonl",
    "summary.json",
    "kill_events.jsonl",
    "report.html",
}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`livegate run` with no arguments, in an empty working directory."""
    cwd = tmp_path_factory.mktemp("noargs")
    env = clean_env(cwd)
    del env["LIVEGATE_LEDGER__SYNCHRONOUS"]  # the shipped default (FULL: every commit fsynced), unlike other tests
    proc = subprocess.run([*LIVEGATE, "run"], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    runs = sorted((cwd / "runs").iterdir())
    assert len(runs) == 1
    assert runs[0].name.endswith("-paper")
    assert json.loads((runs[0] / "config_resolved.json").read_text())["config"]["ledger"] == {"synchronous": "FULL"}
    return runs[0]


def test_run_when_no_arguments_then_paper_session_on_bundled_sample(default_run: Path) -> None:
    s = summary(default_run)
    assert s["mode"] == "paper"
    assert s["quotes_processed"] == 66089
    assert s["trades_processed"] == 21313
    assert s["fills"] > 0
    assert s["bad_rows"] == 0
    assert s["symbols"] == ["BTCUSDT"]
    assert RUN_DIR_FILES <= {p.name for p in default_run.iterdir()}
    for key in (
        "inputs",
        "intents",
        "approved",
        "denied",
        "orders_submitted",
        "turnover_usd",
        "fees_usd",
        "pnl_realized_usd",
        "pnl_unrealized_usd",
        "pnl_total_usd",
        "max_drawdown_usd",
        "positions",
        "ledger_hash",
        "data_span_secs",
        "wall_secs",
        "quotes_per_sec",
    ):
        assert key in s, key


def test_ledger_verify_and_check_telemetry_when_default_run_then_both_exit_0(default_run: Path, tmp_path: Path) -> None:
    verify = livegate_in_process(["ledger", "verify", str(default_run)], tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    check = livegate_in_process(["check-telemetry", str(default_run / "telemetry.jsonl")], tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_ledger_verify_when_any_row_edited_then_exit_1_naming_the_event(default_run: Path, tmp_path: Path) -> None:
    import shutil

    for target_seq in (1, 7, 200):
        copy = tmp_path / f"tampered-{target_seq}"
        copy.mkdir()
        shutil.copy(default_run / "ledger.sqlite", copy / "ledger.sqlite")
        con = sqlite3.connect(copy / "ledger.sqlite")
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
            con.execute(f"DROP TRIGGER {name}")
        payload = con.execute("SELECT payload FROM events WHERE seq=?", (target_seq,)).fetchone()[0]
        con.execute("UPDATE events SET payload=? WHERE seq=?", (payload.replace('"', "'", 1) + " ", target_seq))
        con.commit()
        con.close()
        proc = livegate_in_process(["ledger", "verify", str(copy)], tmp_path)
        assert proc.returncode == 1, proc.stdout
        assert f"seq={target_seq}" in proc.stdout


def test_ledger_export_when_fills_then_csv_has_required_columns(default_run: Path, tmp_path: Path) -> None:
    proc = livegate_in_process(["ledger", "export", str(default_run), "--kind", "fills", "--format", "csv"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0].split(",")
    for column in ("ts_ms", "client_order_id", "symbol", "side", "price", "quantity", "fee", "liquidity"):
        assert column in header
    assert len(proc.stdout.splitlines()) - 1 == summary(default_run)["fills"]


@pytest.mark.slow
def test_run_when_same_inputs_and_seed_then_same_ledger_hash(
    default_run: Path, bundled_paper_run: Path, tmp_path: Path
) -> None:
    # two sessions in their own processes and directories on the same inputs and seed: the
    # module's `livegate run` with no arguments and the shared `livegate run --no-progress --out`
    hashes = [summary(default_run)["ledger_hash"], summary(bundled_paper_run)["ledger_hash"]]
    assert hashes[0] == hashes[1]
    other = livegate(
        [
            "run",
            "--no-progress",
            "--seed",
            "0",
            "--strategy",
            "livegate.strategy.examples.taker:Taker",
            "--out",
            str(tmp_path / "c"),
        ],
        tmp_path,
    )
    assert other.returncode == 0, other.stderr
    assert summary(tmp_path / "c")["ledger_hash"] != hashes[0]


def test_run_when_input_file_missing_then_exit_2_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "quotes.csv.gz"
    proc = livegate(["run", "--no-progress", "--quotes", str(missing), "--out", str(tmp_path / "r")], tmp_path)
    assert proc.returncode == 2
    assert str(missing) in proc.stderr + proc.stdout
