"""Where a replay starts: at its first event, or after the events a crashed run processed.

A resumed run (``livegate run --resume``) continues with the event after the one the
replay cursor names (:class:`~livegate.control.resume.ReplayCursor`), so no event is
replayed twice; without a cursor (a power loss) it continues after the ledger's last event
time. The events before that point are read and passed over, keeping only what the
resumed run needs: how many quotes and trades they were, the last quote of each symbol
(the marks) and the time of the last one (the clock).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from livegate.domain.market import Quote, Trade

__all__ = ["ReplayStart", "skip_processed"]

Block = list[Quote | Trade]


@dataclass(frozen=True, slots=True)
class ReplayStart:
    """The start of a replay.

    Attributes
    ----------
    start:
        Index of the first event to process (0 for a new run).
    blocks:
        The events from ``start`` on, in lists.
    first_ts_ms:
        Exchange time (ms) of the replay's first event; 0 when the replay is empty.
    last_skipped_ts_ms:
        Exchange time of the last event passed over; None when none was.
    quotes, trades:
        How many quotes and trades were passed over.
    last_quotes:
        The last quote of each symbol passed over.
    """

    start: int
    blocks: Iterator[Block]
    first_ts_ms: int
    last_skipped_ts_ms: int | None
    quotes: int
    trades: int
    last_quotes: dict[str, Quote]


def skip_processed(blocks: Iterator[Block], cursor: int | None, last_ts_ms: int | None) -> ReplayStart:
    """Pass over the events a crashed run processed; return where this run starts.

    Parameters
    ----------
    blocks:
        The whole replay, in lists (:meth:`livegate.marketdata.stream.ReplayStream.blocks`).
    cursor:
        The index the replay cursor last marked (the event being processed at the crash),
        or None.
    last_ts_ms:
        Exchange time of the resumed ledger's last event (used when ``cursor`` is None), or
        None for a new run.

    Returns
    -------
    ReplayStart
        The first event to process and what was passed over.
    """
    first = next(blocks, None)
    if first is None:
        return ReplayStart(0, iter(()), 0, None, 0, 0, {})
    first_ts_ms = first[0].ts_event_ms
    rest = itertools.chain([first], blocks)
    if cursor is None and last_ts_ms is None:
        return ReplayStart(0, rest, first_ts_ms, None, 0, 0, {})
    passed = 0
    quotes = 0
    last_quotes: dict[str, Quote] = {}
    last_ts: int | None = None
    for block in rest:
        cut = _cut(block, cursor + 1 - passed if cursor is not None else None, last_ts_ms)
        for event in block[:cut]:
            if type(event) is Quote:
                quotes += 1
                last_quotes[event.symbol] = event
        if cut:
            last_ts = block[cut - 1].ts_event_ms
        passed += cut
        if cut < len(block):
            remaining = itertools.chain([block[cut:]], rest)
            return ReplayStart(passed, remaining, first_ts_ms, last_ts, quotes, passed - quotes, last_quotes)
    return ReplayStart(passed, iter(()), first_ts_ms, last_ts, quotes, passed - quotes, last_quotes)


def _cut(block: Block, left: int | None, last_ts_ms: int | None) -> int:
    """Return how many events at the head of ``block`` were processed already."""
    if left is not None:
        return max(0, min(left, len(block)))
    cut = 0
    while cut < len(block) and block[cut].ts_event_ms <= (last_ts_ms or 0):
        cut += 1
    return cut
