"""The fast path of the quotes CSV reader: a chunk of plain rows parsed column by column.

:func:`~livegate.marketdata.normalized.quote_blocks` reads a file in chunks of whole lines
(:mod:`~livegate.marketdata.line_chunks`); a chunk whose every line is a plain, valid row
(the common case: every row of a recorded file) is split in one pass and converted column
by column in C loops instead of row by row: :func:`plain_quote_bytes` for an ASCII chunk
(as read: bytes), :func:`plain_quotes` for one holding other UTF-8 text (as lines). Any
other chunk is left to the row-by-row reader, which names the problem of each bad row at
its line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from itertools import repeat
from operator import itemgetter, lt
from typing import NamedTuple

from livegate.domain.market import Quote, Trade
from livegate.marketdata.line_chunks import BinaryReader, Part, ints_of, line_chunks, text_lines
from livegate.marketdata.sources import NotPositive, PositiveDecimals

__all__ = [
    "PositiveDecimalBytes",
    "QuoteColumns",
    "SymbolBytes",
    "plain_part",
    "plain_quote_bytes",
    "plain_quotes",
    "quote_parts",
]

new_tuple = tuple.__new__


class QuoteColumns(NamedTuple):
    """The header's column count and the index of each quote column (and the venue to stamp)."""

    width: int
    recv: int
    event: int
    symbol: int
    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int
    venue: str


_NOT_ROW_MARK = bytes(byte for byte in range(128) if byte not in b",\n")
"""Every ASCII byte but comma and newline: what ``bytes.translate`` drops to leave a chunk's row marks."""


def _rows_aligned(data: str, lines: list[str], width: int) -> bool:
    """Return whether each of ``lines`` (joined in ``data``, newline-ended) holds ``width - 1`` commas.

    An ASCII chunk is checked in two C passes (its commas and newlines, nothing else kept,
    must be the header's row after row); any other chunk line by line.
    """
    if data.isascii():
        return data.encode("ascii").translate(None, _NOT_ROW_MARK) == (b"," * (width - 1) + b"\n") * len(lines)
    return set(map(str.count, lines, repeat(",", len(lines)))) == {width - 1}


def plain_quotes(
    lines: list[str], columns: QuoteColumns, pos: PositiveDecimals, symbol_of: dict[str, str]
) -> list[Quote | Trade] | None:
    """Return the quotes of ``lines`` when every line is a plain row the fast path takes; else None.

    A plain row: no quote character or carriage return, the header's column count (its
    commas counted), every price and size finite and positive (:class:`PositiveDecimals`),
    integer times, exchange time and symbol present, bid below ask. Such rows give exactly
    the quotes the row-by-row path builds (the same fields, the same conversions), split
    in one pass over the chunk and converted column by column in C loops instead of once
    per row; a chunk holding any other row returns None and is read row by row, which
    names the problem of each bad row at its line.
    """
    data = "".join(lines)
    if '"' in data or "\r" in data:
        return None
    width, count = columns.width, len(lines)
    if not data.endswith("\n"):
        data += "\n"  # the file's last line
    if not _rows_aligned(data, lines, width):
        return None  # each line holds the header's column count, so the fields below align by row
    fields = data.replace("\n", ",").split(",")  # count * width fields, then the empty text after the last row

    def column(index: int) -> list[str]:
        return fields[index : count * width : width]

    event_texts, symbols = column(columns.event), column(columns.symbol)
    if not (all(event_texts) and all(symbols)):
        return None
    get = pos.__getitem__
    try:
        bids, asks = list(map(get, column(columns.bid_price))), list(map(get, column(columns.ask_price)))
        bid_sizes, ask_sizes = list(map(get, column(columns.bid_size))), list(map(get, column(columns.ask_size)))
        events, recvs = list(map(int, event_texts)), list(map(int, column(columns.recv)))
    except (NotPositive, ValueError):
        return None
    if not all(map(lt, bids, asks)):
        return None
    rows = zip(map(symbol_of.__getitem__, symbols), bids, bid_sizes, asks, ask_sizes, events, recvs,
               repeat(columns.venue, count), strict=True)  # fmt: skip
    return list(map(new_tuple, repeat(Quote, count), rows))  # Quote(...) without its Python-level __new__


class PositiveDecimalBytes(dict[bytes, Decimal]):
    """:class:`PositiveDecimals` keyed by the ASCII bytes of the text: ``cache[b"61800.20"]``.

    A miss decodes the key and asks ``text`` (the reader's :class:`PositiveDecimals`), so
    both give the same ``Decimal`` for the same text and raise :class:`NotPositive` alike.
    """

    __slots__ = ("_text",)

    def __init__(self, text: PositiveDecimals) -> None:
        super().__init__()
        self._text = text

    def __missing__(self, key: bytes) -> Decimal:
        value = self[key] = self._text[key.decode("ascii")]
        return value


