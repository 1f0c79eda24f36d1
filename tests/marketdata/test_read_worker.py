"""A reader process reads an input beside the session: same events, same errors, and it never outlives its use."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from livegate.domain.errors import DataError
from livegate.domain.market import Quote, Trade
from livegate.marketdata.normalized import Block, quote_blocks
from livegate.marketdata.read_worker import InputReader
from livegate.marketdata.reorder import windowed
from livegate.marketdata.sources import SourceTally
from livegate.marketdata.stream import ReaderProcess, ReplayStream
from tests.integration.session_helpers import process_gone, reader_children

HEADER = "ts_recv_ns,ts_event_ms,symbol,bid_price,bid_size,ask_price,ask_size\n"
ROWS = 60_000  # about 2 MB of encoded blocks: more than the pipe holds, so the child waits on it


def _quotes_csv(path: Path, rows: int = ROWS) -> Path:
    lines = [f"{t * 1_000_000},{t},BTCUSDT,6{t % 997}.{t % 10},0.{t % 89 + 1},6{t % 997 + 1}.5,1.{t % 7}\n"
             for t in range(1_000, 1_000 + rows)]  # fmt: skip
    path.write_text(HEADER + "".join(lines))
    return path


def _not_here() -> Iterator[Block]:
    raise AssertionError("the reader process started: the file is not read here")


def _read_until_error(stream: ReplayStream) -> tuple[list[Quote | Trade], str | None]:
    events: list[Quote | Trade] = []
    try:
        for block in stream.blocks():
            events += block
    except DataError as error:
        return events, str(error)
    return events, None


def test_reader_process_when_the_file_is_not_utf8_midway_then_same_events_and_same_data_error_as_read_here(
    tmp_path: Path,
) -> None:
    whole = _quotes_csv(tmp_path / "q.csv").read_bytes()
    middle = whole.index(b"\n", len(whole) * 2 // 3) + 1
    broken = tmp_path / "broken_quotes.csv.gz"  # the reader fails after some blocks (the scan only splits rows)
    broken.write_bytes(gzip.compress(whole[:middle] + b"1,2,BTC\xffUSDT,1,1,2,1\n" + whole[middle:]))
    here = _read_until_error(ReplayStream(quotes=broken, reader_process=ReaderProcess.OFF))
    there = _read_until_error(ReplayStream(quotes=broken, reader_process=ReaderProcess.ALWAYS))
    assert here[1] is not None and "broken_quotes.csv.gz" in here[1]
    assert len(here[0]) > 0
    assert there == here


def test_reader_process_when_stream_closed_early_then_the_child_is_stopped(tmp_path: Path) -> None:
    reader = InputReader("quotes", _quotes_csv(tmp_path / "q.csv"), venue="binance", window_ms=100)
    reader.start(0)
    blocks = reader.blocks(SourceTally("q.csv"), [0], 0, _not_here)
    assert len(next(blocks)) > 0
    assert not process_gone(reader.pid)  # waiting on the full pipe
    blocks.close()
    assert process_gone(reader.pid)


def test_reader_process_when_dropped_before_start_then_close_stops_the_child(tmp_path: Path) -> None:
    stream = ReplayStream(quotes=_quotes_csv(tmp_path / "q.csv", 10), reader_process=ReaderProcess.ALWAYS)
    children = reader_children(os.getpid())
    assert children
    stream.close()
    assert all(process_gone(pid, within_secs=5) for pid in children)


def test_reader_process_when_the_child_is_killed_then_data_error_names_its_exit(tmp_path: Path) -> None:
    path = _quotes_csv(tmp_path / "q.csv")
    reader = InputReader("quotes", path, venue="binance", window_ms=100)
    reader.start(0)
    blocks = reader.blocks(SourceTally(str(path)), [0], 0, _not_here)
    next(blocks)
    os.kill(reader.pid, signal.SIGKILL)
    with pytest.raises(DataError, match=r"q\.csv: the reader process ended \(exit -9\) before the end of the file"):
        for _ in blocks:
            pass


def test_reader_process_when_ctrl_c_or_service_stop_reach_the_child_then_it_reads_on(tmp_path: Path) -> None:
    # the signals of a terminal's Ctrl-C or a service stop reach every process; the session decides
    path = _quotes_csv(tmp_path / "q.csv")
    reader = InputReader("quotes", path, venue="binance", window_ms=100)
    reader.start(0)
    blocks = reader.blocks(SourceTally(str(path)), [0], 0, _not_here)
    count = len(next(blocks))
    os.kill(reader.pid, signal.SIGINT)
    os.kill(reader.pid, signal.SIGTERM)
    time.sleep(0.2)
    count += sum(len(block) for block in blocks)
    assert count == ROWS


def test_reader_process_when_its_parent_dies_then_it_exits(tmp_path: Path) -> None:
    path = _quotes_csv(tmp_path / "q.csv")
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from livegate.marketdata.read_worker import InputReader\n"
        "from livegate.marketdata.sources import SourceTally\n"
        f"reader = InputReader('quotes', Path({str(path)!r}), venue='binance', window_ms=100)\n"
        "reader.start(0)\n"
        "next(reader.blocks(SourceTally('q'), [0], 0, lambda: iter(())))\n"
        "print(reader.pid, flush=True)\n"
        "os._exit(0)\n"  # no clean-up: as if the session were killed
    )
    parent = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert parent.returncode == 0, parent.stderr
    assert process_gone(int(parent.stdout.strip()), within_secs=10)


def test_reader_process_when_the_child_cannot_start_then_the_file_is_read_here_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _quotes_csv(tmp_path / "q.csv", 9_000)
    reader = InputReader("quotes", path, venue="binance", window_ms=100, python="/bin/false")  # exits 1 at once
    reader.start(0)
    tally, late = SourceTally(str(path)), [0]

    def here() -> Iterator[Block]:
        return windowed(quote_blocks(path, tally, venue="binance"), 100, tally, late, 0)

    with caplog.at_level("WARNING", logger="livegate"):
        events = [event for block in reader.blocks(tally, late, 0, here) for event in block]
    assert events == [event for block in ReplayStream(quotes=path, venue="binance").blocks() for event in block]
    assert "q.csv: the reader process did not start (exit 1); reading the file here" in caplog.text


def test_reader_process_when_the_interpreter_is_missing_then_oserror_and_no_file_left_open(tmp_path: Path) -> None:
    path = _quotes_csv(tmp_path / "q.csv", 5_000)
    # ReplayStream catches the OSError and reads that input in its own process
    before = len(list(Path("/proc/self/fd").iterdir()))
    with pytest.raises(OSError) as raised:
        InputReader("quotes", path, venue="binance", window_ms=100, python=str(tmp_path / "no-such-python"))
    assert len(list(Path("/proc/self/fd").iterdir())) == before  # while the traceback still holds the half-built reader
    assert raised.value.filename is not None
