"""The market-data recorder writes what ``livegate run --quotes/--trades`` reads, flushed as complete gzip members."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

from livegate.domain.enums import Side
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.marketdata.recorder import QUOTES_FILE, RECORDING_FILE, TRADES_FILE, MarketRecorder
from livegate.marketdata.replay import load_replay

D = Decimal


def _quote(ts: int, recv_ns: int, bid: str = "61800.10") -> Quote:
    return Quote("BTCUSDT", D(bid), D("1.5"), D("61800.20"), D("0.00001"), ts, recv_ns, "v")


def _trade(ts: int, recv_ns: int, trade_id: str = "7") -> Trade:
    return Trade("BTCUSDT", D("61800.20"), D("0.00300"), Side.SELL, trade_id, ts, recv_ns, "v")


def test_recorder_when_events_are_recorded_then_the_replay_reads_them_back_exactly(tmp_path: Path) -> None:
    recorder = MarketRecorder(tmp_path / "market")
    events: list[Quote | Trade] = [_quote(1000, 5), _trade(1000, 5), _quote(1001, 9, bid="61800.00"), _trade(1002, 10)]
    for event in events:
        recorder.record(event)
    stats = recorder.close()

    data = load_replay(tmp_path / "market" / QUOTES_FILE, tmp_path / "market" / TRADES_FILE, venue="v")
    assert data.bad_rows == []
    # equal receive stamps become strictly increasing in processing order (quote, then trade)
    assert [e.ts_recv_ns for e in data.events] == [5, 6, 9, 10]
    assert [(type(e), e.ts_event_ms) for e in data.events] == [(type(e), e.ts_event_ms) for e in events]
    first = data.events[0]
    assert isinstance(first, Quote) and (first.bid_price, first.ask_size) == (D("61800.10"), D("0.00001"))
    assert str(first.ask_size) == "0.00001"  # decimal text kept as written
    second = data.events[1]
    assert isinstance(second, Trade) and (second.aggressor_side, second.size) == (Side.SELL, D("0.00300"))
    assert (stats.quotes, stats.trades, stats.out_of_order_events) == (2, 2, 0)


def test_recorder_when_flushed_but_never_closed_then_the_files_are_valid_gzip_up_to_the_flush(tmp_path: Path) -> None:
    recorder = MarketRecorder(tmp_path / "market")
    recorder.record(_quote(1000, 1))
    recorder.flush()
    recorder.record(_quote(1001, 2))  # buffered only: lost if the process dies now

    with gzip.open(tmp_path / "market" / QUOTES_FILE, "rt", encoding="utf-8") as text:
        lines = text.read().splitlines()
    assert lines == [
        "ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size",
        "1,1000,BTCUSDT,61800.10,1.5,61800.20,0.00001",
    ]
    assert not (tmp_path / "market" / RECORDING_FILE).exists()
    recorder.close()


def test_recorder_when_reopened_on_a_resumed_run_then_rows_append_without_a_second_header(tmp_path: Path) -> None:
    first = MarketRecorder(tmp_path / "market")
    first.record(_trade(1000, 1, "1"))
    first.close()
    again = MarketRecorder(tmp_path / "market")
    again.record(_trade(1001, 2, "2"))
    again.close()

    data = load_replay(trades=tmp_path / "market" / TRADES_FILE)
    assert data.bad_rows == []
    assert [e.trade_id for e in data.events if isinstance(e, Trade)] == ["1", "2"]


def test_recorder_when_an_event_time_goes_backwards_then_it_is_counted_out_of_order(tmp_path: Path) -> None:
    recorder = MarketRecorder(
        tmp_path / "market",
        instruments={"BTCUSDT": Instrument("BTCUSDT", "v", D("0.10"), D("0.001"), D("5"), "USDT", "BTC", D("0.001"))},
    )
    for event in (_quote(1005, 1), _trade(1003, 2), _quote(1006, 3)):
        recorder.record(event)
    recorder.close()

    manifest = json.loads((tmp_path / "market" / RECORDING_FILE).read_text(encoding="utf-8"))
    assert manifest["out_of_order_events"] == 1
    assert (manifest["first_ts_ms"], manifest["last_ts_ms"]) == (1003, 1006)
    assert manifest["instruments"]["BTCUSDT"]["tick_size"] == "0.10"
    assert manifest["quotes"] == 2 and manifest["trades"] == 1
