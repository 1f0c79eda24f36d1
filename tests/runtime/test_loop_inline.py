"""The session loop's inlined steps: the cursor slot, the clock's forward-only move, the quote store.

The loop writes the replay cursor through :meth:`ReplayCursor.slot`, moves the replay
clock by assigning :attr:`ReplayClock.current_ms` when an event is later, stores quotes in
:attr:`QuoteCache.latest` and reads event fields by position. Each must mean exactly
what the method it stands for means.
"""

from __future__ import annotations

import mmap
import struct
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livegate.control.resume import CURSOR_FILE, PackedSlot, ReplayCursor, read_cursor
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Side
from livegate.domain.market import Quote, Trade
from livegate.marketdata.quote_cache import QuoteCache
from livegate.runtime import loop

_INDEXES = st.integers(min_value=-1, max_value=2**63 - 1)


def test_loop_field_positions_when_read_by_index_then_they_name_symbol_and_event_time() -> None:
    quote = Quote("BTCUSDT", Decimal("1"), Decimal("2"), Decimal("3"), Decimal("4"), 1_234, 5, "v")
    trade = Trade("ETHUSDT", Decimal("1"), Decimal("2"), Side.BUY, "t1", 5_678, 9, "v")
    assert quote[loop._SYMBOL] == quote.symbol == "BTCUSDT"
    assert quote[loop._TS_EVENT_MS] == quote.ts_event_ms == 1_234
    assert trade[loop._TS_EVENT_MS] == trade.ts_event_ms == 5_678


@settings(deadline=None)  # files written per example: 421 ms once on a loaded 2-core VM (Hypothesis's default is 200)
@given(indexes=st.lists(_INDEXES, min_size=1, max_size=20))
def test_cursor_slot_when_stored_then_file_holds_what_mark_writes(
    tmp_path_factory: pytest.TempPathFactory, indexes: list[int]
) -> None:
    run_dir = tmp_path_factory.mktemp("cursor")
    by_slot, by_mark = ReplayCursor(run_dir / CURSOR_FILE), ReplayCursor(run_dir / "marked.bin")
    slot = by_slot.slot()
    for index in indexes:
        slot[0] = index
        by_mark.mark(index)
        assert read_cursor(run_dir / CURSOR_FILE) == index
    by_slot.close()
    by_mark.close()
    assert (run_dir / CURSOR_FILE).read_bytes() == (run_dir / "marked.bin").read_bytes()


def test_cursor_slot_when_cursor_closed_then_released_and_close_is_harmless_twice(tmp_path: Path) -> None:
    cursor = ReplayCursor(tmp_path / CURSOR_FILE)
    slot = cursor.slot()
    assert cursor.slot() is slot
    slot[0] = 41
    cursor.close()
    cursor.close()
    with pytest.raises(ValueError, match="released"):
        slot[0] = 42
    assert read_cursor(tmp_path / CURSOR_FILE) == 41


@given(index=_INDEXES)
def test_packed_slot_when_stored_then_bytes_are_little_endian_like_mark(index: int) -> None:
    mapping = mmap.mmap(-1, 16)
    PackedSlot(mapping)[0] = index
    assert mapping[8:16] == struct.pack("<q", index)
    mapping.close()


@given(start=st.integers(0, 2**62), steps=st.lists(st.integers(0, 2**62), max_size=30))
def test_replay_clock_when_current_ms_assigned_like_the_loop_then_same_as_advance_to(
    start: int, steps: list[int]
) -> None:
    by_method, inline = ReplayClock(start), ReplayClock(start)
    for done, ts in enumerate(steps, 1):
        by_method.advance_to(ts)
        if ts > inline.current_ms:  # the loop's inline form
            inline.current_ms = ts
        assert inline.now_ms() == by_method.now_ms() == max([start, *steps[:done]])


def test_quote_cache_latest_when_stored_into_then_reads_see_it_like_update() -> None:
    cache, updated = QuoteCache(), QuoteCache()
    quote = Quote("BTCUSDT", Decimal("100.0"), Decimal("1"), Decimal("100.2"), Decimal("2"), 1_000, 7)
    cache.latest[quote.symbol] = quote
    updated.update(quote)
    assert cache.last("BTCUSDT") is updated.last("BTCUSDT") is quote
    assert cache.mid("BTCUSDT") == Decimal("100.1")
    assert cache.symbols() == updated.symbols() == ["BTCUSDT"]


_PRICES = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=None
)


@given(bid=_PRICES, ask=_PRICES)
def test_quote_mid_price_when_read_by_position_then_same_text_as_fields_sum_over_two(
    bid: Decimal, ask: Decimal
) -> None:
    quote = Quote("BTCUSDT", bid, Decimal("1"), ask, Decimal("1"), 0)
    expected = (quote.bid_price + quote.ask_price) / Decimal(2)
    assert str(quote.mid_price) == str(expected)
    assert quote.mid_price.as_tuple() == expected.as_tuple()