class SymbolBytes(dict[bytes, str]):
    """Map the ASCII bytes of a symbol to the reader's one shared ``str`` of it (``symbol_of``)."""

    __slots__ = ("_text",)

    def __init__(self, text: dict[str, str]) -> None:
        super().__init__()
        self._text = text

    def __missing__(self, key: bytes) -> str:
        value = self[key] = self._text[key.decode("ascii")]
        return value


_NOT_MARK = bytes(byte for byte in range(256) if byte not in b",\n")
"""Every byte but comma and newline: what ``bytes.translate`` drops to leave a chunk's row marks."""


def _lookup(table: dict[bytes, Decimal], keys: list[bytes]) -> tuple[Decimal, ...] | list[Decimal]:
    """Return ``table[key]`` for each of ``keys``, in order (one ``itemgetter`` call: a C loop)."""
    return itemgetter(*keys)(table) if len(keys) > 1 else [table[key] for key in keys]


def plain_quote_bytes(
    data: bytes, columns: QuoteColumns, pos: PositiveDecimalBytes, symbol_of: SymbolBytes
) -> list[Quote | Trade] | None:
    r"""Return the quotes of the lines of ``data`` when every line is a plain row; else None.

    ``data`` is whole lines as read (each ends with ``\n`` but maybe the file's last). A
    plain row is what :func:`plain_quotes` takes, here for an ASCII chunk only: no quote
    character or carriage return, the header's column count, every price and size finite
    and positive (the same :class:`PositiveDecimals`, keyed by bytes), integer times (the
    values of :func:`int`, see :func:`~livegate.marketdata.line_chunks.ints_of`), exchange
    time and symbol present, bid below ask. Such a chunk gives exactly the quotes the
    row-by-row path builds; any other returns None (and is read as text lines).
    """
    if b'"' in data or b"\r" in data or not data.isascii():
        return None
    if not data.endswith(b"\n"):
        data += b"\n"  # the file's last line
    marks = data.translate(None, _NOT_MARK)  # the chunk's commas and newlines, nothing else
    width, count = columns.width, marks.count(b"\n")
    if marks != (b"," * (width - 1) + b"\n") * count:
        return None  # each line holds the header's column count, so the fields below align by row
    fields = data.replace(b"\n", b",").split(b",")  # count * width fields, then the empty bytes after the last row
    end = count * width

    def column(index: int) -> list[bytes]:
        return fields[index:end:width]

    event_texts, symbols = column(columns.event), column(columns.symbol)
    if not (all(event_texts) and all(symbols)):
        return None
    try:
        bids, bid_sizes = _lookup(pos, column(columns.bid_price)), _lookup(pos, column(columns.bid_size))
        asks, ask_sizes = _lookup(pos, column(columns.ask_price)), _lookup(pos, column(columns.ask_size))
        events, recvs = ints_of(event_texts), ints_of(column(columns.recv))
    except (NotPositive, ValueError):
        return None
    if not all(map(lt, bids, asks)):
        return None
    first = symbols[0]
    names = repeat(symbol_of[first], count) if symbols.count(first) == count else map(symbol_of.__getitem__, symbols)
    rows = zip(names, bids, bid_sizes, asks, ask_sizes, events, recvs, repeat(columns.venue, count), strict=True)
    return list(map(new_tuple, repeat(Quote, count), rows))  # Quote(...) without its Python-level __new__


def quote_parts(
    raw: BinaryReader,
    rest: bytes,
    read_bytes: int,
    columns: QuoteColumns,
    pos: PositiveDecimals,
    symbol_of: dict[str, str],
    lags: Counter[int] | None,
) -> Iterator[Part]:
    """Yield the lines of a quotes file after its header, read ``read_bytes`` at a time, as parts.

    A piece of plain ASCII rows comes parsed (:func:`plain_quote_bytes`; not while a lag
    histogram is kept: ``lags``), any other as its text lines: the caller parses its plain
    rows when the group of lines they fall into is plain after all (:func:`plain_part`),
    else row by row.
    """
    pos_bytes, symbol_bytes = PositiveDecimalBytes(pos), SymbolBytes(symbol_of)
    for data in line_chunks(raw, rest, read_bytes):
        quotes = plain_quote_bytes(data, columns, pos_bytes, symbol_bytes) if lags is None else None
        yield Part(quotes, []) if quotes is not None else Part([], text_lines(data))


def plain_part(part: Part, columns: QuoteColumns, pos: PositiveDecimals, symbol_of: dict[str, str]) -> Part:
    """Return ``part`` parsed when its lines are all plain rows (:func:`plain_quotes`), else ``part``."""
    quotes = plain_quotes(part.lines, columns, pos, symbol_of)
    return part if quotes is None else Part(quotes, [])
