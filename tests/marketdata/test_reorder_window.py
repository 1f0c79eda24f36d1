"""A file's reorder window releases its events in (exchange time, receive time) order, sorted or not as read."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.domain.market import Quote, Trade
from livegate.marketdata.reorder import ORDER_KEY as _ORDER_KEY
from livegate.marketdata.reorder import windowed as _windowed
from livegate.marketdata.sources import SourceTally

WINDOW_MS = 100
T0 = 1_723_161_600_000


def _quote(index: int, ts: int, recv: int) -> Quote:
    return Quote("BTCUSDT", Decimal(index + 1), Decimal(1), Decimal(index + 2), Decimal(1), ts, recv)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.tuples(st.integers(-40, 30), st.integers(0, 2)), min_size=1, max_size=120),
    cuts=st.lists(st.integers(1, 30), min_size=1, max_size=10),
)
def test_windowed_when_events_rise_tie_or_step_back_within_the_window_then_released_in_stable_key_order(
    steps: list[tuple[int, int]], cuts: list[int]
) -> None:
    events: list[Quote | Trade] = []
    ts = newest = T0
    for index, (step, recv) in enumerate(steps):
        ts = max(ts + step, newest - WINDOW_MS // 2)  # never further back than half the window: nothing late
        newest = max(newest, ts)
        events.append(_quote(index, ts, recv))
    blocks, start = [], 0
    for cut in cuts * len(events):  # blocks of the given sizes, in turn, until the events run out
        if start >= len(events):
            break
        blocks.append(events[start : start + cut])
        start += cut
    late = [0]
    released = [e for block in _windowed(blocks, WINDOW_MS, SourceTally("t"), late, 0) for e in block]
    assert released == sorted(events, key=_ORDER_KEY)
    assert late == [0]


def test_windowed_when_every_block_rises_strictly_then_the_same_events_in_file_order() -> None:
    events = [_quote(i, T0 + 4 * i, i) for i in range(1000)]
    blocks = [events[i : i + 64] for i in range(0, 1000, 64)]
    released = list(_windowed(blocks, WINDOW_MS, SourceTally("t"), [0], 0))
    assert [e for block in released for e in block] == events
    assert all(block for block in released)
