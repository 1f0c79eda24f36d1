"""load_replay on raw websocket captures (crypto/binance_ws_raw of tests/data and ../shared/data)."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

from livegate.domain.enums import Side
from livegate.domain.market import Quote, Trade
from livegate.marketdata import load_replay


def _raw(data_dir: Path, name: str) -> Path:
    return data_dir / "crypto" / "binance_ws_raw" / name


def test_load_replay_when_raw_usdm_capture_then_same_events_as_normalized(shared_data: Path) -> None:
    folder = shared_data / "crypto" / "normalized"
    normalized = load_replay(
        folder / "binance_usdm_btcusdt_20240808_quotes.csv.gz",
        folder / "binance_usdm_btcusdt_20240808_trades.csv.gz",
    )
    raw = load_replay(capture=_raw(shared_data, "usdm_btcusdt_20240808.jsonl.gz"))
    assert (raw.quotes, raw.trades) == (66_089, 21_313)
    first_raw = next(e for e in raw.events if isinstance(e, Quote))
    first_normalized = next(e for e in normalized.events if isinstance(e, Quote))
    assert first_raw == first_normalized
    assert raw.events == normalized.events
    assert raw.bad_rows == []
    assert raw.skipped_messages == 6_551 + 1  # diff depth + the REST snapshot


def test_load_replay_when_raw_spot_capture_then_quotes_use_recv_time(shared_data: Path) -> None:
    raw = load_replay(capture=_raw(shared_data, "spot_btcusdt_20240809.jsonl.gz"))
    assert (raw.quotes, raw.trades) == (45_134, 10_147)
    assert raw.event_time_from_recv == 45_134
    assert raw.skipped_messages == 3_044
    keys = [(e.ts_event_ms, e.ts_recv_ns) for e in raw.events]
    assert keys == sorted(keys)


def test_load_replay_when_hyperliquid_capture_then_best_levels_and_trades(core_data: Path) -> None:
    data = load_replay(capture=_raw(core_data, "hyperliquid_btc_20250126.jsonl.gz"), venue="hyperliquid")
    assert (data.quotes, data.trades) == (46, 64)
    assert data.symbols == ["BTC"]
    assert data.bad_rows == []
    first_quote = next(e for e in data.events if isinstance(e, Quote))
    assert first_quote.bid_price == Decimal("105055.0")
    assert first_quote.ask_price == Decimal("105056.0")
    assert first_quote.bid_size == Decimal("3.03622")
    assert first_quote.ts_event_ms == 1_737_918_843_542
    assert first_quote.venue == "hyperliquid"
    sides = {e.aggressor_side for e in data.events if isinstance(e, Trade)}
    assert sides == {Side.BUY, Side.SELL}


def _line(recv_ns: int, message: object) -> str:
    return f"{recv_ns} {json.dumps(message)}\n"


def _book(symbol: str, bid: str, ask: str, event_ms: int | None = 1_000) -> dict[str, object]:
    data: dict[str, object] = {"u": 1, "s": symbol, "b": bid, "B": "1.0", "a": ask, "A": "2.0"}
    if event_ms is not None:
        data["E"] = event_ms
    return {"stream": f"{symbol.lower()}@bookTicker", "data": data}


def _trade(price: str, size: str, maker: object, event_ms: int = 1_000) -> dict[str, object]:
    data = {"E": event_ms, "T": event_ms, "s": "BTCUSDT", "t": 7, "p": price, "q": size, "m": maker}
    return {"stream": "btcusdt@trade", "data": data}


def test_load_replay_when_capture_has_bad_lines_then_each_is_a_bad_row(tmp_path: Path) -> None:
    lines = [
        _line(10, {"lastUpdateId": 5, "E": 1, "T": 1, "bids": [], "asks": []}),  # 1 snapshot: skipped
        _line(11, {"stream": "btcusdt@depth@0ms", "data": {"b": [], "a": []}}),  # 2 depth: skipped
        _line(12, _book("BTCUSDT", "100.0", "100.1")),  # 3 ok
        "13 {not json\n",  # 4
        _line(14, _book("BTCUSDT", "100.2", "100.1")),  # 5 crossed
        _line(15, _book("BTCUSDT", "NaN", "100.1")),  # 6 NaN
        _line(16, _trade("100.0", "0", maker=True)),  # 7 zero size
        _line(17, _trade("100.0", "0.5", maker="yes")),  # 8 m not a bool
        _line(18, {"stream": "btcusdt@bookTicker", "data": {"s": "BTCUSDT"}}),  # 9 missing fields
        "notanumber {}\n",  # 10
        _line(19, _trade("100.0", "0.5", maker=True)),  # 11 ok, aggressor sold
        _line(20, _book("BTCUSDT", "100.1", "100.1")),  # 12 locked: emitted
        _line(21, [1, 2]),  # 13 not an object
    ]
    path = tmp_path / "capture.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(lines)
    data = load_replay(capture=path)
    assert (data.quotes, data.trades) == (2, 1)
    assert data.skipped_messages == 2
    assert [row.line for row in data.bad_rows] == [4, 5, 6, 7, 8, 9, 10, 13]
    reasons = [row.reason for row in data.bad_rows]
    assert "bad line" in reasons[0]
    assert reasons[1].startswith("crossed")
    assert "not finite" in reasons[2]
    assert reasons[3] == "size is not positive (0)"
    assert "not a boolean" in reasons[4]
    assert "malformed" in reasons[5]
    assert "bad line" in reasons[6]
    assert "not an object" in reasons[7]
    assert all(row.file == str(path) for row in data.bad_rows)
    trade = next(e for e in data.events if isinstance(e, Trade))
    assert trade.aggressor_side is Side.SELL


def test_load_replay_when_capture_is_plain_jsonl_then_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "capture.jsonl"
    path.write_text(_line(5_000_000, _book("ETHUSDT", "1.0", "1.1", event_ms=None)), encoding="utf-8")
    data = load_replay(capture=path)
    assert data.quotes == 1
    assert data.events[0].ts_event_ms == 5  # no E: receive ms, nothing to align with
    assert data.event_time_from_recv == 1
