"""Aurora's shadow-on-real-quotes workflow: ``--symbols`` bounded by ``--minutes``, market-data key only.

``livegate run --venue alpaca:live --mode shadow --symbols SPY,AAPL --minutes M`` streams
the emulator's real SPY and AAPL quotes through alpaca-py's StockDataStream (``sip``
feed), runs the strategy against the shadow venue, stops after M minutes of wall time
and leaves its run directory and summary. The emulator sees no trading request at all.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.alpaca_emulator.fixtures import AlpacaThread
from tests.venues_alpaca_e2e.helpers import LIVEGATE, arm, summary


def test_shadow_when_symbols_and_minutes_given_then_bounded_run_on_real_quotes_with_summary_and_no_trading_call(
    tmp_path: Path, alpaca_thread_factory: Callable[..., AlpacaThread]
) -> None:
    venue_thread = alpaca_thread_factory(pace_ms=5, symbols=("SPY", "AAPL"))
    armed = arm(tmp_path, venue_thread.emulator, venue="alpaca:live", feed="sip", apca_names=True)
    for key in ("LIVEGATE_LIVE_ENABLE", "LIVEGATE_LIVE_CONFIRM_TOKEN"):
        armed.env.pop(key)
    out = tmp_path / "shadow"
    started = time.monotonic()
    args = [*LIVEGATE, "run", "--profile", str(armed.profile), "--mode", "shadow", "--symbols", "SPY,AAPL",
            "--minutes", "0.1", "--no-progress", "--ignore-market-hours", "--out", str(out)]  # fmt: skip
    result = subprocess.run(args, cwd=tmp_path, env=armed.env, capture_output=True, text=True, timeout=90, check=False)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-4000:]
    assert "gate mode=shadow status=PASS" in result.stderr
    assert elapsed < 60  # 0.1 minute = 6 s of streaming, plus start-up and the clean end
    facts = summary(out)
    assert facts["mode"] == "shadow"
    assert facts["symbols"] == ["AAPL", "SPY"] and facts["minutes"] == 0.1
    assert facts["end_reason"] == "--minutes 0.1 elapsed"
    assert facts["quotes_processed"] > 100 and facts["trades_processed"] > 0
    assert facts["intents"] > 0 and facts["orders_submitted"] > 0  # the strategy traded the shadow venue
    for name in ("ledger.sqlite", "telemetry.jsonl", "config_resolved.json", "summary.json"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config_resolved.json").read_text())
    assert "PKEMULATOR" not in json.dumps(config)  # the data key never reaches an artifact
    # market data only: the sip stream was used and no trading REST call was ever made
    requests = venue_thread.call(lambda e: list(e.requests))
    assert ("GET", "/v2/sip") in requests
    assert [r for r in requests if not r[1].startswith("/v2/sip")] == []
    assert venue_thread.call(lambda e: e.submits) == []
