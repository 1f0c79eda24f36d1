"""Bad-row policy and input errors of load_replay."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from livegate.domain.errors import DataError
from livegate.domain.market import Quote
from livegate.marketdata import load_replay
from livegate.marketdata.sources import RAW_LINE_MAX_CHARS

GOOD_ROWS = 50


def _real_lines(core_data: Path, kind: str, rows: int = GOOD_ROWS) -> list[str]:
    path = core_data / "crypto" / "normalized" / f"binance_usdm_btcusdt_20240808_{kind}.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as source:
        return [next(source) for _ in range(rows + 1)]  # header + rows


@pytest.fixture
def quotes_with_bad_rows(core_data: Path, tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """Write header + 50 real rows with bad rows injected; return the path and {line: reason fragment}."""
    lines = _real_lines(core_data, "quotes")
    stamp = "1723161255100000000,1723161256400,BTCUSDT"
    injected = {
        "nan": (f"{stamp},NaN,1.0,61800.30,1.0,1\n", "bid_price is not finite (NaN)"),
        "zero": (f"{stamp},61800.20,0,61800.30,1.0,2\n", "bid_size is not positive (0)"),
        "negative": (f"{stamp},61800.20,1.0,-61800.30,1.0,3\n", "ask_price is not positive (-61800.30)"),
        "crossed": (f"{stamp},61800.40,1.0,61800.30,1.0,4\n", "crossed (bid 61800.40 > ask 61800.30)"),
        "short": (f"{stamp},61800.20,1.0\n", "expected 8 columns, got 5"),
        "long": (f"{stamp},61800.20,1.0,61800.30,1.0,5,extra\n", "expected 8 columns, got 9"),
        "number": (f"{stamp},61800.2x,1.0,61800.30,1.0,6\n", "unparseable number"),
        "ts": ("soon,1723161256400,BTCUSDT,61800.20,1.0,61800.30,1.0,7\n", "unparseable number"),
        "infinite": (f"{stamp},61800.20,1.0,Infinity,1.0,8\n", "ask_price is not finite (Infinity)"),
    }
    for offset, (text, _) in enumerate(injected.values()):
        lines.insert(5 + offset * 5, text)  # spread them through the file
    reasons = dict(injected.values())
    expected = {line_no: reasons[text] for line_no, text in enumerate(lines, start=1) if text in reasons}
    path = tmp_path / "quotes.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path, expected


def test_load_replay_when_quotes_have_bad_rows_then_each_is_recorded_and_others_emitted(
    quotes_with_bad_rows: tuple[Path, dict[int, str]],
) -> None:
    path, expected = quotes_with_bad_rows
    data = load_replay(quotes=path)
    assert data.quotes == GOOD_ROWS
    assert len(data.bad_rows) == len(expected) == 9
    for row in data.bad_rows:
        assert row.file == str(path)
        assert expected[row.line] in row.reason
        assert row.raw  # the offending text is kept
    assert all(isinstance(e, Quote) and e.bid_price < e.ask_price for e in data.events)


def test_load_replay_when_quote_is_locked_then_it_is_emitted(core_data: Path, tmp_path: Path) -> None:
    lines = _real_lines(core_data, "quotes", rows=3)
    lines.append("1723161255200000000,1723161256500,BTCUSDT,61800.30,1.0,61800.30,1.0,9\n")
    path = tmp_path / "quotes.csv"
    path.write_text("".join(lines), encoding="utf-8")
    data = load_replay(quotes=path)
    assert data.bad_rows == []
    assert data.quotes == 4
    assert data.events[-1].ts_event_ms == 1_723_161_256_500


def test_load_replay_when_trades_have_bad_rows_then_each_is_recorded(core_data: Path, tmp_path: Path) -> None:
    lines = _real_lines(core_data, "trades")
    stamp = "1723161255100000000,1723161256400,1723161256400,BTCUSDT,1"
    bad = [
        f"{stamp},NaN,0.1,buy\n",
        f"{stamp},61800.30,0,sell\n",
        f"{stamp},-1,0.1,sell\n",
        f"{stamp},61800.30,-0.1,buy\n",
        f"{stamp},61800.30,0.1,hold\n",
        f"{stamp},61800.30\n",
        f"{stamp},61800.30,0.1x,buy\n",
    ]
    path = tmp_path / "trades.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as out:
        out.writelines(lines[:10] + bad + lines[10:])
    data = load_replay(trades=path)
    assert data.trades == GOOD_ROWS
    reasons = [row.reason for row in data.bad_rows]
    assert [row.line for row in data.bad_rows] == list(range(11, 18))
    assert reasons == [
        "price is not finite (NaN)",
        "size is not positive (0)",
        "price is not positive (-1)",
        "size is not positive (-0.1)",
        "unknown aggressor_side 'hold'",
        "expected 8 columns, got 6",
        reasons[6],
    ]
    assert reasons[6].startswith("unparseable number")


def test_load_replay_when_raw_line_is_long_then_bad_row_keeps_200_chars(tmp_path: Path) -> None:
    path = tmp_path / "quotes.csv"
    header = "ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size,update_id\n"
    path.write_text(header + "1," * 500 + "\n", encoding="utf-8")
    data = load_replay(quotes=path)
    assert len(data.bad_rows) == 1
    assert len(data.bad_rows[0].raw) == RAW_LINE_MAX_CHARS == 200


def test_load_replay_when_header_lacks_columns_then_data_error_names_file_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "quotes.csv"
    path.write_text("ts_recv_ns,symbol,bid_price,ask_price\n1,BTCUSDT,1,2\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_replay(quotes=path)
    message = str(caught.value)
    assert str(path) in message
    for column in ("ts_event_ms", "bid_size", "ask_size"):
        assert column in message


def test_load_replay_when_csv_is_empty_then_data_error(tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty file"):
        load_replay(trades=path)


def test_load_replay_when_file_is_missing_then_data_error_contains_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "quotes.csv.gz"
    with pytest.raises(DataError) as caught:
        load_replay(quotes=path)
    assert str(path) in str(caught.value)


def test_load_replay_when_gzip_is_truncated_then_data_error_contains_path(core_data: Path, tmp_path: Path) -> None:
    source = core_data / "crypto" / "normalized" / "binance_usdm_btcusdt_20240808_quotes.csv.gz"
    path = tmp_path / "truncated_quotes.csv.gz"
    path.write_bytes(source.read_bytes()[:300_000])
    with pytest.raises(DataError) as caught:
        load_replay(quotes=path)
    assert str(path) in str(caught.value)


def test_load_replay_when_gzip_is_corrupt_midstream_then_data_error_contains_path(
    core_data: Path, tmp_path: Path
) -> None:
    blob = bytearray((core_data / "crypto" / "normalized" / "binance_usdm_btcusdt_20240808_trades.csv.gz").read_bytes())
    blob[100_000:100_400] = bytes(400)  # zero out a stretch of the deflate stream
    path = tmp_path / "corrupt_trades.csv.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError) as caught:
        load_replay(trades=path)
    assert str(path) in str(caught.value)


def test_load_replay_when_gz_file_is_not_gzip_then_data_error(tmp_path: Path) -> None:
    path = tmp_path / "capture.jsonl.gz"
    path.write_text("1 {}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"capture\.jsonl\.gz"):
        load_replay(capture=path)


def test_load_replay_when_suffix_is_unknown_then_data_error(tmp_path: Path) -> None:
    path = tmp_path / "quotes.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(DataError, match="unsupported file type"):
        load_replay(quotes=path)


def test_load_replay_when_no_input_then_data_error() -> None:
    with pytest.raises(DataError, match="no market data input"):
        load_replay()


def test_load_replay_when_every_row_is_bad_then_empty_replay_with_zero_span(tmp_path: Path) -> None:
    path = tmp_path / "quotes.csv"
    header = "ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size,update_id\n"
    path.write_text(header + "1,2,BTCUSDT,0,1,1,1,1\n", encoding="utf-8")
    data = load_replay(quotes=path)
    assert data.events == []
    assert (data.quotes, data.trades, len(data.bad_rows)) == (0, 0, 1)
    assert (data.first_ts_ms, data.last_ts_ms, data.data_span_secs, data.symbols) == (0, 0, 0.0, [])
