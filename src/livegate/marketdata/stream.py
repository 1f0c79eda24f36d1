"""Replay recorded files while reading them: the session's market data, in bounded memory.

:func:`~livegate.marketdata.replay.load_replay` reads every event and sorts them; memory
grows with the input (about 300 bytes per quote). :class:`ReplayStream` gives the same
order while it reads, holding a bounded amount whatever the input's length:

1. **Scan** (when built): the symbols of each file (the session resolves their instruments
   before the first event), the number of rows (the progress total) and, when some
   events carry no exchange time (Binance spot ``bookTicker``), the recorder's median lag
   behind the exchange (:func:`~livegate.marketdata.replay.load_replay` describes it),
   kept as a histogram of whole milliseconds, not a list.
2. **Replay** (:meth:`ReplayStream.blocks`): each file is read in lists of events; a
   per-file reorder buffer holds the events of the last ``window_ms`` of exchange time
   and releases the rest sorted by ``(ts_event_ms, ts_recv_ns)`` (stable, so ties keep
   file order); several files are merged with :func:`heapq.merge`, ties in input order
   (quotes files, trades files, captures). This is the order of the full sort whenever
   no event lies more than ``window_ms`` behind one read before it in its file
   (``benchmarks/reorder_window.py`` measured at most 36 ms on the recorded captures; the
   default window is 100 ms). An event read after newer ones were already released
   cannot be put in order any more: it is not replayed, and it is recorded as a bad row
   saying so (and counted in ``ReplayStream.late``).
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from operator import attrgetter, lt
from pathlib import Path

from livegate.domain.errors import DataError
from livegate.domain.market import Quote, Trade
from livegate.marketdata.binance_raw import capture_blocks
from livegate.marketdata.digests import input_identities
from livegate.marketdata.normalized import BLOCK_EVENTS, Block, quote_blocks, trade_blocks
from livegate.marketdata.replay import PathInput, as_paths
from livegate.marketdata.scan import scan_csv
from livegate.marketdata.sources import BadRow, SourceTally

__all__ = ["REORDER_WINDOW_MS", "ReplayStream"]

REORDER_WINDOW_MS = 100
"""Exchange time (ms) each file's reorder buffer holds back: about 3x the worst lateness measured."""

_ORDER_KEY = attrgetter("ts_event_ms", "ts_recv_ns")
_TS = attrgetter("ts_event_ms")
_Reader = Callable[..., Iterator[Block]]


