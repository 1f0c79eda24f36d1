"""The faults the Alpaca emulator can inject, armed by tests and consumed by the venue's handlers.

* a submit whose answer comes after the client's timeout (the order is placed);
* a submit refused with an Alpaca error body (nothing placed);
* ``trade_updates`` events never sent, or sent again after an order's fill;
* HTTP 429 rate limiting: Alpaca answers 429 ``{"code": 42910000, "message": "rate
  limit exceeded"}`` and sends ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
  ``X-RateLimit-Reset`` (the Unix time, in whole seconds, when the window resets; "do
  not retry before the time indicated by X-RateLimit-Reset", docs.alpaca.markets "Rate
  Limits"); every REST request of the window is refused, whatever its endpoint;
* streams down: every websocket closed and reconnects refused (HTTP 503) until restored;
* read lag: an order is not found by ``GET /v2/orders/{id}`` and
  ``GET /v2/orders:by_client_order_id`` (404 ``40410000``) for a while after it was
  accepted, as the venue's order lookups catch up with its order entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.alpaca_emulator.wire import error

__all__ = ["RATE_LIMIT_CODE", "AlpacaFaults"]

#: Alpaca's error code of an HTTP 429 answer.
RATE_LIMIT_CODE = 42910000
#: Requests per minute of an Alpaca trading API key (docs.alpaca.markets, "Rate Limits").
RATE_LIMIT_PER_MIN = 200


@dataclass
class AlpacaFaults:
    """Armed faults of one emulated venue (each consumed as it fires)."""

    hang_secs: float | None = None
    fail: tuple[int, dict[str, Any]] | None = None
    lose: int = 0
    replay_orders: int = 0
    replay_times: int = 0
    lookup_lag_secs: float = 0.0
    streams_down: bool = False
    rate_limit_next_submit_secs: float | None = None
    rate_limited_until: float = 0.0
    #: How many lookups answered 404 for an order the venue holds (read lag).
    lagged_lookups: int = 0
    #: (time, method, path) of every request answered 429.
    rate_limited: list[tuple[float, str, str]] = field(default_factory=list)

    def take_hang(self) -> float | None:
        """Return the armed hang of the next submit answer (seconds) and disarm it."""
        hang, self.hang_secs = self.hang_secs, None
        return hang

    def take_fail(self) -> tuple[int, dict[str, Any]] | None:
        """Return the armed refusal of the next submit (status, body) and disarm it."""
        fail, self.fail = self.fail, None
        return fail

    def take_lost(self) -> bool:
        """Return True when the next ``trade_updates`` event is to be lost (counting it)."""
        if self.lose <= 0:
            return False
        self.lose -= 1
        return True

    def hidden(self, accepted_at: float, now: float) -> bool:
        """Return True while an order accepted at ``accepted_at`` is still invisible to lookups (counting it)."""
        if now - accepted_at >= self.lookup_lag_secs:
            return False
        self.lagged_lookups += 1
        return True

    def rate_limit(self, request: web.Request, now: float) -> web.Response | None:
        """Return the 429 answer of ``request`` while a rate-limit window runs, else None.

        An armed :attr:`rate_limit_next_submit_secs` opens the window on the next
        ``POST /v2/orders``; the window ends on a whole second (``X-RateLimit-Reset``).
        """
        if self.rate_limit_next_submit_secs is not None and (request.method, request.path) == ("POST", "/v2/orders"):
            self.rate_limited_until = math.ceil(now + self.rate_limit_next_submit_secs)
            self.rate_limit_next_submit_secs = None
        if now >= self.rate_limited_until:
            return None
        self.rate_limited.append((now, request.method, request.path))
        headers = {
            "X-RateLimit-Limit": str(RATE_LIMIT_PER_MIN),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(self.rate_limited_until)),
        }
        return error(429, RATE_LIMIT_CODE, "rate limit exceeded", headers)
