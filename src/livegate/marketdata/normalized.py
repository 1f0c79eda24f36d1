"""Read the flat quotes and trades CSV files of ``shared/data/crypto/normalized``.

Layout (``shared/data/README.md`` section 2), header row required, columns by name:

* quotes: ``ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size,update_id``
  (``ts_event_ms`` is empty for Binance spot; ``update_id`` is optional here)
* trades: ``ts_recv_ns,ts_event_ms,ts_trade_ms,symbol,trade_id,price,size,aggressor_side``
  (``ts_trade_ms`` is optional here)

Prices are decimal strings in quote currency, sizes in base units; both become exact
``Decimal`` values built from the text as written.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from decimal import InvalidOperation
from pathlib import Path

from livegate.domain.enums import Side
from livegate.domain.errors import DataError
from livegate.domain.market import Quote, Trade
from livegate.marketdata.checks import quote_rejection, trade_rejection
from livegate.marketdata.line_chunks import READ_BYTES, groups_of_lines, split_header
from livegate.marketdata.quote_chunks import QuoteColumns, plain_part, quote_parts
from livegate.marketdata.sources import (
    DecimalCache,
    NotPositive,
    PositiveDecimals,
    SourceResult,
    SourceTally,
    open_bytes,
    open_text,
    require_suffix,
)

CSV_SUFFIXES = (".csv", ".csv.gz")
QUOTE_COLUMNS = ("ts_recv_ns", "ts_event_ms", "symbol", "bid_price", "bid_size", "ask_price", "ask_size")
TRADE_COLUMNS = ("ts_recv_ns", "ts_event_ms", "symbol", "trade_id", "price", "size", "aggressor_side")
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_PARSE_ERRORS = (ValueError, InvalidOperation)

ParsedRow = tuple[Quote | Trade | None, str, bool]
"""(event or None, why the row is bad, event time taken from receive time)."""
RowParser = Callable[[list[str]], ParsedRow]
new_tuple = tuple.__new__


def read_header(reader: Iterator[list[str]], path: Path, required: Sequence[str]) -> tuple[dict[str, int], int]:
    """Read the header row; return (column name -> index, column count).

    Raises
    ------
    DataError
        The file is empty or its header lacks a column of ``required``.
    """
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: empty file, expected a header row") from None
    except csv.Error as exc:
        raise DataError(f"{path}: unreadable header row ({exc})") from exc
    index = {name.strip(): i for i, name in enumerate(header)}
    missing = [name for name in required if name not in index]
    if missing:
        raise DataError(f"{path}: header lacks required columns {', '.join(missing)} (header: {','.join(header)})")
    return index, len(header)


BLOCK_EVENTS = 4096
"""The readers yield events in lists of about this many (one generator step per list, not per event)."""

Block = list[Quote | Trade]
_CHUNK_LINES = 1024
"""Lines the quotes reader takes at a time: a group of plain rows is added to the list at once, any other row by row."""


def read_quotes_csv(path: Path, *, venue: str = "") -> SourceResult:
    """Read a normalized quotes CSV(.gz) into :class:`~livegate.domain.market.Quote` values.

    ``ts_event_ms`` is the exchange event time (Binance ``E``, ms since the epoch); when the
    column is empty (spot) it falls back to ``ts_recv_ns // 1_000_000`` and the row's
    index is listed in ``time_from_recv``. ``ts_recv_ns`` (recorder clock, ns) is kept.

    Parameters
    ----------
    path:
        A ``.csv`` or ``.csv.gz`` file.
    venue:
        Copied into every quote's ``venue``.

    Returns
    -------
    SourceResult
        Valid quotes in file order, and one bad row per malformed or unusable row.

    Raises
    ------
    DataError
        The file is missing, unreadable, a corrupt gzip, or its header lacks a column.
    """
    tally = SourceTally(str(path), keep_all=True, recv_rows=True)
    return tally.result([event for block in quote_blocks(path, tally, venue=venue) for event in block])


def read_trades_csv(path: Path, *, venue: str = "") -> SourceResult:
    """Read a normalized trades CSV(.gz) into :class:`~livegate.domain.market.Trade` values.

    ``ts_event_ms`` is Binance ``E`` (ms); when empty it falls back to ``ts_trade_ms``
    (``T``, also exchange time) and then to ``ts_recv_ns // 1_000_000`` (listed in
    ``time_from_recv``). ``aggressor_side`` must be ``buy`` or ``sell``.

    Parameters
    ----------
    path:
        A ``.csv`` or ``.csv.gz`` file.
    venue:
        Copied into every trade's ``venue``.

    Returns
    -------
    SourceResult
        Valid trades in file order, and one bad row per malformed or unusable row.

    Raises
    ------
    DataError
        The file is missing, unreadable, a corrupt gzip, or its header lacks a column.
    """
    tally = SourceTally(str(path), keep_all=True, recv_rows=True)
    return tally.result([event for block in trade_blocks(path, tally, venue=venue) for event in block])


def quote_blocks(
    path: Path,
    tally: SourceTally,
    *,
    venue: str = "",
    recv_offset_ms: int = 0,
    read_bytes: int = READ_BYTES,
    decimals: PositiveDecimals | None = None,
) -> Iterator[Block]:
    """Yield the valid quotes of a normalized quotes CSV(.gz) in file order, in lists.

    The common row (exchange time present, every price and size finite and positive,
    bid below ask) takes a fast path; any other row goes through the full parser, which
    emits it (a locked book, a receive-clock time moved by ``recv_offset_ms``) or records
    why not in ``tally``. Holds one list at a time, whatever the file's length.

    The file is read ``read_bytes`` at a time (:func:`~livegate.marketdata.line_chunks.line_chunks`)
    and its lines taken in groups of :data:`_CHUNK_LINES` whatever that size: the lists
    yielded, the line numbers and the bad rows do not depend on it.

    ``decimals`` is the (empty) cache the prices and sizes of plain rows come from; a
    reader process passes one that also indexes each new value for its encoder.

    Raises
    ------
    DataError
        The file is missing, unreadable, a corrupt gzip, not UTF-8, or its header lacks a
        column.
    """
    require_suffix(path, CSV_SUFFIXES)
    with open_bytes(path) as raw:
        header, rest = split_header(raw)
        index, width = read_header(csv.reader([header] if header else []), path, QUOTE_COLUMNS)
        i_recv, i_event, i_sym = index["ts_recv_ns"], index["ts_event_ms"], index["symbol"]
        i_bp, i_bs, i_ap, i_as = index["bid_price"], index["bid_size"], index["ask_price"], index["ask_size"]
        dec, pos, symbol_of = DecimalCache(), PositiveDecimals() if decimals is None else decimals, _SymbolCache()
        slow = _quote_parser(index, dec, venue, symbol_of)
        columns = QuoteColumns(width, i_recv, i_event, i_sym, i_bp, i_bs, i_ap, i_as, venue)
        lags = tally.lags
        block: Block = []
        emitted = 0
        first_line = 2
        for group in groups_of_lines(quote_parts(raw, rest, read_bytes, columns, pos, symbol_of, lags), _CHUNK_LINES):
            # a group of plain rows is parsed column by column in C loops (with its piece, or here when
            # the piece's bad row lies in another group); any other group (a bad or unusual row, a lag
            # histogram to keep) is read row by row below
            if lags is None and not all(part.events for part in group):
                group = [part if part.events else plain_part(part, columns, pos, symbol_of) for part in group]
            if all(part.events for part in group):
                for part in group:
                    block += part.events
                    first_line += len(part.events)
                if len(block) >= BLOCK_EVENTS:
                    emitted += len(block)
                    yield block
                    block = []
                continue
            chunk: list[Quote | Trade | str] = [item for part in group for item in (part.events or part.lines)]
            for line_no, line in enumerate(chunk, start=first_line):
                if not isinstance(line, str):  # a plain row parsed with its piece: what the branch below gives it
                    block.append(line)
                    if len(block) >= BLOCK_EVENTS:
                        emitted += len(block)
                        yield block
                        block = []
                    continue
                # a plain row is split on commas (about twice as fast as the csv module); a row
                # with a quote character, or a blank one, is read by the csv module
                fields = line.rstrip("\r\n").split(",") if '"' not in line and line.strip() else _csv_fields(line)
                if fields is None:
                    tally.bad(line_no, "unparseable CSV row", line.rstrip("\r\n"))
                    continue
                if len(fields) == width:
                    try:
                        bid, ask = pos[fields[i_bp]], pos[fields[i_ap]]
                        bid_size, ask_size = pos[fields[i_bs]], pos[fields[i_as]]
                        event_text, symbol = fields[i_event], fields[i_sym]
                        if bid < ask and event_text and symbol:
                            recv_ns, event_ms = int(fields[i_recv]), int(event_text)
                            quote = new_tuple(
                                Quote, (symbol_of[symbol], bid, bid_size, ask, ask_size, event_ms, recv_ns, venue)
                            )  # Quote(...) without the named tuple's Python-level __new__
                            if lags is not None and recv_ns:
                                lags[event_ms - recv_ns // 1_000_000] += 1
                            block.append(quote)
                            if len(block) >= BLOCK_EVENTS:
                                emitted += len(block)
                                yield block
                                block = []
                            continue
                        if bid < ask and symbol:  # no exchange time (Binance spot): as the full parser and _moved
                            recv_ns = int(fields[i_recv])
                            event_ms = recv_ns // 1_000_000 + recv_offset_ms
                            tally.from_recv += 1
                            if tally.recv_rows is not None:
                                tally.recv_rows.append(emitted + len(block))
                            block.append(new_tuple(
                                Quote, (symbol_of[symbol], bid, bid_size, ask, ask_size, event_ms, recv_ns, venue)
                            ))  # fmt: skip
                            if len(block) >= BLOCK_EVENTS:
                                emitted += len(block)
                                yield block
                                block = []
                            continue
                    except (NotPositive, ValueError):
                        pass  # the full parser below names the problem
                    event, problem, time_from_recv = slow(fields)
                else:
                    event, problem, time_from_recv = None, f"expected {width} columns, got {len(fields)}", False
                if event is None:
                    tally.bad(line_no, problem, ",".join(fields))
                    continue
                if time_from_recv:
                    event = _moved(event, recv_offset_ms, tally, emitted + len(block))
                elif lags is not None and event.ts_recv_ns:
                    lags[event.ts_event_ms - event.ts_recv_ns // 1_000_000] += 1
                block.append(event)
                if len(block) >= BLOCK_EVENTS:  # a file of rows without exchange time is held a list at a time too
                    emitted += len(block)
                    yield block
                    block = []
            first_line += len(chunk)
        if block:
            yield block


def _csv_fields(line: str) -> list[str] | None:
    """Split one row with the :mod:`csv` module (quoted fields); None when it cannot."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return None


