"""Confirm at the venues that no order is left open after a cancel-all (issue 10 §3f).

A halt, a stop signal and the end of a venue session all end the same way: send
cancel-all, then read the venues' open orders until none is left or a timeout passes.
A venue that has told livegate to stay away (a 429's ``Retry-After``, a 418 IP ban with
its end) takes no request before then; when the session is ending and that end is near,
waiting for it beats leaving orders working at the venue.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from livegate.domain.clock import Clock, monotonic_secs

__all__ = ["CONFIRM_POLL_SECS", "CancelAllVenues", "confirm_none_open"]

#: Wall seconds between two confirmation rounds (each round is paced further by the
#: engine's halt backoff and the venues' rate budgets).
CONFIRM_POLL_SECS = 0.005


class CancelAllVenues(Protocol):
    """What confirmation needs of the execution engine."""

    async def halt_all_venues(self, reason: str) -> int:
        """Send cancel-all (or one cancel per working order) to every venue."""
        ...

    async def venue_open_order_count(self, *, after_halt: bool = False) -> int:
        """Return how many orders the venues report open (unknown counts as open)."""
        ...

    def venue_blocked_until_ms(self) -> int:
        """Return the latest known end of a venue's Retry-After window or ban, else 0."""
        ...

    def halt_wait_max_secs(self) -> float:
        """Return the longest wait of the halt backoff before a venue may be called again (0.0: none)."""
        ...


async def confirm_none_open(
    engine: CancelAllVenues,
    reason: str,
    started: float,
    timeout_ms: int,
    *,
    clock: Clock,
    ban_wait_max_ms: int | None = None,
) -> int:
    """Repeat cancel-all until the venues report none open or the wait ends; return how many remain.

    The wait is a bound: an attempt the halt backoff would only start after the deadline
    (a venue that keeps failing, e.g. unreachable: the backoff doubles to 5 s) is not
    made, so a stop never overruns ``timeout_ms`` by the backoff.

    Parameters
    ----------
    engine:
        The execution engine.
    reason:
        Recorded with every cancel request.
    started:
        Monotonic seconds when the first cancel-all was sent.
    timeout_ms:
        Wall milliseconds to wait from ``started``.
    clock:
        The session clock (venue block ends are in its ms since the epoch).
    ban_wait_max_ms:
        When not None (the session is ending): a venue block that ends at most this many
        ms from now extends the wait to its end plus ``timeout_ms``, and the rounds sleep
        through it instead of polling (``[shutdown] ban_wait_max_ms``).
    """
    remaining = await engine.venue_open_order_count(after_halt=True)
    deadline = started + timeout_ms / 1000
    while remaining:
        blocked_ms = engine.venue_blocked_until_ms() - clock.now_ms()
        if ban_wait_max_ms is not None and 0 < blocked_ms <= ban_wait_max_ms:
            deadline = max(deadline, monotonic_secs() + (blocked_ms + timeout_ms) / 1000)
        if monotonic_secs() >= deadline:
            break
        pause = CONFIRM_POLL_SECS
        if ban_wait_max_ms is not None and blocked_ms > 0:  # nothing may be sent before the block ends
            pause = max(pause, min(blocked_ms / 1000, deadline - monotonic_secs()))
        if monotonic_secs() + max(pause, engine.halt_wait_max_secs()) >= deadline:
            break  # the next attempt would only start after the wait ends: stop now, unconfirmed
        await asyncio.sleep(pause)
        await engine.halt_all_venues(reason)
        if monotonic_secs() + engine.halt_wait_max_secs() >= deadline:
            break  # the venue backs off past the deadline (it keeps failing): its orders stay unconfirmed
        remaining = await engine.venue_open_order_count(after_halt=True)
    return remaining
