"""Backoff of the halt routine's venue calls (issue 10 §3f).

A halt cancels everything and must confirm that nothing is left open, whatever the
venue does: cancels that fail, a 429, a ban. Its callers loop until the venue confirms
none open, so the engine paces each venue's cancel-all and open-order reads here:
after a failure, or while orders are still open, the next attempt waits
``base_secs x 2^n`` (capped at ``max_secs``). With the request-weight budget of the
adapter (:class:`~livegate.venues.rate_budget.WeightBudget`) refusing unsent what would
break the venue's limit, a halt can no longer burn the budget into a 429 and a ban.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from livegate.domain.clock import monotonic_secs

__all__ = ["HaltBackoff"]


@dataclass(slots=True)
class HaltBackoff:
    """Per-venue exponential backoff of halt attempts (wall-clock seconds, monotonic).

    Parameters
    ----------
    base_secs:
        Wait after the first failed or unconfirmed attempt (default 0.05 s).
    max_secs:
        Largest wait (default 5 s: Binance's weight window is 60 s; a cancel-all and an
        open-order read weigh 1 + 6..80 units of 6000).
    """

    base_secs: float = 0.05
    max_secs: float = 5.0
    _failures: dict[str, int] = field(default_factory=dict)
    _next_ok: dict[str, float] = field(default_factory=dict)

    async def wait(self, venue: str) -> None:
        """Sleep until the next attempt on ``venue`` is due."""
        delay = self._next_ok.get(venue, 0.0) - monotonic_secs()
        if delay > 0:
            await asyncio.sleep(delay)

    def failed(self, venue: str) -> float:
        """Record a failed or unconfirmed attempt on ``venue``; return the next wait in seconds."""
        n = self._failures.get(venue, 0)
        self._failures[venue] = n + 1
        delay: float = min(self.base_secs * 2**n, self.max_secs)
        self._next_ok[venue] = monotonic_secs() + delay
        return delay

    def succeeded(self, venue: str) -> None:
        """Reset ``venue``'s backoff after a confirmed attempt."""
        self._failures.pop(venue, None)
        self._next_ok.pop(venue, None)
