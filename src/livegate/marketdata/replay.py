"""Load recorded quotes and trades into one time-ordered replay, and stretch it for benchmarks.

The replay order is the sort key ``(ts_event_ms, ts_recv_ns, source order)``: exchange
time first, then the recorder's arrival time, then the order of the inputs as given
(quotes files, trades files, captures) and of the lines within each file. The sort is
stable, so the same inputs always give the same list (docs/architecture.md §3.9).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from livegate.domain.errors import DataError
from livegate.domain.market import Quote, Trade
from livegate.marketdata.binance_raw import read_capture
from livegate.marketdata.normalized import read_quotes_csv, read_trades_csv, shift_event_time
from livegate.marketdata.sources import BadRow, SourceResult

PathInput = Path | Sequence[Path] | None
"""One file, several files, or none."""

_ORDER_KEY = attrgetter("ts_event_ms", "ts_recv_ns")


@dataclass(frozen=True, slots=True)
class ReplayData:
    """Quotes and trades of one or more recorded files, merged in replay order.

    Attributes
    ----------
    events:
        Valid quotes and trades sorted by ``(ts_event_ms, ts_recv_ns, source order)``.
    quotes, trades:
        How many of ``events`` are quotes and trades.
    bad_rows:
        Rows that were not emitted (malformed, NaN, zero, negative, crossed), in input order.
    skipped_messages:
        Well-formed capture messages not replayed (diff depth, REST depth snapshots).
    inputs:
        The input paths, in the order they were read.
    first_ts_ms, last_ts_ms:
        Exchange time of the first and last event in ms since the epoch; 0 when
        ``events`` is empty (check ``events`` before trusting them).
    data_span_secs:
        ``(last_ts_ms - first_ts_ms) / 1000`` in seconds; 0.0 when empty.
    symbols:
        Distinct symbols of ``events``, sorted.
    event_time_from_recv:
        Events whose venue sent no event time (Binance spot ``bookTicker``), so their
        ``ts_event_ms`` was derived from the receive clock.
    recv_clock_offset_ms:
        Offset added to those receive times (ms): the median of ``ts_event_ms -
        ts_recv_ns // 1_000_000`` over the events that do carry exchange time, so both
        kinds share one clock; 0 when not aligned or when no event carries exchange time.
    """

    events: list[Quote | Trade]
    quotes: int
    trades: int
    bad_rows: list[BadRow]
    skipped_messages: int
    inputs: list[str]
    first_ts_ms: int
    last_ts_ms: int
    data_span_secs: float
    symbols: list[str]
    event_time_from_recv: int = 0
    recv_clock_offset_ms: int = 0


def load_replay(
    quotes: PathInput = None,
    trades: PathInput = None,
    capture: PathInput = None,
    *,
    venue: str = "",
    align_recv_clock: bool = True,
) -> ReplayData:
    """Load normalized CSV files and/or raw captures into one time-ordered replay.

    Prices become exact ``Decimal`` values in quote currency, sizes in base units.
    ``ts_event_ms`` is the exchange event time (Binance ``E``, ms). Where the venue sends
    none (Binance spot quotes) it is ``ts_recv_ns // 1_000_000`` plus, with
    ``align_recv_clock``, the recorder's median lag behind the exchange measured on the
    other events of this load (about +1,270 ms in the 2024-08 captures); without that the
    spot quotes would sort about 1.3 s ahead of the trades they belong with.

    Bad rows (malformed, unparseable, NaN, zero, negative or crossed quotes, trades with
    a non-positive or non-finite price or size) are never emitted; they are listed in
    ``bad_rows`` and loading continues. A locked quote (bid == ask) is emitted.

    Parameters
    ----------
    quotes:
        Normalized quotes file(s), ``.csv`` or ``.csv.gz``.
    trades:
        Normalized trades file(s), ``.csv`` or ``.csv.gz``.
    capture:
        Raw websocket capture file(s), ``.jsonl`` or ``.jsonl.gz`` (Binance combined
        streams; Hyperliquid ``l2Book``/``trades``).
    venue:
        Copied into every event's ``venue``.
    align_recv_clock:
        Shift receive-clock event times onto the exchange clock (see above).

    Returns
    -------
    ReplayData
        The merged events and load statistics.

    Raises
    ------
    DataError
        No input was given; a file is missing, unreadable, has an unsupported suffix or
        is a corrupt gzip; or a CSV header lacks required columns. The message names
        the file.
    """
    results: list[SourceResult] = []
    results += [read_quotes_csv(path, venue=venue) for path in as_paths(quotes)]
    results += [read_trades_csv(path, venue=venue) for path in as_paths(trades)]
    results += [read_capture(path, venue=venue) for path in as_paths(capture)]
    if not results:
        raise DataError("no market data input given (quotes, trades or capture)")
    from_recv = sum(len(result.time_from_recv) for result in results)
    offset_ms = recv_clock_offset_ms(results) if align_recv_clock and from_recv else 0
    events: list[Quote | Trade] = []
    for result in results:
        events += shift_recv_times(result, offset_ms) if offset_ms else result.events
    events.sort(key=_ORDER_KEY)
    quote_count = sum(1 for event in events if isinstance(event, Quote))
    first_ts_ms = events[0].ts_event_ms if events else 0
    last_ts_ms = events[-1].ts_event_ms if events else 0
    return ReplayData(
        events=events,
        quotes=quote_count,
        trades=len(events) - quote_count,
        bad_rows=[row for result in results for row in result.bad_rows],
        skipped_messages=sum(result.skipped_messages for result in results),
        inputs=[result.path for result in results],
        first_ts_ms=first_ts_ms,
        last_ts_ms=last_ts_ms,
        data_span_secs=(last_ts_ms - first_ts_ms) / 1000,
        symbols=sorted({event.symbol for event in events}),
        event_time_from_recv=from_recv,
        recv_clock_offset_ms=offset_ms,
    )


def repeat_shifted(data: ReplayData, target_quotes: int) -> list[Quote | Trade]:
    """Build a long replay from ``data`` by time-shifted repeats, up to ``target_quotes`` quotes.

    Repeat ``k`` (from 0) is the whole event list with ``ts_event_ms`` shifted by
    ``k * (span_ms + 1)`` ms and ``ts_recv_ns`` by the same amount in ns, where
    ``span_ms = last_ts_ms - first_ts_ms``; so exchange time strictly continues from one
    repeat to the next. Trade ids of repeats ``k >= 1`` get the suffix ``":r<k>"`` so
    they stay unique. The list ends with the ``target_quotes``-th quote (later trades of
    that repeat are dropped). Prices and sizes are shared, not copied.

    Parameters
    ----------
    data:
        A loaded replay with at least one quote.
    target_quotes:
        How many quotes the result holds; 0 or less gives an empty list.

    Returns
    -------
    list[Quote | Trade]
        Events in non-decreasing ``ts_event_ms`` order.

    Raises
    ------
    DataError
        ``data`` holds no quote, so no number of repeats reaches the target.
    """
    if target_quotes <= 0:
        return []
    if data.quotes == 0:
        raise DataError(f"cannot repeat a replay without quotes (inputs: {', '.join(data.inputs)})")
    events = data.events
    quote_positions = [i for i, event in enumerate(events) if isinstance(event, Quote)]
    shift_ms = data.last_ts_ms - data.first_ts_ms + 1
    full_repeats, rest = divmod(target_quotes, data.quotes)
    out: list[Quote | Trade] = []
    for k in range(full_repeats + (1 if rest else 0)):
        chunk = events if k < full_repeats else events[: quote_positions[rest - 1] + 1]
        out += chunk if k == 0 else _shifted(chunk, k * shift_ms, f":r{k}")
    return out


def _shifted(events: list[Quote | Trade], shift_ms: int, id_suffix: str) -> list[Quote | Trade]:
    """Return copies of ``events`` moved ``shift_ms`` later (built directly, for speed)."""
    shift_ns = shift_ms * 1_000_000
    return [
        Quote(
            e.symbol,
            e.bid_price,
            e.bid_size,
            e.ask_price,
            e.ask_size,
            e.ts_event_ms + shift_ms,
            e.ts_recv_ns + shift_ns,
            e.venue,
        )
        if isinstance(e, Quote)
        else Trade(
            e.symbol,
            e.price,
            e.size,
            e.aggressor_side,
            e.trade_id + id_suffix,
            e.ts_event_ms + shift_ms,
            e.ts_recv_ns + shift_ns,
            e.venue,
        )
        for e in events
    ]


def as_paths(value: PathInput) -> list[Path]:
    """Return ``value`` as a list of paths (a lone ``str`` or path is one file)."""
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [Path(value)]
    return [Path(path) for path in value]


def recv_clock_offset_ms(results: list[SourceResult]) -> int:
    """Return the median (exchange ms - receive ms) over events that carry exchange time."""
    lags = []
    for result in results:
        derived = set(result.time_from_recv)
        lags += [
            event.ts_event_ms - event.ts_recv_ns // 1_000_000
            for i, event in enumerate(result.events)
            if event.ts_recv_ns and i not in derived
        ]
    import statistics  # loading a whole replay only (a streamed run measures its own lag)

    return int(statistics.median_low(lags)) if lags else 0


def shift_recv_times(result: SourceResult, offset_ms: int) -> list[Quote | Trade]:
    """Return ``result.events`` with the receive-derived event times moved by ``offset_ms``."""
    events = list(result.events)
    for i in result.time_from_recv:
        events[i] = shift_event_time(events[i], offset_ms)
    return events
