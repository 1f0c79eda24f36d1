"""Record the quotes and trades a venue session saw, in livegate's normalized CSV format.

A live, canary, testnet or shadow session (a venue stream) writes every quote and trade
it hands to the strategy into ``RUN_DIR/market/``:

* ``quotes.csv.gz``: ``ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size``
* ``trades.csv.gz``: ``ts_recv_ns,ts_event_ms,symbol,trade_id,price,size,aggressor_side``
* ``recording.json`` (at close): counts, symbols, time span, out-of-order events and the
  instruments' filters as the venue gave them (the ``[instruments.SYMBOL]`` tables a
  paper replay of these files needs)

exactly what ``livegate run --quotes/--trades`` reads (:mod:`livegate.marketdata.normalized`),
so a recorded session can be replayed in paper and compared (``livegate compare``).

Values are written as the session saw them: prices and sizes as exact decimal text,
``ts_event_ms`` the event time the session used (the venue's, or the receive clock's
when the venue sent none). ``ts_recv_ns`` is the adapter's receive stamp made strictly
increasing in processing order (+1 ns on a tie), so events with equal exchange time
replay in the order the session processed them. The replay orders by exchange time
first: an event whose ``ts_event_ms`` is below an earlier one's (two streams delivered
out of step) replays earlier than the session saw it; ``recording.json`` counts them as
``out_of_order_events``.

Memory is bounded and a crash loses at most one flush interval: rows collect in a small
buffer that is written as one complete gzip member every ``flush_interval_secs`` (and
whenever it exceeds :data:`FLUSH_BYTES`), so the file on disk is a valid multi-member
gzip after every flush, even if the process is killed.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from livegate.domain.clock import monotonic_secs
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote, Trade
from livegate.marketdata.normalized import QUOTE_COLUMNS, TRADE_COLUMNS

__all__ = [
    "FLUSH_BYTES",
    "MARKET_DIR",
    "QUOTES_FILE",
    "RECORDING_FILE",
    "TRADES_FILE",
    "MarketRecorder",
    "RecordingStats",
]

MARKET_DIR = "market"
QUOTES_FILE = "quotes.csv.gz"
TRADES_FILE = "trades.csv.gz"
RECORDING_FILE = "recording.json"
#: Buffered CSV text (bytes) that forces a flush before the interval is up.
FLUSH_BYTES = 256 * 1024
#: gzip level of each member: 6 is zlib's default trade-off of speed and size.
_GZIP_LEVEL = 6


@dataclass(slots=True)
class RecordingStats:
    """What a recorder wrote (``recording.json``).

    Attributes
    ----------
    quotes, trades:
        Rows written.
    symbols:
        Distinct symbols, sorted.
    first_ts_ms, last_ts_ms:
        Smallest and largest ``ts_event_ms`` written (ms since the epoch; 0 when empty).
    out_of_order_events:
        Events whose ``ts_event_ms`` is below the largest one written before them: the
        replay, which orders by exchange time, puts them earlier than the session saw them.
    flushes:
        gzip members written (one per flush that had rows).
    """

    quotes: int = 0
    trades: int = 0
    symbols: set[str] = field(default_factory=set)
    first_ts_ms: int = 0
    last_ts_ms: int = 0
    out_of_order_events: int = 0
    flushes: int = 0

    def to_record(self) -> dict[str, object]:
        """Return a JSON-ready dict (symbols sorted)."""
        return {
            "quotes": self.quotes,
            "trades": self.trades,
            "symbols": sorted(self.symbols),
            "first_ts_ms": self.first_ts_ms,
            "last_ts_ms": self.last_ts_ms,
            "out_of_order_events": self.out_of_order_events,
            "flushes": self.flushes,
        }


class _MemberWriter:
    """A CSV file written as a sequence of complete gzip members (one per flush)."""

    __slots__ = ("_buffer", "_file", "_rows", "path")

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = path
        fresh = not path.exists() or path.stat().st_size == 0
        self._file: BinaryIO = path.open("ab")
        self._buffer = io.StringIO()
        self._rows = csv.writer(self._buffer, lineterminator="\n")
        if fresh:
            self._rows.writerow(header)

    def write(self, row: Sequence[object]) -> int:
        """Buffer one row; return the buffered text size (characters)."""
        self._rows.writerow(row)
        return self._buffer.tell()

    def flush(self) -> bool:
        """Write the buffered rows as one gzip member and hand it to the OS; return True if any."""
        text = self._buffer.getvalue()
        if not text:
            return False
        self._file.write(gzip.compress(text.encode("utf-8"), compresslevel=_GZIP_LEVEL, mtime=0))
        self._file.flush()
        self._buffer.seek(0)
        self._buffer.truncate()
        return True

    def close(self) -> None:
        """Flush, fsync and close."""
        try:
            self.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()


class MarketRecorder:
    """Write quotes and trades to ``directory`` (``RUN_DIR/market``) while a session runs.

    Parameters
    ----------
    directory:
        Created when missing. Existing files are appended to (a resumed run), without a
        second header row.
    flush_interval_secs:
        Buffered rows reach the OS at least this often (s) once :meth:`flush_if_due` or
        :meth:`run_flusher` is driven; also on :meth:`close`.
    instruments:
        The session's instruments; their filters go into ``recording.json``.

    Raises
    ------
    OSError
        If the directory or files cannot be created.
    """

    def __init__(
        self,
        directory: Path,
        *,
        flush_interval_secs: float = 1.0,
        instruments: Mapping[str, Instrument] | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._instruments = dict(instruments or {})
        self.flush_interval_secs = flush_interval_secs
        self.stats = RecordingStats()
        self._quotes = _MemberWriter(directory / QUOTES_FILE, QUOTE_COLUMNS)
        self._trades = _MemberWriter(directory / TRADES_FILE, TRADE_COLUMNS)
        self._last_recv_ns = 0
        self._last_flush_secs = monotonic_secs()
        self.closed = False

    # ------------------------------------------------------------------ writing
    def record(self, event: Quote | Trade) -> None:
        """Buffer one quote or trade; flush when the buffer is large."""
        recv_ns = max(event.ts_recv_ns, self._last_recv_ns + 1)
        self._last_recv_ns = recv_ns
        stats = self.stats
        ts = event.ts_event_ms
        if stats.quotes + stats.trades == 0:
            stats.first_ts_ms = stats.last_ts_ms = ts
        elif ts < stats.last_ts_ms:
            stats.out_of_order_events += 1
        stats.first_ts_ms = min(stats.first_ts_ms, ts)
        stats.last_ts_ms = max(stats.last_ts_ms, ts)
        stats.symbols.add(event.symbol)
        if type(event) is Quote:
            stats.quotes += 1
            size = self._quotes.write(
                (
                    recv_ns,
                    ts,
                    event.symbol,
                    event.bid_price,
                    event.bid_size,
                    event.ask_price,
                    event.ask_size,
                )
            )
        else:
            trade: Trade = event  # type: ignore[assignment]
            stats.trades += 1
            size = self._trades.write(
                (recv_ns, ts, trade.symbol, trade.trade_id, trade.price, trade.size, trade.aggressor_side.value)
            )
        if size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered as complete gzip members and hand them to the OS."""
        for writer in (self._quotes, self._trades):
            if writer.flush():
                self.stats.flushes += 1
        self._last_flush_secs = monotonic_secs()

    def flush_if_due(self) -> None:
        """Flush when ``flush_interval_secs`` passed since the last flush."""
        if monotonic_secs() - self._last_flush_secs >= self.flush_interval_secs:
            self.flush()

    async def run_flusher(self) -> None:
        """Flush every ``flush_interval_secs`` until cancelled (a silent feed still reaches the disk)."""
        while not self.closed:
            await asyncio.sleep(self.flush_interval_secs)
            self.flush_if_due()

    def close(self) -> RecordingStats:
        """Flush, fsync, close both files and write ``recording.json``; harmless twice."""
        if self.closed:
            return self.stats
        self.closed = True
        self.flush()
        try:
            self._quotes.close()
        finally:
            self._trades.close()
        manifest = {
            "format": "livegate normalized CSV (docs/deploy.md, section Record and compare)",
            "quotes_file": QUOTES_FILE,
            "trades_file": TRADES_FILE,
            **self.stats.to_record(),
            "instruments": {symbol: _filters(i) for symbol, i in sorted(self._instruments.items())},
        }
        (self.directory / RECORDING_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return self.stats


def _filters(instrument: Instrument) -> dict[str, str]:
    """Return an instrument's filters as a profile's ``[instruments.SYMBOL]`` table (exact decimal strings)."""
    return {
        "tick_size": str(instrument.tick_size),
        "lot_size": str(instrument.lot_size),
        "min_notional": str(instrument.min_notional),
        "min_quantity": str(instrument.min_quantity),
        "quote_currency": instrument.quote_currency,
        "base_currency": instrument.base_currency,
    }
