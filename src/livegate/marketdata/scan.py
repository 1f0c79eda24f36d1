"""The first pass over a normalized CSV(.gz): its symbols, rows, and whether any row lacks exchange time.

A replay resolves the instruments of every symbol before its first event, so it must know
the symbols before it reads the events (:mod:`livegate.marketdata.stream`). This pass
reads bytes, splits each row on commas (a chunk of plain rows in one pass, or not at all
when the chunk provably holds one symbol) and parses nothing but the header; the event
readers check every row later.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path

from livegate.domain.errors import DataError
from livegate.marketdata.line_chunks import BinaryReader, line_chunks
from livegate.marketdata.normalized import CSV_SUFFIXES, QUOTE_COLUMNS, TRADE_COLUMNS, read_header
from livegate.marketdata.sources import require_suffix

__all__ = ["CHUNK_BYTES", "scan_csv"]

CHUNK_BYTES = 1 << 16
"""Bytes of lines :func:`scan_csv` reads at a time (about 900 rows: fast, and under 1 MB held)."""


def scan_csv(path: Path, *, trades: bool, chunk_bytes: int = CHUNK_BYTES) -> tuple[set[str], int, bool]:
    """Return (symbols, data rows, some row lacks exchange time) of a normalized CSV(.gz).

    Symbols are the non-empty symbol fields of rows with the header's column count (the
    rows the readers can emit). A quotes row lacks exchange time when ``ts_event_ms`` is
    empty; a trades row when ``ts_event_ms`` and ``ts_trade_ms`` both are. A row holding a
    quote character is split by :mod:`csv`. Lines are read about ``chunk_bytes`` bytes at a
    time; a chunk of plain rows (no quote character or carriage return, every row of the
    header's width) needs no split when its rows provably share one symbol and have
    exchange time (:func:`_one_symbol`), is split in one pass otherwise; any other chunk
    is split line by line.

    Raises
    ------
    DataError
        The file is missing, unreadable, of another type, a corrupt gzip, or its header
        lacks a required column (the message names the file).
    """
    require_suffix(path, CSV_SUFFIXES)
    try:
        with gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb") as raw:
            first = raw.readline().decode("utf-8", "replace")
            required = TRADE_COLUMNS if trades else QUOTE_COLUMNS
            index, width = read_header(csv.reader([first] if first else []), path, required)
            i_trade = index.get("ts_trade_ms") if trades else None
            return _split_rows(raw, width, index["symbol"], index["ts_event_ms"], i_trade, chunk_bytes)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc


_NOT_ROW_MARK = bytes(byte for byte in range(256) if byte not in b",\n")
"""Every byte but comma and newline: what ``bytes.translate`` drops to leave a chunk's row marks."""
_DIGITS = b"0123456789"
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
"""A ``bytes.translate`` table writing every digit as ``0`` (a row's shape: its fields' lengths and other bytes)."""


def _split_rows(
    raw: BinaryReader, width: int, i_sym: int, i_event: int, i_trade: int | None, chunk_bytes: int
) -> tuple[set[str], int, bool]:
    symbols: set[bytes] = set()
    rows = 0
    no_event_time = False
    row_marks = b"," * (width - 1) + b"\n"
    for chunk in line_chunks(raw, size=chunk_bytes):
        data = chunk if chunk.endswith(b"\n") else chunk + b"\n"  # the file's last line
        count = data.count(b"\n")
        rows += count
        plain = b'"' not in data and b"\r" not in data
        symbol = _one_symbol(data, count, width, i_sym, i_event) if plain else None
        if symbol is not None:
            symbols.add(symbol)
            continue
        if not plain or data.translate(None, _NOT_ROW_MARK) != row_marks * count:
            no_event_time = (
                _split_lines(BytesIO(chunk).readlines(), width, i_sym, i_event, i_trade, symbols) or no_event_time
            )
            continue
        # every line a plain row of the header's width (its commas and newline, nothing else kept,
        # are the header's): its fields align by row in one split
        fields = data.replace(b"\n", b",").split(b",")
        end = count * width
        symbols.update(fields[i_sym:end:width])
        events = fields[i_event:end:width]
        if not no_event_time and not all(events):
            if i_trade is None:
                no_event_time = True
            else:
                trade_times = fields[i_trade:end:width]
                no_event_time = any(not e and not t for e, t in zip(events, trade_times, strict=True))
    symbols.discard(b"")
    return {s.decode("utf-8", "replace") for s in symbols}, rows, no_event_time


def _one_symbol(data: bytes, count: int, width: int, i_sym: int, i_event: int) -> bytes | None:
    """Return the symbol of the rows of ``data`` when they provably share it and have exchange time; else None.

    ``data``: ``count`` rows without quote character or carriage return, each ending with a
    newline. Shown without splitting a field: the first row has the header's width, its
    symbol holds no digit and its exchange time is present, and every later row has the
    first row's shape up to and including the symbol (the same bytes once every digit is
    written ``0``: the same field lengths, so a non-empty exchange time, then exactly that
    symbol between the same commas). So every row of the header's width (the rows the
    scan counts) has that symbol and exchange time, and a row of another width has that
    symbol too: the chunk adds that symbol and no missing exchange time. One count of
    the pattern in the shape of ``data`` checks it: the pattern starts with the only
    newline it holds, so its occurrences are line starts and do not overlap. Any other
    chunk (several symbols, timestamps of changing lengths, the exchange time after the
    symbol) returns None.
    """
    line_end = data.index(b"\n")
    if i_event > i_sym or data.count(b",", 0, line_end) != width - 1:
        return None
    first = data[:line_end].split(b",", i_sym + 1)
    symbol = first[i_sym]
    if not symbol or not first[i_event] or symbol.translate(None, _DIGITS) != symbol:
        return None
    shape = b"\n" + b",".join(first[:i_sym]).translate(_DIGITS_AS_ZERO) + b"," + symbol + b","
    return symbol if data.translate(_DIGITS_AS_ZERO).count(shape) == count - 1 else None


def _split_lines(
    lines: Iterable[bytes], width: int, i_sym: int, i_event: int, i_trade: int | None, symbols: set[bytes]
) -> bool:
    """Add the symbols of ``lines`` (read one by one) to ``symbols``; return whether a row lacks exchange time."""
    no_event_time = False
    commas = width - 1
    last = max(i_sym, i_event, i_trade or 0) + 1  # split no further than the last column read
    for line in lines:
        if b'"' in line:
            fields = [f.encode() for f in next(csv.reader([line.decode("utf-8", "replace")]), [])]
            if len(fields) != width:
                continue
        elif line.count(b",") != commas:
            continue
        else:
            fields = line.rstrip(b"\r\n").split(b",", last)
        if fields[i_sym]:
            symbols.add(fields[i_sym])
        if not fields[i_event] and (i_trade is None or not fields[i_trade]):
            no_event_time = True
    return no_event_time