def trade_blocks(path: Path, tally: SourceTally, *, venue: str = "", recv_offset_ms: int = 0) -> Iterator[Block]:
    """Yield the valid trades of a normalized trades CSV(.gz) in file order, in lists.

    Rows are parsed as :func:`read_trades_csv` describes; a receive-clock event time is
    moved by ``recv_offset_ms``; bad rows are recorded in ``tally``.

    Raises
    ------
    DataError
        The file is missing, unreadable, a corrupt gzip, or its header lacks a column.
    """
    require_suffix(path, CSV_SUFFIXES)
    with open_text(path) as text:
        reader = csv.reader(text)
        index, width = read_header(reader, path, TRADE_COLUMNS)
        parse = _trade_parser(index, DecimalCache(), venue, _SymbolCache())
        lags = tally.lags
        block: Block = []
        emitted = 0
        while True:
            try:
                for fields in reader:
                    if len(fields) != width:
                        event, problem, time_from_recv = None, f"expected {width} columns, got {len(fields)}", False
                    else:
                        event, problem, time_from_recv = parse(fields)
                    if event is None:
                        tally.bad(reader.line_num, problem, ",".join(fields))
                        continue
                    if time_from_recv:
                        event = _moved(event, recv_offset_ms, tally, emitted + len(block))
                    elif lags is not None and event.ts_recv_ns:
                        lags[event.ts_event_ms - event.ts_recv_ns // 1_000_000] += 1
                    block.append(event)
                    if len(block) >= BLOCK_EVENTS:
                        emitted += len(block)
                        yield block
                        block = []
                break
            except csv.Error as exc:
                tally.bad(reader.line_num, f"unparseable CSV row ({exc})", "")
        if block:
            yield block


def _moved(event: Quote | Trade, offset_ms: int, tally: SourceTally, position: int) -> Quote | Trade:
    """Count a receive-clock event in ``tally`` and return it moved ``offset_ms`` onto the exchange clock."""
    tally.from_recv += 1
    if tally.recv_rows is not None:
        tally.recv_rows.append(position)
    return event if not offset_ms else shift_event_time(event, offset_ms)


def shift_event_time(event: Quote | Trade, offset_ms: int) -> Quote | Trade:
    """Return ``event`` with ``ts_event_ms`` moved by ``offset_ms`` (the receive-clock alignment)."""
    return event._replace(ts_event_ms=event.ts_event_ms + offset_ms)


class _SymbolCache(dict[str, str]):
    """One shared ``str`` per symbol text: a million quotes hold one ``"BTCUSDT"``, not a million copies."""

    __slots__ = ()

    def __missing__(self, text: str) -> str:
        self[text] = text
        return text


def _quote_parser(index: dict[str, int], dec: DecimalCache, venue: str, symbol_of: _SymbolCache) -> RowParser:
    i_recv, i_event, i_sym = index["ts_recv_ns"], index["ts_event_ms"], index["symbol"]
    i_bp, i_bs, i_ap, i_as = index["bid_price"], index["bid_size"], index["ask_price"], index["ask_size"]

    def parse(fields: list[str]) -> ParsedRow:
        try:
            recv_ns = int(fields[i_recv])
            event_text = fields[i_event]
            event_ms = int(event_text) if event_text else recv_ns // 1_000_000
            quote = Quote(
                symbol_of[fields[i_sym]],
                dec[fields[i_bp]],
                dec[fields[i_bs]],
                dec[fields[i_ap]],
                dec[fields[i_as]],
                event_ms,
                recv_ns,
                venue,
            )
        except _PARSE_ERRORS as exc:
            return None, f"unparseable number ({exc})", False
        problem = quote_rejection(quote) if quote.symbol else "empty symbol"
        if problem is not None:
            return None, problem, False
        return quote, "", not event_text

    return parse


def _trade_parser(index: dict[str, int], dec: DecimalCache, venue: str, symbol_of: _SymbolCache) -> RowParser:
    i_recv, i_event, i_sym, i_id = index["ts_recv_ns"], index["ts_event_ms"], index["symbol"], index["trade_id"]
    i_px, i_sz, i_side = index["price"], index["size"], index["aggressor_side"]
    i_trade_ms = index.get("ts_trade_ms")

    def parse(fields: list[str]) -> ParsedRow:
        side = _SIDES.get(fields[i_side])
        if side is None:
            return None, f"unknown aggressor_side {fields[i_side]!r}", False
        try:
            recv_ns = int(fields[i_recv])
            event_text = fields[i_event]
            if not event_text and i_trade_ms is not None:
                event_text = fields[i_trade_ms]
            event_ms = int(event_text) if event_text else recv_ns // 1_000_000
            price = dec[fields[i_px]]
            size = dec[fields[i_sz]]
        except _PARSE_ERRORS as exc:
            return None, f"unparseable number ({exc})", False
        symbol, trade_id = symbol_of[fields[i_sym]], fields[i_id]
        problem = trade_rejection(price, size) if symbol and trade_id else "empty symbol or trade_id"
        if problem is not None:
            return None, problem, False
        return Trade(symbol, price, size, side, trade_id, event_ms, recv_ns, venue), "", not event_text

    return parse
