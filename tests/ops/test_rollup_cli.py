"""``livegate rollup`` (issue 13 item 2): rows per day, mode, venue and symbol, recomputed independently."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from livegate.ops.rollup import ROLLUP_COLUMNS, percentile
from tests.ops.rollup_helpers import cli, run_cli


@pytest.fixture
def home(ops_runs: Path) -> Path:
    return ops_runs


def _export(home: Path, run_dir: Path, kind: str) -> str:
    fmt = "csv" if kind == "fills" else "jsonl"
    done = cli(["ledger", "export", str(run_dir), "--kind", kind, "--format", fmt])
    assert done.exit_code == 0, done.output
    return done.stdout


def _rollup_csv(home: Path, *args: str) -> list[dict[str, str]]:
    out = home / "rollup.csv"
    done = cli(["rollup", *args, "--out", str(out)])
    assert done.exit_code == 0, done.output
    return list(csv.DictReader(out.open(encoding="utf-8")))


def test_percentile_when_compared_with_numpy_then_same_linear_rule() -> None:
    values = [3.0, -1.5, 0.25, 7.0, 2.0, 2.0, -4.0]
    for q in (0, 5, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([], 50) is None


def test_rollup_when_run_then_slippage_and_fees_match_a_recomputation_from_exported_fills_and_arrival_quotes(
    home: Path,
) -> None:
    run_dir = home / "runs" / "paper"
    fills = list(csv.DictReader(io.StringIO(_export(home, run_dir, "fills"))))
    events = [json.loads(line) for line in _export(home, run_dir, "events").splitlines()]
    arrival_mid = {
        e["payload"]["client_order_id"]: Decimal(e["payload"]["arrival"]["mid"])
        for e in events
        if e["kind"] == "decision" and e["payload"]["arrival"] is not None
    }
    slippage = []
    for fill in fills:
        mid = arrival_mid[fill["client_order_id"]]
        sign = 1 if fill["side"] == "buy" else -1
        slippage.append(float(sign * (Decimal(fill["price"]) - mid) / mid * 10_000))
    fees = sum((Decimal(f["fee"]) for f in fills), Decimal(0))
    turnover = sum((Decimal(f["price"]) * Decimal(f["quantity"]) for f in fills), Decimal(0))

    (row,) = _rollup_csv(home, str(run_dir))
    assert (row["mode"], row["venue"], row["symbol"]) == ("paper", "paper", "BTCUSDT")
    assert int(row["fills"]) == len(fills) > 0
    assert Decimal(row["fees_usd"]) == fees
    assert Decimal(row["turnover_usd"]) == turnover
    assert float(row["slippage_median_bps"]) == pytest.approx(np.median(slippage), abs=1e-3)
    assert float(row["slippage_p95_bps"]) == pytest.approx(np.percentile(slippage, 95), abs=1e-3)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert Decimal(row["realized_pnl_usd"]) == Decimal(summary["pnl_realized_usd"])
    assert int(row["intents"]) == summary["intents"]
    assert row["markout_1s_bps"] and row["markout_5s_bps"]
    assert row["ack_latency_p50_ms"] == ""  # paper: no venue round trip to measure


def test_rollup_when_a_run_drifted_then_denials_by_code_anomalies_kills_and_drift_show(home: Path) -> None:
    rows = _rollup_csv(home, "--runs-dir", str(home / "runs"))
    drifted = [r for r in rows if int(r["drift_records"]) > 0]
    assert drifted, rows
    first = drifted[0]
    assert int(first["kills"]) >= 1 and int(first["anomalies"]) >= 1
    codes = json.loads(first["denials_by_code"])
    assert codes.get("REDUCING", 0) > 0 and sum(codes.values()) == int(first["denials"])
    assert int(first["runs"]) == 2  # both runs traded BTCUSDT on the sample's day


def test_rollup_csv_when_read_by_pandas_polars_and_duckdb_then_same_columns_and_rows(home: Path) -> None:
    out = home / "read.csv"
    done = run_cli(["rollup", "--runs-dir", str(home / "runs"), "--out", str(out)], home)  # the real CLI
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out)
    assert list(frame.columns) == list(ROLLUP_COLUMNS)
    assert frame["fees_usd"].sum() > 0
    polars = pytest.importorskip("polars")
    assert polars.read_csv(out).columns == list(ROLLUP_COLUMNS)
    duckdb = pytest.importorskip("duckdb")
    ((count, fills),) = duckdb.connect().execute(f"select count(*), sum(fills) from read_csv_auto('{out}')").fetchall()
    assert (count, fills) == (len(frame), frame["fills"].sum())


def test_rollup_when_json_then_rows_and_runs_listed(home: Path) -> None:
    done = cli(["rollup", "--runs-dir", str(home / "runs"), "--json", "--since", "2024-08-08"])
    assert done.exit_code == 0, done.output
    document: dict[str, Any] = json.loads(done.stdout)
    assert document["schema"] == "livegate.rollup/1"
    assert len(document["runs"]) == 2
    assert {r["day"] for r in document["rows"]} >= {"2024-08-08"}


def test_rollup_when_since_is_after_every_day_then_no_rows(home: Path) -> None:
    done = cli(["rollup", "--runs-dir", str(home / "runs"), "--json", "--since", "2030-01-01"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["rows"] == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--runs-dir", "nowhere"], "not a directory"),
        ([], "RUN_DIR"),
        (["--runs-dir", ".", "--since", "yesterday"], "YYYY-MM-DD"),
    ],
)
def test_rollup_when_arguments_are_wrong_then_exit_2_naming_the_problem(
    home: Path, args: list[str], needle: str
) -> None:
    done = cli(["rollup", *[home.joinpath(a).as_posix() if a in ("nowhere", ".") else a for a in args]])
    assert done.exit_code == 2
    assert needle in done.output


def test_rollup_when_parquet_asked_without_pyarrow_then_exit_2_or_written(home: Path) -> None:
    out = home / "rollup.parquet"
    done = cli(["rollup", "--runs-dir", str(home / "runs"), "--out", str(out)])
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        assert done.exit_code == 2 and "pyarrow" in done.output
    else:
        assert done.exit_code == 0 and len(pd.read_parquet(out)) > 0
