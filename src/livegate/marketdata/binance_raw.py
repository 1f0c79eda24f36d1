"""Read raw websocket captures: Binance combined streams (and Hyperliquid messages).

Layout (``shared/data/README.md`` section 1): one message per line, ``<recv_ns> <json>``,
``recv_ns`` being the recorder's clock in ns since the epoch. Binance messages are the
combined-stream envelope ``{"stream": ..., "data": ...}``:

* ``<sym>@bookTicker``: ``b``/``B`` bid price/size, ``a``/``A`` ask price/size, ``u``
  update id, ``E``/``T`` event/transaction time in ms (futures only; spot has none).
* ``<sym>@trade``: ``t`` id, ``p`` price, ``q`` size, ``T`` trade time and ``E`` event
  time in ms, ``m`` buyer-is-maker (``true`` means the aggressor sold).
* ``<sym>@depth...`` diff depth and a first line without ``stream`` (the REST depth
  snapshot): well formed but not replayed here, so counted as skipped.

Lines with a ``channel`` key are Hyperliquid messages (:mod:`.hyperliquid_raw`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from sys import intern  # one shared str per symbol, not one per message
from typing import Any

from livegate.domain.enums import Side
from livegate.domain.market import Quote, Trade
from livegate.marketdata.checks import quote_rejection, trade_rejection
from livegate.marketdata.hyperliquid_raw import hyperliquid_events
from livegate.marketdata.normalized import BLOCK_EVENTS, Block, shift_event_time
from livegate.marketdata.sources import SourceResult, SourceTally, open_text, require_suffix

CAPTURE_SUFFIXES = (".jsonl", ".jsonl.gz")
_MALFORMED = (KeyError, TypeError, IndexError, ValueError, InvalidOperation, AttributeError)
_DEPTH_PREFIX = '{"stream":"'
_DEPTH_PREFIX_CHARS = 64


def read_capture(path: Path, *, venue: str = "") -> SourceResult:
    """Read a raw capture (``.jsonl`` or ``.jsonl.gz``) into quotes and trades, in file order.

    ``ts_event_ms`` is Binance ``E`` (ms); a spot ``bookTicker`` has no ``E``, so it falls
    back to ``recv_ns // 1_000_000`` and its index is listed in ``time_from_recv``. A trade
    without ``E`` uses ``T``. Prices are in quote currency and sizes in base units, as
    exact ``Decimal`` values of the strings sent.

    Parameters
    ----------
    path:
        The capture file.
    venue:
        Copied into every event's ``venue``.

    Returns
    -------
    SourceResult
        Events in file order; bad rows for undecodable lines, malformed or unusable
        messages; diff-depth messages and REST snapshots counted in ``skipped_messages``.

    Raises
    ------
    DataError
        The file is missing, unreadable, has the wrong suffix, or is a corrupt gzip.
    """
    tally = SourceTally(str(path), keep_all=True, recv_rows=True)
    return tally.result([event for block in capture_blocks(path, tally, venue=venue) for event in block])


def capture_blocks(path: Path, tally: SourceTally, *, venue: str = "", recv_offset_ms: int = 0) -> Iterator[Block]:
    """Yield the quotes and trades of a raw capture in file order, in lists of about ``BLOCK_EVENTS``.

    Messages are read as :func:`read_capture` describes; an event without exchange time
    has its receive-clock time moved by ``recv_offset_ms``; bad lines and skipped
    messages are recorded in ``tally``.

    Raises
    ------
    DataError
        The file is missing, unreadable, has the wrong suffix, or is a corrupt gzip.
    """
    require_suffix(path, CAPTURE_SUFFIXES)
    decode = json.JSONDecoder(parse_float=Decimal).decode  # floats stay exact, if a venue sends any
    lags = tally.lags
    block: Block = []
    emitted = 0
    with open_text(path) as text:
        for line_no, line in enumerate(text, start=1):
            recv_text, _, payload = line.rstrip("\r\n").partition(" ")
            if not payload and not recv_text:
                continue
            # Diff depth is most of the bytes; skip it without decoding when the envelope says so.
            if payload.startswith(_DEPTH_PREFIX) and "@depth" in payload[:_DEPTH_PREFIX_CHARS]:
                tally.skipped += 1
                continue
            try:
                recv_ns = int(recv_text)
                message = decode(payload)
            except ValueError as exc:
                tally.bad(line_no, f"bad line, expected '<recv_ns> <json>' ({exc})", line)
                continue
            if not isinstance(message, dict):
                tally.bad(line_no, "JSON is not an object", line)
                continue
            try:
                parsed = _message_events(message, recv_ns, venue)
            except _MALFORMED as exc:
                tally.bad(line_no, f"malformed message ({type(exc).__name__}: {exc})", line)
                continue
            if parsed is None:
                tally.skipped += 1
                continue
            new_events, problems, time_from_recv = parsed
            for problem in problems:
                tally.bad(line_no, problem, line)
            if time_from_recv:
                tally.from_recv += 1
                if tally.recv_rows is not None:
                    tally.recv_rows.append(emitted + len(block))
                if recv_offset_ms:
                    new_events = [shift_event_time(event, recv_offset_ms) for event in new_events]
            elif lags is not None:
                for event in new_events:
                    if event.ts_recv_ns:
                        lags[event.ts_event_ms - event.ts_recv_ns // 1_000_000] += 1
            block.extend(new_events)
            if len(block) >= BLOCK_EVENTS:
                emitted += len(block)
                yield block
                block = []
    if block:
        yield block


def _message_events(
    message: dict[str, Any], recv_ns: int, venue: str
) -> tuple[list[Quote | Trade], list[str], bool] | None:
    """Return (events, problems, event time from recv) of one message, or None to skip it."""
    stream = message.get("stream")
    if stream is None:
        if "channel" in message:
            parsed = hyperliquid_events(message, recv_ns, venue)
            return None if parsed is None else (parsed[0], parsed[1], False)
        if "lastUpdateId" in message:
            return None
        raise KeyError("stream")
    kind = str(stream).partition("@")[2]
    data = message["data"]
    if kind == "bookTicker":
        return _book_ticker(data, recv_ns, venue)
    if kind == "trade":
        return _trade(data, recv_ns, venue)
    return None


def _book_ticker(data: dict[str, Any], recv_ns: int, venue: str) -> tuple[list[Quote | Trade], list[str], bool]:
    event_ms = data.get("E")
    quote = Quote(
        intern(str(data["s"])),
        Decimal(data["b"]),
        Decimal(data["B"]),
        Decimal(data["a"]),
        Decimal(data["A"]),
        recv_ns // 1_000_000 if event_ms is None else int(event_ms),
        recv_ns,
        venue,
    )
    problem = quote_rejection(quote)
    if problem is not None:
        return [], [problem], False
    return [quote], [], event_ms is None


def _trade(data: dict[str, Any], recv_ns: int, venue: str) -> tuple[list[Quote | Trade], list[str], bool]:
    buyer_is_maker = data["m"]
    if not isinstance(buyer_is_maker, bool):
        return [], [f"trade field m is not a boolean ({buyer_is_maker!r})"], False
    event_ms = data.get("E", data.get("T"))
    price, size = Decimal(data["p"]), Decimal(data["q"])
    problem = trade_rejection(price, size)
    if problem is not None:
        return [], [problem], False
    side = Side.SELL if buyer_is_maker else Side.BUY
    from_recv = event_ms is None
    event = recv_ns // 1_000_000 if event_ms is None else int(event_ms)
    return [Trade(intern(str(data["s"])), price, size, side, str(data["t"]), event, recv_ns, venue)], [], from_recv
