"""A live session (armed, against the exchange emulator) records the market data it traded on."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from livegate.marketdata.replay import load_replay
from tests.venue_emulator import Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import TAKER, TAKER_PARAMS, arm, explain, preflight, run, summary


def test_live_session_when_it_ends_then_its_market_data_is_recorded_and_replayable(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue = emulator_thread_factory(Kind.USDM, pace_ms=4, max_events=3000)
    armed = arm(tmp_path, venue.emulator, venue="ccxt:binanceusdm", symbol="BTC/USDT:USDT", strategy=TAKER,
                params=TAKER_PARAMS)  # fmt: skip
    assert preflight(armed, "live").returncode == 0
    out = tmp_path / "run"

    result = run(armed, "live", out, max_events=300)

    assert result.returncode == 0, explain(result, out)
    facts = summary(out)
    assert facts["orders_submitted"] > 0  # it traded on what it recorded
    manifest = json.loads((out / "market" / "recording.json").read_text(encoding="utf-8"))
    data = load_replay(out / "market" / "quotes.csv.gz", out / "market" / "trades.csv.gz")
    assert data.bad_rows == []
    assert data.quotes + data.trades == manifest["quotes"] + manifest["trades"] == 300
    assert (data.quotes, data.trades) == (facts["quotes_processed"], facts["trades_processed"])
    assert Decimal(manifest["instruments"]["BTC/USDT:USDT"]["lot_size"]) == Decimal("0.001")
    assert facts["market_recorded"]["symbols"] == ["BTC/USDT:USDT"]