class ReplayStream:
    """The market events of recorded files in replay order, read while consumed.

    Parameters
    ----------
    quotes, trades, capture:
        As for :func:`~livegate.marketdata.replay.load_replay`: normalized CSV(.gz) files
        and raw captures (``.jsonl``/``.jsonl.gz``).
    venue:
        Copied into every event's ``venue``.
    align_recv_clock:
        Shift receive-clock event times onto the exchange clock (median lag, see above).
    window_ms:
        Reorder window per file, ms of exchange time.
    hash_inputs:
        Start hashing the inputs (:meth:`content_digests`) in a thread before the first
        pass reads them: ``hashlib`` releases the GIL, so on a second core the digest
        costs the session no time.

    Attributes
    ----------
    inputs:
        The input paths, in reading order.
    symbols:
        Distinct symbols named by the input rows (from the scan), sorted.
    rows:
        Data rows of the CSV files plus events of the captures (the progress total; bad
        rows included).
    recv_clock_offset_ms:
        Offset added to receive-clock event times (ms); 0 when none or not aligned.
    first_ts_ms, last_ts_ms:
        Exchange time of the first and last event handed out so far (0 before any).

    Raises
    ------
    DataError
        No input; a file is missing, unreadable, of an unsupported type, a corrupt gzip,
        or a CSV header lacks a column (the message names the file).
    """

    def __init__(
        self,
        quotes: PathInput = None,
        trades: PathInput = None,
        capture: PathInput = None,
        *,
        venue: str = "",
        align_recv_clock: bool = True,
        window_ms: int = REORDER_WINDOW_MS,
        hash_inputs: bool = False,
    ) -> None:
        self._sources: list[tuple[Path, _Reader]] = [
            *((path, quote_blocks) for path in as_paths(quotes)),
            *((path, trade_blocks) for path in as_paths(trades)),
            *((path, capture_blocks) for path in as_paths(capture)),
        ]
        if not self._sources:
            raise DataError("no market data input given (quotes, trades or capture)")
        self._venue = venue
        self._window_ms = window_ms
        self.inputs = [str(path) for path, _ in self._sources]
        self._digests: Future[list[str]] | None = None
        if hash_inputs:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="livegate-digest") as pool:
                self._digests = pool.submit(input_identities, list(self.inputs))
                self._scan_all(venue, align_recv_clock)  # the pool's exit waits for the digest, if still running
        else:
            self._scan_all(venue, align_recv_clock)
        self.tallies = [SourceTally(name) for name in self.inputs]
        self.late: list[int] = [0] * len(self._sources)
        self.first_ts_ms = 0
        self.last_ts_ms = 0
        self._started = False

    def content_digests(self) -> list[str]:
        """Return ``sha256:<hex>`` of each input's bytes, in :attr:`inputs` order (issue 9 item 12).

        Raises
        ------
        DataError
            If an input cannot be read to hash it.
        """
        if self._digests is None:
            return input_identities(self.inputs)
        return self._digests.result()

    def _scan_all(self, venue: str, align_recv_clock: bool) -> None:
        symbols: set[str] = set()
        self.rows = 0
        from_recv = False
        self._scanned_lags: dict[int, Counter[int]] = {}  # captures are parsed in the scan: keep their lags
        for i, (path, reader) in enumerate(self._sources):
            found, rows, no_event_time, lags = _scan(path, reader, venue)
            symbols |= found
            self.rows += rows
            from_recv = from_recv or no_event_time
            if lags is not None:
                self._scanned_lags[i] = lags
        self.symbols = sorted(symbols)
        self.recv_clock_offset_ms = self._median_lag() if align_recv_clock and from_recv else 0

    # ------------------------------------------------------------------ results
    @property
    def bad_rows(self) -> list[BadRow]:
        """Return the kept bad rows of every file read so far, in input order."""
        return [row for tally in self.tallies for row in tally.bad_rows]

    @property
    def bad_row_count(self) -> int:
        """Return how many rows were not replayed so far (bad, or later than the reorder window)."""
        return sum(tally.bad_count for tally in self.tallies)

    @property
    def skipped_messages(self) -> int:
        """Return the well-formed capture messages not replayed so far (diff depth, snapshots)."""
        return sum(tally.skipped for tally in self.tallies)

    @property
    def event_time_from_recv(self) -> int:
        """Return how many events read so far took their event time from the receive clock."""
        return sum(tally.from_recv for tally in self.tallies)

    @property
    def data_span_secs(self) -> float:
        """Return the seconds of exchange time between the first and last event handed out."""
        return (self.last_ts_ms - self.first_ts_ms) / 1000

    # ------------------------------------------------------------------ replay
    def blocks(self) -> Iterator[list[Quote | Trade]]:
        """Yield the events in replay order, in non-empty lists; call once per stream.

        Raises
        ------
        DataError
            A file became unreadable while read; or ``blocks`` was called twice.
        """
        if self._started:
            raise DataError("a replay stream is read once; build a new one to read again")
        self._started = True
        ordered = [
            _windowed(reader(path, tally, venue=self._venue, recv_offset_ms=self.recv_clock_offset_ms),
                      self._window_ms, tally, self.late, i)
            for i, ((path, reader), tally) in enumerate(zip(self._sources, self.tallies, strict=True))
        ]  # fmt: skip
        merged = ordered[0] if len(ordered) == 1 else _merge(ordered)
        first = True
        for block in merged:
            if first:
                self.first_ts_ms = block[0].ts_event_ms
                first = False
            self.last_ts_ms = block[-1].ts_event_ms
            yield block

    def _median_lag(self) -> int:
        """Return the median (exchange ms - receive ms) over the events that carry both (0 if none)."""
        lags: Counter[int] = Counter()
        for i, (path, reader) in enumerate(self._sources):
            scanned = self._scanned_lags.get(i)
            if scanned is None:
                tally = SourceTally(str(path), lags=True)
                for _ in reader(path, tally, venue=self._venue):
                    pass
                scanned = tally.lags or Counter()
            lags.update(scanned)
        total = sum(lags.values())
        if not total:
            return 0
        wanted, seen = (total - 1) // 2, 0  # statistics.median_low's element
        for lag in sorted(lags):
            seen += lags[lag]
            if seen > wanted:
                return lag
        raise AssertionError("unreachable: the histogram holds total values")


