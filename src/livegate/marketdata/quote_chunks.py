"""The fast path of the quotes CSV reader: a chunk of plain rows parsed column by column.

:func:`~livegate.marketdata.normalized.quote_blocks` reads a file in chunks of lines; a
chunk whose every line is a plain, valid row (the common case: every row of a recorded
file) is split in one pass and converted column by column in C loops (``map`` over a
column) instead of row by row. Any other chunk is left to the row-by-row reader, which
names the problem of each bad row at its line.
"""

from __future__ import annotations

from itertools import repeat
from operator import lt
from typing import NamedTuple

from livegate.domain.market import Quote, Trade
from livegate.marketdata.sources import NotPositive, PositiveDecimals

__all__ = ["QuoteColumns", "plain_quotes"]

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
