"""Per-heartbeat work (issue 14 item 5): one heartbeat telemetry line and the replay's KILL file check.

Prints microseconds per call (best of 5 rounds of 50,000 calls). Run it against an older
checkout too (``PYTHONPATH=OLD/src``): without ``kill_file_present_cached`` it times the
exact check ``kill_file_present``.

Usage: ``python benchmarks/heartbeat.py``.
"""

from __future__ import annotations

import os
import tempfile
import timeit
from decimal import Decimal
from pathlib import Path

from livegate.risk.state_store import TradingStateStore
from livegate.telemetry.writer import TelemetryWriter

CALLS = 50_000


def main() -> None:
    """Time both calls and print them."""
    work = Path(tempfile.mkdtemp(prefix="lg-heartbeat-"))
    writer = TelemetryWriter(work / "telemetry.jsonl")

    def emit() -> None:
        writer.emit(
            "heartbeat", 1_700_000_000_000, quotes_processed=123_456, trades_processed=2_345, intents=100, fills=99,
            open_orders=2, pnl_total_usd=Decimal("-6.2213116"), drawdown_usd=Decimal("6.2213116"),
        )  # fmt: skip

    emit_us = min(timeit.repeat(emit, number=CALLS, repeat=5)) / CALLS * 1e6
    writer.close()
    store = TradingStateStore(work)
    check = getattr(store, "kill_file_present_cached", store.kill_file_present)
    os.utime(work, ns=(0, 0))  # a state dir last changed long ago: the usual case between two changes
    kill_us = min(timeit.repeat(check, number=CALLS, repeat=5)) / CALLS * 1e6
    print(f"heartbeat telemetry line: {emit_us:.2f} us; KILL check ({check.__name__}): {kill_us:.2f} us")


if __name__ == "__main__":
    main()