def _windowed(
    blocks: Iterable[Block], window_ms: int, tally: SourceTally, late: list[int], source: int
) -> Iterator[Block]:
    """Yield one file's events sorted, holding back the last ``window_ms`` of exchange time.

    An event whose key sorts before one already released is not replayed: it is recorded
    in ``tally`` as a bad row (and counted in ``late[source]``).
    """
    pending: Block = []
    last_key: tuple[int, int] | None = None
    for block in blocks:
        times = list(map(_TS, block))
        rising = bool(times) and (not pending or pending[-1].ts_event_ms < times[0])
        rising = rising and all(map(lt, times, islice(times, 1, None)))
        pending += block
        if not rising:  # exchange times strictly rising after the held ones: already in order, no sort
            pending.sort(key=_ORDER_KEY)
        if last_key is not None and _ORDER_KEY(pending[0]) < last_key:
            pending = _drop_late(pending, last_key, window_ms, tally, late, source)
        horizon = pending[-1].ts_event_ms - window_ms
        cut = bisect_left(pending, horizon, key=_TS)  # released: strictly older than the window
        if cut:
            released, pending = pending[:cut], pending[cut:]
            last_key = _ORDER_KEY(released[-1])
            yield released
    if pending:
        yield pending


def _drop_late(
    pending: Block, last_key: tuple[int, int], window_ms: int, tally: SourceTally, late: list[int], source: int
) -> Block:
    """Remove (and record) the events that sort before the last released one."""
    keep: Block = []
    for event in pending:
        if _ORDER_KEY(event) < last_key:
            late[source] += 1
            tally.bad(
                0,
                f"event time {event.ts_event_ms} is more than the reorder window ({window_ms} ms) behind "
                f"an event already replayed ({last_key[0]}); not replayed",
                f"{type(event).__name__} {event.symbol} {event.ts_event_ms}",
            )
        else:
            keep.append(event)
    return keep


def _merge(ordered: list[Iterator[Block]]) -> Iterator[Block]:
    """Merge sorted per-file block streams into blocks of ``BLOCK_EVENTS`` (ties in file order)."""
    events = heapq.merge(*(itertools.chain.from_iterable(blocks) for blocks in ordered), key=_ORDER_KEY)
    while block := list(itertools.islice(events, BLOCK_EVENTS)):
        yield block


def _scan(path: Path, reader: _Reader, venue: str) -> tuple[set[str], int, bool, Counter[int] | None]:
    """Return (symbols, rows, some row lacks exchange time, lag histogram or None) of one input.

    A capture is parsed (its symbols are inside JSON), so its lag histogram comes along; a
    CSV is only split (no histogram).
    """
    if reader is capture_blocks:
        tally = SourceTally(str(path), lags=True)
        symbols: set[str] = set()
        rows = 0
        for block in reader(path, tally, venue=venue):
            symbols.update(event.symbol for event in block)
            rows += len(block)
        return symbols, rows + tally.bad_count, tally.from_recv > 0, tally.lags
    return (*scan_csv(path, trades=reader is trade_blocks), None)
