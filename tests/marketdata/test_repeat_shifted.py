"""repeat_shifted: a long replay built from time-shifted repeats of a real capture."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from livegate.domain.errors import DataError
from livegate.domain.market import Quote, Trade
from livegate.marketdata import ReplayData, load_replay, repeat_shifted


@pytest.fixture(scope="module")
def usdm(core_data: Path) -> ReplayData:
    folder = core_data / "crypto" / "normalized"
    return load_replay(
        folder / "binance_usdm_btcusdt_20240808_quotes.csv.gz",
        folder / "binance_usdm_btcusdt_20240808_trades.csv.gz",
    )


def test_repeat_shifted_when_target_spans_repeats_then_exact_count_and_ordered_times(usdm: ReplayData) -> None:
    target = 2 * usdm.quotes + 1_234
    events = repeat_shifted(usdm, target)
    assert sum(1 for e in events if isinstance(e, Quote)) == target
    assert isinstance(events[-1], Quote)  # stops at the target quote
    times = [e.ts_event_ms for e in events]
    assert all(a <= b for a, b in itertools.pairwise(times))
    # ts_recv_ns is not monotonic even in the original: the trade and bookTicker streams
    # arrive with different delays (up to ~21 ms here), and the replay orders by exchange time


def test_repeat_shifted_when_repeat_starts_then_time_strictly_continues(usdm: ReplayData) -> None:
    n = len(usdm.events)
    events = repeat_shifted(usdm, usdm.quotes + 1)
    shift_ms = usdm.last_ts_ms - usdm.first_ts_ms + 1
    assert events[:n] == usdm.events  # repeat 0 is the data itself
    assert events[n].ts_event_ms == usdm.first_ts_ms + shift_ms > usdm.last_ts_ms
    original = usdm.events[0]
    assert isinstance(original, Quote)
    shifted = events[n]
    assert isinstance(shifted, Quote)
    assert shifted.ts_recv_ns == original.ts_recv_ns + shift_ms * 1_000_000
    assert (shifted.bid_price, shifted.ask_size, shifted.symbol) == (
        original.bid_price,
        original.ask_size,
        original.symbol,
    )


def test_repeat_shifted_when_trades_repeat_then_trade_ids_stay_unique(usdm: ReplayData) -> None:
    events = repeat_shifted(usdm, 3 * usdm.quotes)
    ids = [e.trade_id for e in events if isinstance(e, Trade)]
    assert len(ids) == 3 * usdm.trades
    assert len(set(ids)) == len(ids)


def test_repeat_shifted_when_target_below_data_then_prefix_of_data(usdm: ReplayData) -> None:
    events = repeat_shifted(usdm, 10)
    assert sum(1 for e in events if isinstance(e, Quote)) == 10
    assert events == usdm.events[: len(events)]


def test_repeat_shifted_when_target_is_zero_then_empty(usdm: ReplayData) -> None:
    assert repeat_shifted(usdm, 0) == []


def test_repeat_shifted_when_data_has_no_quotes_then_data_error(core_data: Path) -> None:
    trades_only = load_replay(
        trades=core_data / "crypto" / "normalized" / "binance_usdm_btcusdt_20240719_trades_head1000.csv.gz"
    )
    with pytest.raises(DataError, match="without quotes"):
        repeat_shifted(trades_only, 5)
