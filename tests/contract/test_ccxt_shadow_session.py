"""Issue 5 item 8: ``livegate run --mode shadow --venue ccxt:binanceusdm --symbol BTC/USDT:USDT``
runs the strategy on the venue's stream, here a loopback replay of recorded Binance frames."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from livegate.runtime.live_session import LiveOptions
from livegate.runtime.session import RunOptions
from livegate.runtime.start import start
from livegate.venues.ccxt.factory import make_factory
from tests.contract.ccxt_harness import case, fixture
from tests.contract.loopback import LoopbackWs


class ThreadedWs:
    """A :class:`LoopbackWs` on its own event loop thread (``start()`` runs ``asyncio.run``)."""

    def __init__(self, frames: list[Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.ws = LoopbackWs()
        self.ws.script("/", frames, hold=False)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return asyncio.run_coroutine_threadsafe(self.ws.start(), self.loop).result(5)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.ws.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def recorded_frames() -> list[Any]:
    ws = fixture("ws", "binance")
    book = case(ws, "watchBidsAsks", "spot bids asks")["messages"]
    trades = case(ws, "watchTrades", "linear swap trades")["messages"]
    # bookTicker frames carry only the market id; on the USD-M socket BTCUSDT is BTC/USDT:USDT
    return [*book, *trades[1:]]


@pytest.fixture
def ws_url(recorded_frames: list[Any]) -> Iterator[str]:
    with ThreadedWs(recorded_frames) as url:
        yield url


def test_shadow_session_when_venue_is_ccxt_binanceusdm_then_strategy_runs_on_replayed_stream(
    tmp_path: Path, ws_url: str
) -> None:
    factory = make_factory(
        rest_url="http://127.0.0.1:9",  # any REST call would fail loudly: shadow needs none
        ws_url=ws_url,
        markets=fixture("markets", "binance"),
        markets_precision_mode=2,
        read_retry_attempts=1,
    )
    options = RunOptions(mode="shadow", out=tmp_path / "run")
    live = LiveOptions(venue="ccxt:binanceusdm", symbols=("BTC/USDT:USDT",), max_events=4)
    result = start(options, live, {"LIVEGATE_STATE_DIR": str(tmp_path / "state")}, factories={"ccxt": factory})
    summary = result.summary
    assert summary["mode"] == "shadow"
    assert summary["venue"] == "ccxt:binanceusdm"
    assert summary["inputs"] == ["stream:ccxt:binanceusdm"]
    assert summary["quotes_processed"] >= 1 and summary["trades_processed"] >= 2
    assert summary["intents"] > 0
    assert set(summary["orders_by_venue"]) == {"shadow"}, "shadow never sends to the real venue"
    assert (tmp_path / "run" / "ledger.sqlite").exists()
