"""A small async pacer: at least ``interval_secs`` between two API calls.

IBKR limits API clients to 50 messages per second and disconnects clients that exceed it
(TWS API "Pacing"); livegate keeps a wider margin with 100 ms between requests (issue 5,
item 3). ib_async's own throttle (45 requests per second) stays on underneath.
"""

from __future__ import annotations

import asyncio

from livegate.domain.clock import monotonic_secs

__all__ = ["ApiPacer"]


class ApiPacer:
    """Space calls at least ``interval_secs`` apart, in arrival order.

    Parameters
    ----------
    interval_secs:
        Minimum spacing between two calls, in seconds (0.1 for IBKR).
    """

    def __init__(self, interval_secs: float = 0.1) -> None:
        self.interval_secs = interval_secs
        self._last = -1e18
        self._lock: asyncio.Lock | None = None

    async def wait(self) -> None:
        """Return once the interval since the previous call has passed."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            delay = self._last + self.interval_secs - monotonic_secs()
            if delay > 0:
                await asyncio.sleep(delay)
            self._last = monotonic_secs()
