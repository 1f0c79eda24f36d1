"""load_replay on the normalized CSV files (tests/data; the spot files of ../shared/data)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from livegate.domain.enums import Side
from livegate.domain.market import Quote, Trade
from livegate.marketdata import ReplayData, load_replay

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "livegate" / "data"


def _normalized(data_dir: Path, stem: str) -> tuple[Path, Path]:
    folder = data_dir / "crypto" / "normalized"
    return folder / f"{stem}_quotes.csv.gz", folder / f"{stem}_trades.csv.gz"


@pytest.fixture(scope="module")
def usdm(core_data: Path) -> ReplayData:
    quotes, trades = _normalized(core_data, "binance_usdm_btcusdt_20240808")
    return load_replay(quotes, trades, venue="binance_usdm")


def test_load_replay_when_usdm_20240808_then_counts_match_readme(usdm: ReplayData) -> None:
    assert usdm.quotes == 66_089
    assert usdm.trades == 21_313
    assert len(usdm.events) == 66_089 + 21_313
    assert usdm.bad_rows == []
    assert usdm.skipped_messages == 0
    assert usdm.symbols == ["BTCUSDT"]
    assert usdm.event_time_from_recv == 0
    assert usdm.recv_clock_offset_ms == 0


def test_load_replay_when_usdm_20240808_then_first_quote_is_exact(usdm: ReplayData) -> None:
    first_quote = next(e for e in usdm.events if isinstance(e, Quote))
    assert first_quote == Quote(
        symbol="BTCUSDT",
        bid_price=Decimal("61800.20"),
        bid_size=Decimal("2.507"),
        ask_price=Decimal("61800.30"),
        ask_size=Decimal("2.510"),
        ts_event_ms=1_723_161_256_313,
        ts_recv_ns=1_723_161_255_088_169_167,
        venue="binance_usdm",
    )
    assert str(first_quote.bid_price) == "61800.20"  # text as sent, trailing zero kept


def test_load_replay_when_usdm_20240808_then_first_trade_side_and_times_kept(usdm: ReplayData) -> None:
    first_trade = next(e for e in usdm.events if isinstance(e, Trade))
    assert first_trade.trade_id == "5266583935"
    assert first_trade.price == Decimal("61800.30")
    assert first_trade.size == Decimal("0.006")
    assert first_trade.aggressor_side is Side.BUY
    assert first_trade.ts_event_ms == 1_723_161_256_322
    assert first_trade.ts_recv_ns == 1_723_161_255_088_176_367


def test_load_replay_when_usdm_20240808_then_span_matches_first_and_last_event(usdm: ReplayData) -> None:
    assert usdm.first_ts_ms == usdm.events[0].ts_event_ms == 1_723_161_256_313
    assert usdm.last_ts_ms == usdm.events[-1].ts_event_ms
    assert usdm.data_span_secs == pytest.approx((usdm.last_ts_ms - usdm.first_ts_ms) / 1000)
    assert 340 < usdm.data_span_secs < 346  # README: 23:54:15 to 23:59:59


def test_load_replay_when_quotes_and_trades_files_then_events_are_time_ordered(usdm: ReplayData) -> None:
    keys = [(e.ts_event_ms, e.ts_recv_ns) for e in usdm.events]
    assert keys == sorted(keys)
    # quotes and trades really interleave, rather than one file following the other
    kinds = [isinstance(e, Quote) for e in usdm.events[:200]]
    assert any(kinds) and not all(kinds)


def test_load_replay_when_bundled_sample_then_same_as_shared_data(shared_data: Path) -> None:
    quotes, trades = _normalized(shared_data, "binance_usdm_btcusdt_20240808")
    usdm = load_replay(quotes, trades, venue="binance_usdm")
    bundled = load_replay(
        BUNDLED / "binance_usdm_btcusdt_20240808_quotes.csv.gz",
        BUNDLED / "binance_usdm_btcusdt_20240808_trades.csv.gz",
        venue="binance_usdm",
    )
    assert (bundled.quotes, bundled.trades) == (66_089, 21_313)
    assert bundled.events == usdm.events


def test_load_replay_when_spot_without_event_time_then_time_is_derived_from_recv(shared_data: Path) -> None:
    quotes, trades = _normalized(shared_data, "binance_spot_btcusdt_20240809")
    data = load_replay(quotes, trades)
    assert (data.quotes, data.trades) == (45_134, 10_147)
    assert data.bad_rows == []
    assert data.event_time_from_recv == 45_134  # every spot quote, no trade
    # the recorder ran ~1.27 s behind Binance (README section 1); the offset is measured on the trades
    assert 1_200 <= data.recv_clock_offset_ms <= 1_350
    for event in data.events[:500]:
        if isinstance(event, Quote):
            assert event.ts_event_ms == event.ts_recv_ns // 1_000_000 + data.recv_clock_offset_ms
    keys = [(e.ts_event_ms, e.ts_recv_ns) for e in data.events]
    assert keys == sorted(keys)


def test_load_replay_when_align_recv_clock_off_then_spot_quote_time_is_recv_ms(shared_data: Path) -> None:
    quotes, _ = _normalized(shared_data, "binance_spot_btcusdt_20240809")
    data = load_replay(quotes, align_recv_clock=False)
    assert data.recv_clock_offset_ms == 0
    first = data.events[0]
    assert first.ts_event_ms == first.ts_recv_ns // 1_000_000 == 1_723_161_600_001


def test_load_replay_when_spot_quotes_only_then_no_offset_is_available(shared_data: Path) -> None:
    quotes, _ = _normalized(shared_data, "binance_spot_btcusdt_20240809")
    data = load_replay(quotes)
    assert data.trades == 0
    assert data.event_time_from_recv == 45_134
    assert data.recv_clock_offset_ms == 0  # nothing carries exchange time to measure against


def test_load_replay_when_several_files_as_lists_then_symbols_merge_sorted(core_data: Path) -> None:
    btc_quotes, _ = _normalized(core_data, "binance_usdm_btcusdt_20240808")
    eth_quotes, eth_trades = _normalized(core_data, "binance_usdm_ethusdt_20240808")
    data = load_replay([eth_quotes, btc_quotes], [eth_trades])
    assert data.symbols == ["BTCUSDT", "ETHUSDT"]
    assert (data.quotes, data.trades) == (53_992 + 66_089, 14_076)
    assert data.inputs == [str(eth_quotes), str(btc_quotes), str(eth_trades)]
    keys = [(e.ts_event_ms, e.ts_recv_ns) for e in data.events]
    assert keys == sorted(keys)
