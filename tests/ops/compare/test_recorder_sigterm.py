"""A venue session's recording reaches the disk while it runs and is complete after SIGTERM."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

from livegate.marketdata.replay import load_replay
from tests.integration.helpers import base_env
from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread

PROFILE = """
[venue]
name = "ccxt:binance"
symbols = ["BTC/USDT"]
rest_url = "{rest_url}"
ws_url = "{ws_url}"
"""


def _flushed_rows(path: Path) -> int:
    """Return the data rows readable now (complete gzip members only), 0 before the first flush."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as text:
            return max(len(text.read().splitlines()) - 1, 0)
    except (OSError, EOFError, zlib.error):
        return 0


def test_recording_when_the_session_is_stopped_by_sigterm_then_files_are_complete_and_replayable(
    tmp_path: Path,
) -> None:
    venue = EmulatorThread(Kind.SPOT, pace_ms=10, max_events=3000)
    out = tmp_path / "run"
    try:
        profile = tmp_path / "shadow.toml"
        profile.write_text(PROFILE.format(rest_url=venue.emulator.rest_url, ws_url=venue.emulator.ws_url))
        env = base_env()
        env["LIVEGATE_STATE_DIR"] = str(tmp_path / "state")
        proc = subprocess.Popen(
            [sys.executable, "-m", "livegate", "run", "--profile", str(profile), "--mode", "shadow",
             "--no-progress", "--out", str(out)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            # streamed while running: the periodic flush makes rows readable before the session ends
            while _flushed_rows(out / "market" / "quotes.csv.gz") < 20:
                assert proc.poll() is None, proc.communicate()[1][-3000:]
                assert time.monotonic() < deadline, "no flushed quotes within 60 s"
                time.sleep(0.1)
            assert not (out / "market" / "recording.json").exists()
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    finally:
        venue.close()

    assert proc.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    manifest = json.loads((out / "market" / "recording.json").read_text(encoding="utf-8"))
    data = load_replay(out / "market" / "quotes.csv.gz", out / "market" / "trades.csv.gz")
    assert data.bad_rows == []
    assert data.quotes == manifest["quotes"] == summary["quotes_processed"]
    assert data.trades == manifest["trades"] == summary["trades_processed"]
    assert summary["market_recorded"]["quotes"] == data.quotes
