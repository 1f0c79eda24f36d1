"""Bad market-data rows are counted and skipped; the run goes on."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.integration.helpers import livegate, livegate_in_process, summary

BAD_ROWS = [
    "1723161255088200000,1723161256400,BTCUSDT,NaN,2.5,61800.30,2.5,1",
    "1723161255088200001,1723161256401,BTCUSDT,0,2.5,61800.30,2.5,2",
    "1723161255088200002,1723161256402,BTCUSDT,-61800.20,2.5,61800.30,2.5,3",
    "1723161255088200003,1723161256403,BTCUSDT,61810.00,2.5,61800.30,2.5,4",
    "1723161255088200004,1723161256404,BTCUSDT,61800.20,2.5",
]


def test_run_when_quotes_hold_nan_zero_negative_crossed_rows_then_each_counted(core_data: Path, tmp_path: Path) -> None:
    source = core_data / "crypto/normalized/binance_usdm_btcusdt_20240808_quotes.csv.gz"
    with gzip.open(source, "rt") as fh:
        lines = [next(fh) for _ in range(3001)]
    header, rows = lines[0], lines[1:]
    mixed = rows[:1000] + [r + "\n" for r in BAD_ROWS] + rows[1000:]
    target = tmp_path / "quotes_with_bad_rows.csv"
    target.write_text(header + "".join(mixed))
    # trades cut at the last quote's exchange time, so the feed never goes quiet while trading
    last_quote_ms = int(rows[-1].split(",")[1])
    with gzip.open(core_data / "crypto/normalized/binance_usdm_btcusdt_20240808_trades.csv.gz", "rt") as fh:
        trade_lines = fh.readlines()
    trades = tmp_path / "trades.csv"
    trades.write_text(
        trade_lines[0] + "".join(line for line in trade_lines[1:] if int(line.split(",")[1]) <= last_quote_ms)
    )
    out = tmp_path / "run"
    proc = livegate(
        ["run", "--no-progress", "--quotes", str(target), "--trades", str(trades), "--out", str(out)], tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    s = summary(out)
    assert s["bad_rows"] == len(BAD_ROWS)
    assert s["quotes_processed"] == 3000
    reasons = [
        json.loads(line)["reason"]
        for line in (out / "telemetry.jsonl").read_text().splitlines()
        if json.loads(line)["kind"] == "bad_row"
    ]
    assert len(reasons) == len(BAD_ROWS)
    assert livegate_in_process(["check-telemetry", str(out / "telemetry.jsonl")], tmp_path).returncode == 0
