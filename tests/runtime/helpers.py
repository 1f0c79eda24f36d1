"""A stepping clock, a venue that never answers reads, and a ledger reader for runtime tests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from livegate.domain.clock import wall_time_ms
from livegate.domain.errors import Retryable
from livegate.domain.snapshots import VenueOrderSnapshot
from livegate.venues.fake import FakeVenue


class SteppingClock:
    """A clock that moves 1 ms every time it is read: deterministic time for a venue stream."""

    def __init__(self, start_ms: int | None = None, step_ms: int = 1) -> None:
        self._now = wall_time_ms() if start_ms is None else start_ms
        self._step = step_ms

    def now_ms(self) -> int:
        self._now += self._step
        return self._now


class UnreachableReadsVenue(FakeVenue):
    """A fake venue that trades but never answers account reads (reconciliation cannot complete)."""

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrderSnapshot]:
        raise Retryable(f"{self.name}: 503 service unavailable", "503")


def ledger_events(run_dir: Path) -> list[tuple[str, dict[str, object]]]:
    """Return ``(kind, payload)`` of every ledger event, in order."""
    with sqlite3.connect(run_dir / "ledger.sqlite") as conn:
        rows = conn.execute("SELECT kind, payload FROM events ORDER BY seq").fetchall()
    return [(kind, json.loads(payload)) for kind, payload in rows]
