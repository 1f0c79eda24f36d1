"""load_replay on the first 4,000 lines of real raw Binance captures (tests/data/crypto/binance_ws_raw).

The full captures live in ../shared/data (extended tests); these heads keep the raw
capture path covered by the core suite: the same events as the normalized rows of the
same messages, and spot quote times derived from the receive clock.
"""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

from livegate.domain.market import Quote
from livegate.marketdata import load_replay

USDM_HEAD = "crypto/binance_ws_raw/usdm_btcusdt_20240808_head4000.jsonl.gz"
SPOT_HEAD = "crypto/binance_ws_raw/spot_btcusdt_20240809_head4000.jsonl.gz"


def _csv_head(source: Path, target: Path, rows: int) -> Path:
    """Write the header and the first ``rows`` rows of a normalized CSV(.gz) to ``target``."""
    with gzip.open(source, "rt", encoding="utf-8", newline="") as fh:
        target.write_text("".join(itertools.islice(fh, rows + 1)), encoding="utf-8")
    return target


def test_load_replay_when_raw_usdm_capture_head_then_same_events_as_normalized_rows(
    core_data: Path, tmp_path: Path
) -> None:
    raw = load_replay(capture=core_data / USDM_HEAD)
    # 4,000 lines: 1 REST snapshot, 313 diff-depth, 3,117 bookTicker, 569 trade messages
    assert (raw.quotes, raw.trades) == (3_117, 569)
    assert raw.skipped_messages == 313 + 1
    assert raw.bad_rows == []
    folder = core_data / "crypto" / "normalized"
    normalized = load_replay(
        _csv_head(folder / "binance_usdm_btcusdt_20240808_quotes.csv.gz", tmp_path / "q.csv", raw.quotes),
        _csv_head(folder / "binance_usdm_btcusdt_20240808_trades.csv.gz", tmp_path / "t.csv", raw.trades),
    )
    assert raw.events == normalized.events


def test_load_replay_when_raw_spot_capture_head_then_quote_time_is_recv_plus_measured_lag(core_data: Path) -> None:
    raw = load_replay(capture=core_data / SPOT_HEAD)
    assert (raw.quotes, raw.trades) == (3_183, 671)
    assert raw.skipped_messages == 146  # depth@100ms
    assert raw.event_time_from_recv == 3_183  # spot bookTicker carries no E
    # the recorder ran ~1.27 s behind Binance (../shared/data README section 1), measured on the trades
    assert 1_200 <= raw.recv_clock_offset_ms <= 1_350
    quotes = [e for e in raw.events if isinstance(e, Quote)]
    assert all(q.ts_event_ms == q.ts_recv_ns // 1_000_000 + raw.recv_clock_offset_ms for q in quotes)
    keys = [(e.ts_event_ms, e.ts_recv_ns) for e in raw.events]
    assert keys == sorted(keys)
