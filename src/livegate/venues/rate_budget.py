"""Shared request budgets: one :class:`aiolimiter.AsyncLimiter` per venue and API key.

Every client of one venue account draws from the same budget (issue 5, item 4), so two
adapters (or an adapter and its stream bootstrap) on one key cannot together exceed the
venue's published rate. Keys are stored as a short SHA-256 fingerprint, never in clear.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter

__all__ = [
    "DEFAULT_WEIGHT_PER_MIN",
    "RateLimitWindow",
    "WeightBudget",
    "halt_requests",
    "in_halt",
    "key_fingerprint",
    "shared_limiter",
    "shared_rate_limit_window",
    "shared_weight_budget",
]

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


_HALT: ContextVar[bool] = ContextVar("livegate_halt_requests", default=False)


@contextmanager
def halt_requests() -> Iterator[None]:
    """Mark the venue requests sent inside the block (and the tasks it starts) as a halt's.

    A halt's cancels and the reads they need (the open orders a cancel-all reads first,
    the reads that confirm none is left) take their weight like a cancel: from the whole
    limit, not only :attr:`WeightBudget.headroom` of it. The session's own reads (a
    reconciliation every few seconds) can spend the headroom; the rest is kept for this.
    """
    token = _HALT.set(True)
    try:
        yield
    finally:
        _HALT.reset(token)


def in_halt() -> bool:
    """Return True inside :func:`halt_requests`."""
    return _HALT.get()


#: Request-weight limits per minute of the exchanges livegate knows, in the venue's own
#: weight units. Binance Spot: REQUEST_WEIGHT 6000 per minute (GET /api/v3/exchangeInfo
#: ``rateLimits``); USD-M Futures: 2400 per minute (GET /fapi/v1/exchangeInfo ``rateLimits``).
DEFAULT_WEIGHT_PER_MIN: dict[str, int] = {"binance": 6000, "binanceusdm": 2400, "binancecoinm": 2400}
#: Header in which Binance reports the weight the IP has used in the current minute
#: (Binance Spot API "LIMITS": ``X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter)``).
USED_WEIGHT_HEADER = "x-mbx-used-weight-1m"
_MINUTE_MS = 60_000
#: Binance "Too many new orders" (Spot and USD-M "Error codes" -1015): the order-rate limit.
ORDER_RATE_CODE = -1015
_ORDER_WINDOW_MS = 10_000


@dataclass(slots=True)
class WeightBudget:
    """A venue's request-weight budget: counted locally, corrected by the venue's headers.

    One per (venue, key) and event loop (:func:`shared_weight_budget`). Before a request
    :meth:`take` refuses, without sending anything, when the request would take the
    minute's used weight above ``limit_per_min x headroom``, while a ``Retry-After``
    window runs, and while an IP ban runs. After every answer :meth:`observe` reads
    ``X-MBX-USED-WEIGHT-1M`` (the venue's own count wins over ours when larger) and, on
    HTTP 429 or 418, ``Retry-After`` (Binance: "a Retry-After header is sent with a 418
    or 429 response and gives the number of seconds required to wait, in the case of a
    429, to prevent a ban, or, in the case of a 418, until the ban is over"; Binance Spot
    API "LIMITS"). A 429 with Binance code -1015 ("Too many new orders") is the
    account's order-rate limit, not the IP's request weight: it stops only new orders
    until its ``Retry-After`` (else the next 10 s window, the shortest ``ORDERS``
    interval in ``exchangeInfo``), never the cancels and reads that a halt needs
    (Binance Spot API "LIMITS", "Unfilled Order Count").

    Parameters
    ----------
    limit_per_min:
        The venue's request-weight limit per minute, in its own weight units.
    headroom:
        Fraction of the limit livegate allows itself (default 0.8): the rest is left for
        other clients on the same IP and for cancels during a halt.
    """

    limit_per_min: int
    headroom: float = 0.8
    used: int = 0
    window_start_ms: int = 0
    blocked_until_ms: int = 0
    banned_until_ms: int = 0
    orders_blocked_until_ms: int = 0
    rate_limited: int = field(default=0)

    def take(self, weight: int, now_ms: int, *, cancel: bool = False, new_order: bool = False) -> str | None:
        """Count ``weight`` for a request about to be sent; return why it must not be sent, else None.

        Parameters
        ----------
        weight:
            The endpoint's request weight (e.g. Binance ``POST /api/v3/order``: 1).
        now_ms:
            Current time, ms since the epoch.
        cancel:
            A cancel may use the whole limit, not only ``headroom`` of it (the rest is kept
            for cancels); a ``Retry-After`` window or a ban stops cancels too.
        new_order:
            The request places an order: also refused while an order-rate (-1015) window runs.

        Returns
        -------
        str | None
            ``"banned until <ms>"``, ``"rate limited until <ms>"`` or ``"weight budget
            <used>+<weight> > <cap> until <ms>"``; None when the request may go.
        """
        self._roll(now_ms)
        if now_ms < self.banned_until_ms:
            return f"IP banned until {self.banned_until_ms}"
        if now_ms < self.blocked_until_ms:
            return f"rate limited (Retry-After) until {self.blocked_until_ms}"
        if new_order and now_ms < self.orders_blocked_until_ms:
            return f"order rate limited (-1015) until {self.orders_blocked_until_ms}"
        cap = self.limit_per_min if cancel else int(self.limit_per_min * self.headroom)
        if self.used + weight > cap:
            return f"weight budget {self.used}+{weight} > {cap} until {self.window_start_ms + _MINUTE_MS}"
        self.used += weight
        return None

    def observe(self, status: int | None, headers: dict[str, str] | None, now_ms: int, code: int | None = None) -> None:
        """Read the venue's used weight and, on 429/418, ``Retry-After`` from an answer's headers.

        ``code`` is the venue's error code of the answer, if any (-1015: order rate only).
        """
        self._roll(now_ms)
        lowered = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        used = _int_or_none(lowered.get(USED_WEIGHT_HEADER))
        if used is not None and used > self.used:
            self.used = used
        if status not in (418, 429):
            return
        self.rate_limited += 1
        retry_after = _int_or_none(lowered.get("retry-after"))
        if status == 429 and code == ORDER_RATE_CODE:
            window_end = now_ms - now_ms % _ORDER_WINDOW_MS + _ORDER_WINDOW_MS
            until = now_ms + retry_after * 1000 if retry_after is not None else window_end
            self.orders_blocked_until_ms = max(self.orders_blocked_until_ms, until)
            return
        # without a Retry-After: wait out the current minute window (the weight limit's interval)
        until = now_ms + retry_after * 1000 if retry_after is not None else self.window_start_ms + _MINUTE_MS
        if status == 418:
            self.banned_until_ms = max(self.banned_until_ms, until)
        self.blocked_until_ms = max(self.blocked_until_ms, until)

    def wait_ms(self, now_ms: int) -> int:
        """Return how long, in ms, no request may be sent (0 when one may)."""
        return max(0, self.blocked_until_ms - now_ms, self.banned_until_ms - now_ms)

    def _roll(self, now_ms: int) -> None:
        start = now_ms - now_ms % _MINUTE_MS
        if start != self.window_start_ms:
            self.window_start_ms = start
            self.used = 0


_WEIGHTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], WeightBudget]] = (
    weakref.WeakKeyDictionary()
)


def shared_weight_budget(venue: str, key_id: str, limit_per_min: int) -> WeightBudget:
    """Return the weight budget of (``venue``, ``key_id``) on the running loop, creating it once.

    Binance counts request weight per IP and order counts per account; one budget per
    key is the closest a single process can come. Call it from a coroutine.
    """
    budgets = _WEIGHTS.setdefault(asyncio.get_running_loop(), {})
    budget = budgets.get((venue, key_id))
    if budget is None:
        budget = budgets[(venue, key_id)] = WeightBudget(limit_per_min)
    return budget


#: First back-off after an HTTP 429 that names no reset time, and its cap (doubling per 429 in a row), in ms.
BACKOFF_FIRST_MS = 1_000
BACKOFF_MAX_MS = 60_000


@dataclass(slots=True)
class RateLimitWindow:
    """The time before which a venue that answered HTTP 429 gets no request of this key.

    :meth:`observe_429` reads the answer's reset time: ``X-RateLimit-Reset`` (Unix
    seconds when the venue's window resets; Alpaca: "when you receive a 429, stop, wait
    ... do not retry before the time indicated by X-RateLimit-Reset", docs.alpaca.markets
    "Rate Limits") or ``Retry-After`` (seconds, RFC 9110 §10.2.3). Without either, it
    backs off exponentially: ``BACKOFF_FIRST_MS`` doubling per 429 in a row up to
    ``BACKOFF_MAX_MS``; any other answer resets the doubling (:meth:`observe_answer`).
    """

    until_ms: int = 0
    strikes: int = 0
    rate_limited: int = 0

    def wait_ms(self, now_ms: int) -> int:
        """Return how long, in ms, no request may be sent (0 when one may)."""
        return max(0, self.until_ms - now_ms)

    def observe_429(self, headers: dict[str, str] | None, now_ms: int) -> int:
        """Record an HTTP 429 answer read at ``now_ms``; return the end of the window (ms since the epoch)."""
        self.rate_limited += 1
        lowered = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        reset = _int_or_none(lowered.get("x-ratelimit-reset"))
        retry_after = _int_or_none(lowered.get("retry-after"))
        if reset is not None and reset * 1000 > now_ms:
            until = reset * 1000
        elif retry_after is not None:
            until = now_ms + retry_after * 1000
        else:
            until = now_ms + min(BACKOFF_FIRST_MS * 2**self.strikes, BACKOFF_MAX_MS)
        self.strikes += 1
        self.until_ms = max(self.until_ms, until)
        return self.until_ms

    def observe_answer(self) -> None:
        """Record an answer that was not a 429 (the exponential back-off starts over)."""
        self.strikes = 0


_WINDOWS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], RateLimitWindow]] = (
    weakref.WeakKeyDictionary()
)


def shared_rate_limit_window(venue: str, key_id: str) -> RateLimitWindow:
    """Return the HTTP 429 window of (``venue``, ``key_id``) on the running loop, creating it once.

    Every client of one venue account waits out the same window. Call it from a coroutine.
    """
    windows = _WINDOWS.setdefault(asyncio.get_running_loop(), {})
    window = windows.get((venue, key_id))
    if window is None:
        window = windows[(venue, key_id)] = RateLimitWindow()
    return window


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None
