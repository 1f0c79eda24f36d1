"""The first pass (``scan_csv``) finds the same symbols, rows and missing exchange times whatever the chunking."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from livegate.marketdata.scan import scan_csv

QUOTES_HEADER = "ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size\n"
TRADES_HEADER = "ts_recv_ns,ts_event_ms,ts_trade_ms,symbol,trade_id,price,size,aggressor_side\n"
QUOTE_ROWS = {
    "plain": "1723161600000000000,1723161600000,{s},61800.20,2.5,61800.30,1.0\n",
    "no event time": "1723161600000000000,,{s},61800.20,2.5,61800.30,1.0\n",
    "quoted": '1723161600000000000,1723161600000,"{s}",61800.20,2.5,61800.30,1.0\n',
    "crlf": "1723161600000000000,1723161600000,{s},61800.20,2.5,61800.30,1.0\r\n",
    "short": "1723161600000000000,1723161600000,{s}\n",
    "empty symbol": "1723161600000000000,1723161600000,,61800.20,2.5,61800.30,1.0\n",
    "blank": "\n",
    "long": "1723161600000000000,1723161600000,{s},61800.20,2.5,61800.30,1.0,7\n",
    "non-ASCII": "1723161600000000000,1723161600000,{s}\u20ac,61800.20,2.5,61800.30,1.0\n",
}
TRADE_ROWS = {
    "plain": "1723161600000000000,1723161600000,1723161599999,{s},17,61800.20,0.5,buy\n",
    "trade time only": "1723161600000000000,,1723161599999,{s},17,61800.20,0.5,buy\n",
    "no time": "1723161600000000000,,,{s},17,61800.20,0.5,sell\n",
    "long": "1723161600000000000,1723161600000,1723161599999,{s},17,61800.20,0.5,buy,x\n",
}


def _reference(lines: list[str], trades: bool) -> tuple[set[str], int, bool]:
    """Each line read on its own with the csv module (what the scan promises)."""
    header = next(csv.reader([lines[0]]))
    i_sym, i_event = header.index("symbol"), header.index("ts_event_ms")
    i_trade = header.index("ts_trade_ms") if trades else None
    symbols, missing = set(), False
    for line in lines[1:]:
        fields = next(csv.reader([line.rstrip("\r\n")]), [])
        if len(fields) != len(header):
            continue
        if fields[i_sym]:
            symbols.add(fields[i_sym])
        missing = missing or (not fields[i_event] and (i_trade is None or not fields[i_trade]))
    return symbols, len(lines) - 1, missing


@settings(max_examples=60, deadline=None)
@given(
    trades=st.booleans(),
    kinds=st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["BTCUSDT", "ETHUSDT", "SOLUSDT"])), max_size=60),
    chunk_bytes=st.sampled_from([1, 64, 300, 1 << 20]),
    last_newline=st.booleans(),
)
def test_scan_csv_when_any_rows_and_chunk_size_then_what_reading_line_by_line_finds(
    tmp_path_factory: pytest.TempPathFactory,
    trades: bool,
    kinds: list[tuple[int, str]],
    chunk_bytes: int,
    last_newline: bool,
) -> None:
    rows = TRADE_ROWS if trades else QUOTE_ROWS
    names = sorted(rows)
    lines = [TRADES_HEADER if trades else QUOTES_HEADER]
    lines += [rows[names[k % len(names)]].format(s=symbol) for k, symbol in kinds]
    if not last_newline and len(lines) > 1:
        lines[-1] = lines[-1].rstrip("\r\n")
        if not lines[-1]:
            lines.pop()  # a blank last line without its newline is no line at all
    path = tmp_path_factory.mktemp("scan") / "data.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    assert scan_csv(path, trades=trades, chunk_bytes=chunk_bytes) == _reference(lines, trades)


def test_scan_csv_when_a_row_holds_the_next_rows_first_field_then_neither_row_counts(tmp_path: Path) -> None:
    # split on commas alone the two rows read as two plain rows; line by line each has the wrong width
    plain = QUOTE_ROWS["plain"]
    long_row = plain.format(s="ETHUSDT").rstrip("\n") + ",1723161600000000000\n"
    short_row = plain.format(s="SOLUSDT").split(",", 1)[1]
    lines = [QUOTES_HEADER, plain.format(s="BTCUSDT"), long_row, short_row, plain.format(s="BTCUSDT")]
    path = tmp_path / "data.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    assert scan_csv(path, trades=False) == ({"BTCUSDT"}, 4, False)
    assert scan_csv(path, trades=False) == _reference(lines, trades=False)


#: Rows of one symbol mostly, and the ways a row may differ from the first row of its chunk.
ONE_SYMBOL_ROWS = {
    "same": "1723161600000000000,1723161600000,BTCUSDT,61800.20,2.5,61800.30,1.0\n",
    "other digits": "1723161699999999999,1723161699999,BTCUSDT,61800.2,2.507,61800.3,1\n",
    "symbol with a digit": "1723161600000000000,1723161600000,BTC1USDT,61800.20,2.5,61800.30,1.0\n",
    "symbol with another digit": "1723161600000000000,1723161600000,BTC2USDT,61800.20,2.5,61800.30,1.0\n",
    "symbol with a zero": "1723161600000000000,1723161600000,BTC0USDT,61800.20,2.5,61800.30,1.0\n",
    "digit after symbol": "1723161600000000000,1723161600000,BTCUSDT1,61800.20,2.5,61800.30,1.0\n",
    "digit before symbol": "1723161600000000000,1723161600000,1BTCUSDT,61800.20,2.5,61800.30,1.0\n",
    "shorter symbol": "1723161600000000000,1723161600000,BTCUSD,61800.20,2.5,61800.30,1.0\n",
    "longer recv time": "17231616000000000000,1723161600000,ETHUSDT,61800.20,2.5,61800.30,1.0\n",
    "shorter event time": "1723161600000000000,172316160000,ETHUSDT,61800.20,2.5,61800.30,1.0\n",
    "no event time": "1723161600000000000,,BTCUSDT,61800.20,2.5,61800.30,1.0\n",
    "symbol in the price": "1723161600000000000,1723161600000,ETHUSDT,BTCUSDT,2.5,61800.30,1.0\n",
    "empty symbol": "1723161600000000000,1723161600000,,61800.20,2.5,61800.30,1.0\n",
    "digits only symbol": "1723161600000000000,1723161600000,1000,61800.20,2.5,61800.30,1.0\n",
    "long": "1723161600000000000,1723161600000,BTCUSDT,61800.20,2.5,61800.30,1.0,7\n",
    "short": "1723161600000000000,1723161600000,BTCUSDT,61800.20\n",
    "short, no event time": "1723161600000000000,,ETHUSDT,61800.20\n",
    "crlf": "1723161600000000000,1723161600000,BTCUSDT,61800.20,2.5,61800.30,1.0\r\n",
    "quoted": '1723161600000000000,1723161600000,"ETHUSDT",61800.20,2.5,61800.30,1.0\n',
}


@settings(max_examples=150, deadline=None)
@given(
    first=st.sampled_from(sorted(ONE_SYMBOL_ROWS)),
    kinds=st.lists(st.sampled_from(sorted(ONE_SYMBOL_ROWS)), max_size=4),
    same=st.integers(0, 40),
    chunk_bytes=st.sampled_from([70, 300, 1 << 16]),
    last_newline=st.booleans(),
)
@example(
    first="symbol with a zero", kinds=["symbol with another digit"], same=0, chunk_bytes=1 << 16, last_newline=True
)  # a symbol whose digits are all 0 is written as it is in the shape
@example(first="same", kinds=["symbol in the price"], same=3, chunk_bytes=1 << 16, last_newline=True)
@example(first="same", kinds=["no event time"], same=3, chunk_bytes=1 << 16, last_newline=False)
@example(first="long", kinds=["same"], same=0, chunk_bytes=1 << 16, last_newline=True)  # the first row's width
@example(first="short", kinds=["same"], same=0, chunk_bytes=1 << 16, last_newline=True)
def test_scan_csv_when_chunks_of_one_symbol_but_for_some_rows_then_what_reading_line_by_line_finds(
    tmp_path_factory: pytest.TempPathFactory,
    first: str,
    kinds: list[str],
    same: int,
    chunk_bytes: int,
    last_newline: bool,
) -> None:
    # chunks that hold one symbol skip the split (scan._one_symbol): any row that differs must be seen
    rows = [ONE_SYMBOL_ROWS[first]] + [ONE_SYMBOL_ROWS["same"]] * same
    for position, kind in enumerate(kinds):
        rows.insert(1 + (position * 7919) % len(rows), ONE_SYMBOL_ROWS[kind])  # after the first row
    lines = [QUOTES_HEADER, *rows]
    if not last_newline:
        lines[-1] = lines[-1].rstrip("\n")
    path = tmp_path_factory.mktemp("scan") / "data.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    assert scan_csv(path, trades=False, chunk_bytes=chunk_bytes) == _reference(lines, trades=False)
