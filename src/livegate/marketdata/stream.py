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
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path

from livegate.domain.errors import DataError
from livegate.domain.market import Quote, Trade
from livegate.marketdata.binance_raw import capture_blocks
from livegate.marketdata.digests import input_identities
from livegate.marketdata.normalized import BLOCK_EVENTS, Block, quote_blocks, trade_blocks
from livegate.marketdata.read_worker import READERS, InputReader
from livegate.marketdata.reorder import ORDER_KEY, windowed
from livegate.marketdata.replay import PathInput, as_paths
from livegate.marketdata.scan import scan_csv
from livegate.marketdata.sources import BadRow, SourceTally

__all__ = ["PROCESS_MIN_BYTES", "REORDER_WINDOW_MS", "ReaderProcess", "ReplayStream"]

REORDER_WINDOW_MS = 100
"""Exchange time (ms) each file's reorder buffer holds back: about 3x the worst lateness measured."""

PROCESS_MIN_BYTES = 4 << 20
"""With ``reader_process="auto"``, inputs of at least 4 MiB (about 58,000 normalized quote
rows) get a reader process: starting one costs about 0.1 s of CPU on the other core,
reading 58,000 rows in the session's process about 0.06 s."""


class ReaderProcess(StrEnum):
    """Whether a replay reads its larger inputs in a second process (:mod:`livegate.marketdata.read_worker`)."""

    AUTO = "auto"
    """Inputs of at least :data:`PROCESS_MIN_BYTES`, when the process may run on 2 or more CPUs."""
    OFF = "off"
    """Every input is read in the session's process."""
    ALWAYS = "always"
    """Every input, whatever its size and the CPU count."""


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
    reader_process:
        Which inputs another process reads (:class:`ReaderProcess`); the events, bad rows
        and errors are the same either way.
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
        reader_process: ReaderProcess = ReaderProcess.OFF,
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
        self._processes = self._start_processes(reader_process)  # they start Python while the scan runs
        try:
            if hash_inputs:
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="livegate-digest") as pool:
                    self._digests = pool.submit(input_identities, list(self.inputs))
                    self._scan_all(venue, align_recv_clock)  # the pool's exit waits for the digest, if still running
            else:
                self._scan_all(venue, align_recv_clock)
        except BaseException:
            self.close()
            raise
        for process in self._processes.values():
            process.start(self.recv_clock_offset_ms)
        self.tallies = [SourceTally(name) for name in self.inputs]
        self.late: list[int] = [0] * len(self._sources)
        self.first_ts_ms = 0
        self.last_ts_ms = 0
        self._started = False

    def close(self) -> None:
        """Stop the reader processes of files not read to the end; safe to call twice.

        :meth:`blocks` does this when it ends or is closed; call it when the stream is
        dropped unread.
        """
        for process in self._processes.values():
            process.close()

    def _start_processes(self, choice: ReaderProcess) -> dict[int, InputReader]:
        """Start a reader process for each input ``choice`` gives one (see :class:`ReaderProcess`).

        An input that cannot be sized (the scan names what is wrong with it) or a process
        that cannot be started leaves that input to be read here.
        """
        if choice is ReaderProcess.OFF:
            return {}
        if choice is ReaderProcess.AUTO and _usable_cpus() < 2:
            return {}
        min_bytes = PROCESS_MIN_BYTES if choice is ReaderProcess.AUTO else 0
        processes: dict[int, InputReader] = {}
        for i, (path, reader) in enumerate(self._sources):
            try:
                if path.stat().st_size >= min_bytes:
                    kind = next(name for name, known in READERS.items() if known is reader)
                    processes[i] = InputReader(kind, path, venue=self._venue, window_ms=self._window_ms)
            except OSError:
                continue
        return processes

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
            self._processes[i].blocks(tally, self.late, i, here) if i in self._processes else here()
            for i, here in enumerate(map(self._read_here, range(len(self._sources))))
            for tally in [self.tallies[i]]
        ]
        merged = ordered[0] if len(ordered) == 1 else _merge(ordered)
        first = True
        try:
            for block in merged:
                if first:
                    self.first_ts_ms = block[0].ts_event_ms
                    first = False
                self.last_ts_ms = block[-1].ts_event_ms
                yield block
        finally:
            self.close()

    def _read_here(self, i: int) -> Callable[[], Iterator[Block]]:
        """Return what reads input ``i`` in this process, through its reorder window."""
        (path, reader), tally = self._sources[i], self.tallies[i]

        def blocks() -> Iterator[Block]:
            events = reader(path, tally, venue=self._venue, recv_offset_ms=self.recv_clock_offset_ms)
            return windowed(events, self._window_ms, tally, self.late, i)

        return blocks

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


def _usable_cpus() -> int:
    """Return how many CPUs this process may run on (its affinity where the OS has one, else the count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _merge(ordered: list[Iterator[Block]]) -> Iterator[Block]:
    """Merge sorted per-file block streams into blocks of ``BLOCK_EVENTS`` (ties in file order)."""
    events = heapq.merge(*(itertools.chain.from_iterable(blocks) for blocks in ordered), key=ORDER_KEY)
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
