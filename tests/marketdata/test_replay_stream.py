"""ReplayStream: the replay order of load_replay, read while consumed, in bounded memory."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from livegate.domain.errors import DataError
from livegate.domain.market import Quote, Trade
from livegate.marketdata import load_replay
from livegate.marketdata.digests import input_identities
from livegate.marketdata.normalized import BLOCK_EVENTS
from livegate.marketdata.stream import REORDER_WINDOW_MS, ReaderProcess, ReplayStream

HEADER = "ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size\n"


@pytest.fixture(params=[ReaderProcess.OFF, ReaderProcess.ALWAYS], ids=["read-here", "reader-process"])
def reader(request: pytest.FixtureRequest) -> ReaderProcess:
    """Each stream test runs with the inputs read here and read by a reader process: same outcome."""
    return ReaderProcess(request.param)


def _events(stream: ReplayStream) -> list[Quote | Trade]:
    return [event for block in stream.blocks() for event in block]


def _quotes_csv(path: Path, times_ms: list[int], symbol: str = "BTCUSDT") -> Path:
    rows = [f"{t * 1_000_000 + i},{t},{symbol},100.{i % 90 + 10},1,101.5,2\n" for i, t in enumerate(times_ms)]
    path.write_text(HEADER + "".join(rows))
    return path


@pytest.mark.parametrize(
    "inputs",
    [
        {"quotes": ["normalized/binance_usdm_btcusdt_20240808_quotes.csv.gz"],
         "trades": ["normalized/binance_usdm_btcusdt_20240808_trades.csv.gz"]},
        {"quotes": ["normalized/binance_spot_btcusdt_20240809_quotes.csv.gz"],
         "trades": ["normalized/binance_spot_btcusdt_20240809_trades.csv.gz"]},
        {"capture": ["binance_ws_raw/spot_btcusdt_20240809.jsonl.gz"]},
        {"quotes": ["normalized/binance_usdm_ethusdt_20240808_quotes.csv.gz"],
         "capture": ["binance_ws_raw/usdm_btcusdt_20240719.jsonl.gz",
                     "binance_ws_raw/hyperliquid_btc_20250126.jsonl.gz"]},
    ],
    ids=["usdm-csv", "spot-csv-recv-clock", "spot-capture", "csv-and-two-captures"],
)  # fmt: skip
def test_stream_when_real_recordings_then_same_events_and_facts_as_load_replay(
    shared_data: Path, inputs: dict[str, list[str]], reader: ReaderProcess
) -> None:
    paths = {kind: [shared_data / "crypto" / name for name in names] for kind, names in inputs.items()}
    loaded = load_replay(**paths)  # type: ignore[arg-type]
    stream = ReplayStream(**paths, reader_process=reader)  # type: ignore[arg-type]
    assert stream.symbols == loaded.symbols
    assert stream.recv_clock_offset_ms == loaded.recv_clock_offset_ms
    assert _events(stream) == loaded.events
    assert (stream.first_ts_ms, stream.last_ts_ms) == (loaded.first_ts_ms, loaded.last_ts_ms)
    assert stream.bad_rows == loaded.bad_rows
    assert stream.skipped_messages == loaded.skipped_messages
    assert stream.event_time_from_recv == loaded.event_time_from_recv
    assert stream.late == [0] * len(stream.inputs)


def test_stream_when_rows_out_of_order_within_the_window_then_sorted_like_load_replay(
    tmp_path: Path, reader: ReaderProcess
) -> None:
    times = [1000, 1010, 1005, 1030, 1020, 1020, 1100, 1060, 1200]
    path = _quotes_csv(tmp_path / "q.csv", times)
    assert _events(ReplayStream(quotes=path, reader_process=reader)) == load_replay(quotes=path).events
    assert [e.ts_event_ms for e in _events(ReplayStream(quotes=path, reader_process=reader))] == sorted(times)


def test_stream_when_an_event_is_later_than_the_window_then_it_is_a_bad_row_and_the_rest_stay_in_order(
    tmp_path: Path, reader: ReaderProcess
) -> None:
    # the late event is read in the second block, after events newer than it were released
    late_ms = 1_005
    times = [i * 10 for i in range(BLOCK_EVENTS + 50)]
    times[BLOCK_EVENTS + 10] = late_ms
    path = _quotes_csv(tmp_path / "q.csv", times)
    stream = ReplayStream(quotes=path, window_ms=REORDER_WINDOW_MS, reader_process=reader)
    replayed = [e.ts_event_ms for e in _events(stream)]
    assert late_ms not in replayed
    assert replayed == sorted(replayed)
    assert len(replayed) == len(times) - 1
    assert stream.late == [1]
    assert stream.bad_row_count == 1
    assert "more than the reorder window (100 ms)" in stream.bad_rows[0].reason


def test_stream_when_bad_rows_then_they_are_counted_and_listed_like_load_replay(
    tmp_path: Path, reader: ReaderProcess
) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        HEADER
        + "1000000000,1000,BTCUSDT,100,1,101,1\n"
        + "1001000000,1001,BTCUSDT,NaN,1,101,1\n"
        + "1002000000,1002,BTCUSDT,102,1,101,1\n"
        + "1003000000,1003,BTCUSDT,100,1,100,1\n"
        + "1004000000,1004,BTCUSDT,100,-1,101,1\n"
        + "1005000000,1005,BTCUSDT,100,1\n"
    )
    stream = ReplayStream(quotes=path, reader_process=reader)
    loaded = load_replay(quotes=path)
    assert _events(stream) == loaded.events  # the locked quote (1003) is replayed
    assert [e.ts_event_ms for e in loaded.events] == [1000, 1003]
    assert stream.bad_rows == loaded.bad_rows
    assert stream.bad_row_count == 4


def test_stream_when_header_lacks_a_column_then_data_error_names_the_file_before_any_event(
    tmp_path: Path, reader: ReaderProcess
) -> None:
    path = tmp_path / "q.csv"
    path.write_text("ts_recv_ns,ts_event_ms,symbol,bid_price\n1,1,BTCUSDT,1\n")
    with pytest.raises(DataError, match=r"q\.csv: header lacks required columns"):
        ReplayStream(quotes=path, reader_process=reader)


def _without_exchange_time(row: str) -> str:
    recv, _, rest = row.split(",", 2)
    return f"{recv},,{rest}"


def test_stream_when_read_twice_then_data_error(tmp_path: Path, reader: ReaderProcess) -> None:
    stream = ReplayStream(quotes=_quotes_csv(tmp_path / "q.csv", [1, 2, 3]), reader_process=reader)
    assert len(_events(stream)) == 3
    with pytest.raises(DataError, match="read once"):
        _events(stream)


@pytest.mark.parametrize("exchange_time", [True, False], ids=["exchange_time", "receive_clock_only"])
def test_stream_when_input_grows_tenfold_then_peak_memory_does_not(tmp_path: Path, exchange_time: bool) -> None:
    # rows without exchange time (Binance spot bookTicker) are read by the row-by-row path
    def peak_bytes(quotes: int) -> int:
        path = _quotes_csv(tmp_path / f"q{quotes}.csv", [i * 4 for i in range(quotes)])
        if not exchange_time:
            rows = path.read_text().splitlines(keepends=True)
            path.write_text(rows[0] + "".join(_without_exchange_time(row) for row in rows[1:]))
        gc.collect()
        tracemalloc.start()
        try:
            stream = ReplayStream(quotes=path)
            for block in stream.blocks():
                assert len(block) <= 2 * BLOCK_EVENTS
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small = 12_000 if exchange_time else 6_000  # the row-by-row path is slower under tracemalloc
    small, large = peak_bytes(small), peak_bytes(10 * small)
    assert large < small * 1.5  # load_replay holds every quote: ~10x


def test_stream_when_inputs_hashed_during_the_first_pass_then_digests_equal_hashing_them_after(
    shared_data: Path,
) -> None:
    paths = {
        "quotes": [shared_data / "crypto/normalized/binance_usdm_btcusdt_20240808_quotes.csv.gz"],
        "trades": [shared_data / "crypto/normalized/binance_usdm_btcusdt_20240808_trades.csv.gz"],
    }
    background = ReplayStream(**paths, hash_inputs=True)  # type: ignore[arg-type]
    after = ReplayStream(**paths)  # type: ignore[arg-type]
    assert background.content_digests() == after.content_digests() == input_identities(after.inputs)
    assert len(set(background.content_digests())) == 2


def test_stream_when_an_input_vanishes_before_it_is_hashed_then_content_digests_raises_data_error(
    tmp_path: Path,
) -> None:
    path = _quotes_csv(tmp_path / "q.csv", [1_000, 1_001])
    stream = ReplayStream(quotes=path)
    path.unlink()
    with pytest.raises(DataError, match="to hash it"):
        stream.content_digests()
