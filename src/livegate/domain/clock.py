"""The one clock. Only this module reads wall time."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Source of the current time in milliseconds since the Unix epoch (UTC)."""

    def now_ms(self) -> int:
        """Return the current time in ms since the epoch."""
        ...


class WallClock:
    """Clock backed by the system's real-time clock."""

    def now_ms(self) -> int:
        """Return wall time in ms since the epoch."""
        return time.time_ns() // 1_000_000


class ReplayClock:
    """Clock driven by replayed event time; deterministic by construction.

    Parameters
    ----------
    start_ms:
        Initial time in ms since the epoch.

    Attributes
    ----------
    current_ms:
        The time in ms since the epoch. It only moves forward: :meth:`advance_to`, and the
        session loop, which applies the same rule inline (``if ts > clock.current_ms:
        clock.current_ms = ts``) to save a call per market event, are its only writers.
    """

    __slots__ = ("current_ms",)

    def __init__(self, start_ms: int = 0) -> None:
        self.current_ms = start_ms

    def now_ms(self) -> int:
        """Return the time of the last replayed event in ms."""
        return self.current_ms

    def advance_to(self, ts_ms: int) -> None:
        """Move the clock to ``ts_ms``; it never moves backwards."""
        if ts_ms > self.current_ms:
            self.current_ms = ts_ms


def monotonic_secs() -> float:
    """Return a monotonic wall-clock reading in seconds, for measuring durations only."""
    return time.perf_counter()


def wall_time_ms() -> int:
    """Return wall time in ms since the epoch (for artifacts, never for ledger content)."""
    return time.time_ns() // 1_000_000
