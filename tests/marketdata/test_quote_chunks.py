"""The quotes reader's chunk fast path gives exactly what reading row by row gives (quotes, order, bad rows)."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.errors import DataError
from livegate.domain.market import Quote
from livegate.marketdata.normalized import BLOCK_EVENTS, quote_blocks
from livegate.marketdata.quote_chunks import QuoteColumns, plain_quotes
from livegate.marketdata.sources import PositiveDecimals, SourceTally

HEADER = "ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size\n"
T0 = 1_723_161_600_000


def _plain(i: int) -> str:
    bid = Decimal("61800.20") + Decimal(i % 7) / 10
    return f"{(T0 + i) * 1_000_000},{T0 + i},BTCUSDT,{bid},2.5{i % 3},{bid + Decimal('0.10')},1.{i % 9 + 1}\n"


def _quote(i: int) -> Quote:
    bid = Decimal("61800.20") + Decimal(i % 7) / 10
    return Quote("BTCUSDT", bid, Decimal(f"2.5{i % 3}"), bid + Decimal("0.10"), Decimal(f"1.{i % 9 + 1}"), T0 + i,
                 (T0 + i) * 1_000_000, "paper")  # fmt: skip


#: Rows the chunk fast path does not take, and what the reader makes of each (None: a bad row).
SPECIAL: dict[str, tuple[str, Quote | None]] = {
    "crossed": (f"{T0 * 10**6},{T0},BTCUSDT,61800.40,1.0,61800.30,1.0\n", None),
    "zero size": (f"{T0 * 10**6},{T0},BTCUSDT,61800.20,0,61800.30,1.0\n", None),
    "short": (f"{T0 * 10**6},{T0},BTCUSDT,61800.20\n", None),
    "long": (f"{T0 * 10**6},{T0},BTCUSDT,61800.20,1.0,61800.30,1.0,1\n", None),
    "one column short": (f"{T0 * 10**6},{T0},BTCUSDT,61800.20,1.0,61800.30\n", None),
    "non-ASCII symbol": (f"{T0 * 10**6 + 5_000_000},{T0 + 5},BTC\u20acUSDT,61800.20,1.0,61800.30,1.0\n",
                         Quote("BTC\u20acUSDT", Decimal("61800.20"), Decimal("1.0"), Decimal("61800.30"),
                               Decimal("1.0"), T0 + 5, T0 * 10**6 + 5_000_000, "paper")),
    "blank": ("\n", None),
    "spaces": ("   \n", None),
    "not a number": (f"{T0 * 10**6},{T0},BTCUSDT,61800.2x,1.0,61800.30,1.0\n", None),
    "empty symbol": (f"{T0 * 10**6},{T0},,61800.20,1.0,61800.30,1.0\n", None),
    "quoted": (f'{T0 * 10**6},{T0},"BTCUSDT",61800.20,1.0,61800.30,1.0\n',
               Quote("BTCUSDT", Decimal("61800.20"), Decimal("1.0"), Decimal("61800.30"), Decimal("1.0"), T0,
                     T0 * 10**6, "paper")),
    "crlf": (f"{T0 * 10**6},{T0},BTCUSDT,61800.20,1.0,61800.30,1.0\r\n",
             Quote("BTCUSDT", Decimal("61800.20"), Decimal("1.0"), Decimal("61800.30"), Decimal("1.0"), T0,
                   T0 * 10**6, "paper")),
    "locked": (f"{T0 * 10**6},{T0},BTCUSDT,61800.30,1.0,61800.30,1.0\n",
               Quote("BTCUSDT", Decimal("61800.30"), Decimal("1.0"), Decimal("61800.30"), Decimal("1.0"), T0,
                     T0 * 10**6, "paper")),
    "no event time": (f"{T0 * 10**6 + 7_000_000},,BTCUSDT,61800.20,1.0,61800.30,1.0\n",
                      Quote("BTCUSDT", Decimal("61800.20"), Decimal("1.0"), Decimal("61800.30"), Decimal("1.0"),
                            T0 + 7, T0 * 10**6 + 7_000_000, "paper")),
}  # fmt: skip


def _read(path: Path) -> tuple[list[list[Quote]], SourceTally]:
    tally = SourceTally(str(path))
    blocks = [list(block) for block in quote_blocks(path, tally, venue="paper")]
    return blocks, tally  # type: ignore[return-value]


def _file(tmp_path: Path, rows: int, special: dict[int, str], *, last_newline: bool = True) -> tuple[Path, list, set]:
    """Write ``rows`` plain rows with ``special`` rows inserted before the given row indexes."""
    lines, expected, bad_lines = [HEADER], [], set()
    for i in range(rows):
        if i in special:
            text, event = SPECIAL[special[i]]
            lines.append(text)
            if event is None:
                bad_lines.add(len(lines))
            else:
                expected.append(event)
        lines.append(_plain(i))
        expected.append(_quote(i))
    if not last_newline:
        lines[-1] = lines[-1].rstrip("\n")
    path = tmp_path / "quotes.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path, expected, bad_lines


def test_quote_blocks_when_every_row_is_plain_then_every_quote_in_file_order_in_blocks(tmp_path: Path) -> None:
    path, expected, _ = _file(tmp_path, 2 * BLOCK_EVENTS + 5, {}, last_newline=False)
    blocks, tally = _read(path)
    assert [q for block in blocks for q in block] == expected
    assert [len(block) for block in blocks] == [BLOCK_EVENTS, BLOCK_EVENTS, 5]
    assert tally.bad_count == 0


def test_quote_blocks_when_special_rows_sit_in_a_later_chunk_then_each_is_read_as_row_by_row(tmp_path: Path) -> None:
    special = {BLOCK_EVENTS + 3 * k: name for k, name in enumerate(SPECIAL)}
    path, expected, bad_lines = _file(tmp_path, 3 * BLOCK_EVENTS, special)
    blocks, tally = _read(path)
    assert [q for block in blocks for q in block] == expected
    assert {row.line for row in tally.bad_rows} == bad_lines
    assert tally.from_recv == 1


def test_quote_blocks_when_a_short_and_a_long_row_share_a_chunk_then_both_are_bad_rows_and_the_rest_aligned(
    tmp_path: Path,
) -> None:
    # the chunk holds the header's comma count in all: only a row-by-row count sees the two rows
    path, expected, bad_lines = _file(tmp_path, 40, {3: "one column short", 30: "long"})
    blocks, tally = _read(path)
    assert [q for block in blocks for q in block] == expected
    assert {row.line for row in tally.bad_rows} == bad_lines
    assert len(bad_lines) == 2


@pytest.mark.parametrize("symbol", ["BTCUSDT", "BTC\u20acUSDT"])
def test_plain_quotes_when_a_row_holds_the_next_rows_first_field_then_not_taken(symbol: str) -> None:
    # split on commas alone the two rows read as two valid quotes; line by line each has the wrong width
    first, second = _plain(0).replace("BTCUSDT", symbol), _plain(1).replace("BTCUSDT", symbol)
    recv, rest = second.split(",", 1)
    lines = [first.rstrip("\n") + f",{recv}\n", rest]
    columns = QuoteColumns(7, 0, 1, 2, 3, 4, 5, 6, "paper")
    assert plain_quotes(lines, columns, PositiveDecimals(), {symbol: symbol}) is None
    assert plain_quotes([first, second], columns, PositiveDecimals(), {symbol: symbol}) is not None


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(min_value=1, max_value=2 * BLOCK_EVENTS + 10),
    special=st.dictionaries(st.integers(min_value=0, max_value=2 * BLOCK_EVENTS + 10), st.sampled_from(sorted(SPECIAL)),
                            max_size=6),
    last_newline=st.booleans(),
)  # fmt: skip
def test_quote_blocks_when_any_mix_of_rows_then_the_quotes_and_bad_lines_of_a_row_by_row_reading(
    tmp_path_factory: pytest.TempPathFactory, rows: int, special: dict[int, str], last_newline: bool
) -> None:
    path, expected, bad_lines = _file(tmp_path_factory.mktemp("q"), rows, special, last_newline=last_newline)
    blocks, tally = _read(path)
    assert [q for block in blocks for q in block] == expected
    assert {row.line for row in tally.bad_rows} == bad_lines
    assert all(block for block in blocks)


ONE_PIECE = 1 << 30
"""A read size larger than any test file: the whole file in one piece, as 1024-line text chunks were read."""


def _read_in(path: Path, read_bytes: int) -> tuple[list[list[Quote]], SourceTally]:
    tally = SourceTally(str(path))
    blocks = [list(block) for block in quote_blocks(path, tally, venue="paper", read_bytes=read_bytes)]
    return blocks, tally  # type: ignore[return-value]


def _gzipped(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    target.write_bytes(gzip.compress(path.read_bytes()))
    return target


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(min_value=0, max_value=2 * BLOCK_EVENTS + 10),
    special=st.dictionaries(st.integers(min_value=0, max_value=2 * BLOCK_EVENTS + 10), st.sampled_from(sorted(SPECIAL)),
                            max_size=6),
    last_newline=st.booleans(),
    read_bytes=st.sampled_from([1, 7, 70, 71, 300, 4096, 1 << 16]),
    compressed=st.booleans(),
)  # fmt: skip
def test_quote_blocks_when_read_in_pieces_of_any_size_then_the_blocks_and_bad_lines_of_reading_it_whole(
    tmp_path_factory: pytest.TempPathFactory,
    rows: int,
    special: dict[int, str],
    last_newline: bool,
    read_bytes: int,
    compressed: bool,
) -> None:
    # rows cut across pieces, a last line without newline, bad rows at any piece boundary, gzip
    path, expected, bad_lines = _file(tmp_path_factory.mktemp("q"), rows, special, last_newline=last_newline)
    whole, whole_tally = _read_in(path, ONE_PIECE)
    blocks, tally = _read_in(_gzipped(path) if compressed else path, read_bytes)
    assert blocks == whole
    assert [q for block in blocks for q in block] == expected
    assert [(row.line, row.reason, row.raw) for row in tally.bad_rows] == [
        (row.line, row.reason, row.raw) for row in whole_tally.bad_rows
    ]
    assert {row.line for row in tally.bad_rows} == bad_lines
    assert tally.from_recv == whole_tally.from_recv


@pytest.mark.parametrize("shift", [-1, 0, 1, 30])
def test_quote_blocks_when_a_bad_row_starts_near_a_piece_boundary_then_it_is_named_at_its_line(
    tmp_path: Path, shift: int
) -> None:
    lines = [HEADER, *(_plain(i) for i in range(40))]
    lines.insert(21, SPECIAL["crossed"][0])  # line 22
    path = tmp_path / "quotes.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    boundary = len("".join(lines[1:21]).encode()) + shift  # bytes after the header before the bad row, +shift
    blocks, tally = _read_in(path, boundary)
    assert [row.line for row in tally.bad_rows] == [22]
    assert [q for block in blocks for q in block] == [_quote(i) for i in range(40)]


def test_quote_blocks_when_a_row_holds_a_lone_carriage_return_then_lines_are_numbered_as_text_mode_did(
    tmp_path: Path,
) -> None:
    # text-mode reading (newline="") ends a line at a lone "\r": the row is two bad lines, and the rows after
    # it are numbered one further
    lines = [HEADER, *(_plain(i) for i in range(5))]
    lines.insert(3, _plain(99).replace("BTCUSDT", "BTC\rUSDT"))  # line 4, read as lines 4 and 5
    lines.insert(6, SPECIAL["crossed"][0])  # file line 7: line 8 to a text-mode reader
    path = tmp_path / "quotes.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    with path.open(encoding="utf-8", newline="") as text:
        text_mode = list(text)
    blocks, tally = _read_in(path, 16)
    assert [row.line for row in tally.bad_rows] == [4, 5, 8]
    assert [row.raw for row in tally.bad_rows] == [text_mode[3].rstrip("\r\n"), text_mode[4].rstrip("\r\n"),
                                                   text_mode[7].rstrip("\n")]  # fmt: skip
    assert [q for block in blocks for q in block] == [_quote(i) for i in range(5)]


def test_quote_blocks_when_the_header_ends_with_a_lone_carriage_return_then_rows_start_at_line_2(
    tmp_path: Path,
) -> None:
    path = tmp_path / "quotes.csv"
    path.write_text(HEADER.replace("\n", "\r") + _plain(0) + SPECIAL["crossed"][0] + _plain(1), encoding="utf-8",
                    newline="")  # fmt: skip
    blocks, tally = _read_in(path, 8)
    assert [row.line for row in tally.bad_rows] == [3]
    assert [q for block in blocks for q in block] == [_quote(0), _quote(1)]


@pytest.mark.parametrize("compressed", [False, True])
def test_quote_blocks_when_a_row_is_not_utf8_then_data_error_names_the_file(tmp_path: Path, compressed: bool) -> None:
    path = tmp_path / "quotes.csv"
    path.write_bytes((HEADER + "".join(_plain(i) for i in range(50))).encode() + b"1,2,BTC\xffUSDT,1,1,2,1\n")
    if compressed:
        path = _gzipped(path)
    with pytest.raises(DataError, match=r"cannot read \(UnicodeDecodeError") as error:
        _read_in(path, 64)
    assert str(path) in str(error.value)


def test_quote_blocks_when_rows_lack_exchange_time_then_receive_time_moved_by_the_offset_and_positions_recorded(
    tmp_path: Path,
) -> None:
    # a row without exchange time (Binance spot) takes its receive time (ms) moved by recv_offset_ms; its
    # position among the file's events is recorded; a crossed one is still a bad row, a locked one emitted
    lines, expected, recv_positions, bad_lines = [HEADER], [], [], []
    for i in range(3000):
        recv_ns = (T0 + i) * 1_000_000 + 999_999
        bid, ask = ("61800.40", "61800.30") if i % 101 == 0 else ("61800.30", "61800.30") if i % 103 == 0 else (
            "61800.20", "61800.30")  # fmt: skip
        event_text = "" if i % 3 else str(T0 + i)
        lines.append(f"{recv_ns},{event_text},BTCUSDT,{bid},1.5,{ask},2.5\n")
        if bid > ask:
            bad_lines.append(len(lines))
            continue
        if not event_text:
            recv_positions.append(len(expected))
        event_ms = T0 + i if event_text else recv_ns // 1_000_000 + 7
        expected.append(Quote("BTCUSDT", Decimal(bid), Decimal("1.5"), Decimal(ask), Decimal("2.5"), event_ms, recv_ns,
                              "paper"))  # fmt: skip
    path = tmp_path / "quotes.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    tally = SourceTally(str(path), recv_rows=True)
    events = [q for block in quote_blocks(path, tally, venue="paper", recv_offset_ms=7, read_bytes=500) for q in block]
    assert events == expected
    assert tally.recv_rows == recv_positions
    assert tally.from_recv == len(recv_positions)
    assert [row.line for row in tally.bad_rows] == bad_lines
