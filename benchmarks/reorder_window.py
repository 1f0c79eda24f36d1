"""Measure how far raw captures are out of exchange-time order: the reorder window a streaming merge needs.

A capture is written in arrival order; livegate replays in exchange-time order
(``ts_event_ms``, then receive time). A streaming reader that holds back events for a
window of W ms of exchange time (emitting an event once a later one is more than W ms
ahead) reproduces the sorted order exactly when no event arrives after an event more than
W ms later than itself. Spot quotes carry no exchange time: their receive times are first
moved by the recorder's measured lag, as :func:`livegate.marketdata.replay.load_replay`
does. For each file this prints that maximum lateness (the smallest W
that works), how many events arrive late at all, and the 99.9th percentile of lateness.

Usage: ``python benchmarks/reorder_window.py [FILE ...]`` (default: every Binance capture in
``../shared/data/crypto/binance_ws_raw``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from livegate.marketdata.binance_raw import read_capture
from livegate.marketdata.replay import recv_clock_offset_ms, shift_recv_times

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "crypto" / "binance_ws_raw"


def lateness_ms(path: Path) -> tuple[int, int, int, int]:
    """Return (events, late events, max lateness ms, p99.9 lateness ms of the late ones) of one capture."""
    result = read_capture(path)
    offset = recv_clock_offset_ms([result]) if result.time_from_recv else 0
    events = shift_recv_times(result, offset) if offset else result.events  # as load_replay aligns spot quotes
    newest = None
    late: list[int] = []
    for event in events:
        ts = event.ts_event_ms
        if newest is None or ts >= newest:
            newest = ts
        else:
            late.append(newest - ts)
    late.sort()
    p999 = late[min(len(late) - 1, int(len(late) * 0.999))] if late else 0
    return len(events), len(late), (late[-1] if late else 0), p999


def main() -> None:
    """Print the reorder window each capture needs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    files = args.files or sorted(p for p in DEFAULT_DIR.glob("*.jsonl.gz") if not p.name.startswith("hyperliquid"))
    for path in files:
        events, late, worst, p999 = lateness_ms(path)
        print(f"{path.name}: {events:,} events, {late:,} arrive after a later one; "
              f"window needed {worst} ms (p99.9 of the late ones {p999} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
