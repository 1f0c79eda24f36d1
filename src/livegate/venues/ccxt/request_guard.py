"""Every HTTP request ccxt sends on livegate's behalf obeys the venue's weight budget.

The adapter's own calls (:meth:`~livegate.venues.ccxt.calls.CcxtCalls.call`) take their weight before they go.
ccxt also sends requests of its own: ccxt.pro asks for a listen key (Binance USD-M
``POST /fapi/v1/listenKey``) on every (re)connect of the private stream and keeps it
alive with ``PUT``. Sent inside a ``Retry-After`` window, such a request earns the IP a
ban (Binance Spot API "LIMITS": "Repeatedly violating rate limits and/or failing to back
off after receiving 429s will result in an automated IP ban (HTTP status 418)").
:func:`guard_requests` wraps the exchange's ``fetch`` (the one method every ccxt REST
request passes through) so that a request from outside the adapter's calls is refused
locally while a window or a ban runs, counts its weight otherwise, and reports the
answer's used-weight and ``Retry-After`` headers to the same budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import ccxt.async_support as ccxt_async

from livegate.venues.ccxt.errors import answer_status
from livegate.venues.rate_budget import WeightBudget

__all__ = ["adapter_call", "guard_requests"]

#: Weight counted for a request ccxt sends by itself (listen-key POST/PUT: 1 on USD-M, 2 on Spot).
_OWN_REQUEST_WEIGHT = 2

_IN_ADAPTER_CALL: ContextVar[bool] = ContextVar("livegate_ccxt_adapter_call", default=False)


@contextmanager
def adapter_call() -> Iterator[None]:
    """Mark the requests sent inside the block as the adapter's (their weight is already taken)."""
    token = _IN_ADAPTER_CALL.set(True)
    try:
        yield
    finally:
        _IN_ADAPTER_CALL.reset(token)


def guard_requests(
    exchange: Any,
    budget: Callable[[], WeightBudget | None],
    now_ms: Callable[[], int],
    name: str,
) -> None:
    """Route every request of ``exchange`` that the adapter did not send itself through ``budget``.

    Parameters
    ----------
    exchange:
        A ccxt async (or pro) exchange object; its ``fetch`` is replaced on the instance.
    budget:
        Returns the venue's shared :class:`WeightBudget` (None: the venue has none).
    now_ms:
        The session clock, ms since the epoch.
    name:
        The venue name for error messages, e.g. ``"ccxt:binanceusdm"``.

    Notes
    -----
    A refused request raises ccxt's ``RateLimitExceeded`` without touching the network, so
    ccxt.pro's reconnect logic backs off as it does for a venue 429.
    """
    inner = exchange.fetch

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        if _IN_ADAPTER_CALL.get():
            return await inner(url, method, headers, body)
        spent = budget()
        if spent is None:
            return await inner(url, method, headers, body)
        refused = spent.take(_OWN_REQUEST_WEIGHT, now_ms())
        if refused is not None:
            raise ccxt_async.RateLimitExceeded(f"{name}: not sent ({method} {url.split('?', 1)[0]}): {refused}")
        try:
            result = await inner(url, method, headers, body)
        except ccxt_async.BaseError as exc:
            status, code = answer_status(exc)
            spent.observe(status, _headers(exchange), now_ms(), code)
            raise
        spent.observe(200, _headers(exchange), now_ms())
        return result

    exchange.fetch = fetch


def _headers(exchange: Any) -> dict[str, str] | None:
    headers = exchange.last_response_headers
    return headers if isinstance(headers, dict) else None
