"""Sessions on other real captures: raw Binance capture, spot normalized files, shadow mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import livegate, livegate_in_process, summary


def test_run_when_raw_capture_then_same_counts_as_normalized(shared_data: Path, tmp_path: Path) -> None:
    capture = shared_data / "crypto/binance_ws_raw/usdm_btcusdt_20240808.jsonl.gz"
    out = tmp_path / "raw"
    proc = livegate(["run", "--no-progress", "--capture", str(capture), "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    s = summary(out)
    assert s["quotes_processed"] == 66089
    assert s["trades_processed"] == 21313
    assert s["fills"] > 0
    assert livegate_in_process(["ledger", "verify", str(out)], tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("venue", "stem"),
    [
        pytest.param("binance", "binance_spot_ethusdt_20240809", marks=pytest.mark.extended),
        ("binanceusdm", "binance_usdm_ethusdt_20240808"),
    ],
)
def test_run_when_other_real_files_then_session_completes(
    request: pytest.FixtureRequest, tmp_path: Path, venue: str, stem: str
) -> None:
    data_dir = request.getfixturevalue("shared_data" if venue == "binance" else "core_data")
    out = tmp_path / stem
    base = data_dir / "crypto/normalized" / stem
    proc = livegate(
        [
            "run",
            "--no-progress",
            "--quotes",
            f"{base}_quotes.csv.gz",
            "--trades",
            f"{base}_trades.csv.gz",
            "--out",
            str(out),
        ],
        tmp_path,
        LIVEGATE_VENUE__NAME=venue,
    )
    assert proc.returncode == 0, proc.stderr
    s = summary(out)
    assert s["symbols"] == ["ETHUSDT"]
    assert s["quotes_processed"] > 30000
    assert s["fills"] > 0
    assert livegate_in_process(["check-telemetry", str(out / "telemetry.jsonl")], tmp_path).returncode == 0


def test_run_when_shadow_mode_then_orders_recorded_and_never_filled(tmp_path: Path) -> None:
    out = tmp_path / "shadow"
    proc = livegate(["run", "--no-progress", "--mode", "shadow", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    s = summary(out)
    assert s["mode"] == "shadow"
    assert s["orders_submitted"] > 0
    assert s["fills"] == 0
