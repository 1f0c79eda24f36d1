"""Shared request budgets: one :class:`aiolimiter.AsyncLimiter` per venue and API key.

Every client of one venue account draws from the same budget (issue 5, item 4), so two
adapters (or an adapter and its stream bootstrap) on one key cannot together exceed the
venue's published rate. Keys are stored as a short SHA-256 fingerprint, never in clear.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref

from aiolimiter import AsyncLimiter

__all__ = ["key_fingerprint", "shared_limiter"]

# aiolimiter limiters belong to one event loop, so budgets are kept per running loop.
_BUDGETS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, float, float], AsyncLimiter]] = (
    weakref.WeakKeyDictionary()
)


def key_fingerprint(api_key: str) -> str:
    """Return a 12-hex-digit SHA-256 fingerprint of ``api_key`` (safe to log)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


def shared_limiter(venue: str, key_id: str, max_rate: float, time_period_secs: float) -> AsyncLimiter:
    """Return the limiter of (``venue``, ``key_id``) on the running loop, creating it once.

    Call it from a coroutine.

    Parameters
    ----------
    venue:
        Venue name, e.g. ``"alpaca"``.
    key_id:
        :func:`key_fingerprint` of the account key the budget belongs to.
    max_rate, time_period_secs:
        At most ``max_rate`` requests per ``time_period_secs`` seconds, e.g. Alpaca's
        200 requests per 60 s per key (docs.alpaca.markets, "Rate limit").
    """
    budgets = _BUDGETS.setdefault(asyncio.get_running_loop(), {})
    key = (venue, key_id, float(max_rate), float(time_period_secs))
    limiter = budgets.get(key)
    if limiter is None:
        limiter = budgets[key] = AsyncLimiter(max_rate, time_period_secs)
    return limiter
