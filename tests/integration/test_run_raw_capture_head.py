"""``livegate run --capture`` end to end on the head of a real raw Binance capture (tests/data)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.helpers import livegate, livegate_in_process, summary


def test_run_when_raw_capture_head_then_every_message_counted_and_ledger_verifies(
    core_data: Path, tmp_path: Path
) -> None:
    capture = core_data / "crypto/binance_ws_raw/usdm_btcusdt_20240808_head4000.jsonl.gz"
    out = tmp_path / "raw"
    proc = livegate(["run", "--no-progress", "--capture", str(capture), "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    s = summary(out)
    assert (s["quotes_processed"], s["trades_processed"], s["bad_rows"]) == (3_117, 569, 0)
    assert s["orders_submitted"] > 0
    assert livegate_in_process(["ledger", "verify", str(out)], tmp_path).returncode == 0
    assert livegate_in_process(["check-telemetry", str(out / "telemetry.jsonl")], tmp_path).returncode == 0
