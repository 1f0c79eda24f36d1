"""One file's reorder window: release its events in ``(ts_event_ms, ts_recv_ns)`` order while reading.

:class:`~livegate.marketdata.stream.ReplayStream` describes the window and why it is enough
(``benchmarks/reorder_window.py`` measured the lateness of the recorded captures). The
same function runs in the session's process and in a reader process
(:mod:`livegate.marketdata.read_worker`), so both release the same lists.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import attrgetter, lt

from livegate.marketdata.normalized import Block
from livegate.marketdata.sources import SourceTally

__all__ = ["ORDER_KEY", "drop_late", "windowed"]

ORDER_KEY = attrgetter("ts_event_ms", "ts_recv_ns")
"""Replay order of two events: exchange time, then receive time (ties keep file order: sorts are stable)."""

_TS = attrgetter("ts_event_ms")


def windowed(
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
            pending.sort(key=ORDER_KEY)
        if last_key is not None and ORDER_KEY(pending[0]) < last_key:
            pending = drop_late(pending, last_key, window_ms, tally, late, source)
        horizon = pending[-1].ts_event_ms - window_ms
        cut = bisect_left(pending, horizon, key=_TS)  # released: strictly older than the window
        if cut:
            released, pending = pending[:cut], pending[cut:]
            last_key = ORDER_KEY(released[-1])
            yield released
    if pending:
        yield pending


def drop_late(
    pending: Block, last_key: tuple[int, int], window_ms: int, tally: SourceTally, late: list[int], source: int
) -> Block:
    """Remove (and record) the events that sort before the last released one."""
    keep: Block = []
    for event in pending:
        if ORDER_KEY(event) < last_key:
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
