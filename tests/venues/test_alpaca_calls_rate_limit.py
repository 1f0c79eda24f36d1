"""Alpaca REST calls after an HTTP 429: nothing is sent on the key until ``X-RateLimit-Reset``."""

from __future__ import annotations

import pytest
import requests
from alpaca.common.exceptions import APIError

from livegate.domain.clock import ReplayClock
from livegate.domain.errors import Rejected, Retryable
from livegate.venues.alpaca.calls import AlpacaCalls, in_daemon_thread
from livegate.venues.alpaca.errors import AlpacaOp

T0_MS = 1_796_634_000_000  # a whole second


def _alpaca_429(reset_secs: int) -> APIError:
    response = requests.Response()
    response.status_code = 429
    response.headers.update({"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0",
                             "X-RateLimit-Reset": str(reset_secs)})  # fmt: skip
    body = '{"code": 42910000, "message": "rate limit exceeded"}'
    return APIError(body, requests.HTTPError(body, response=response))


async def test_alpaca_calls_when_429_then_refused_unsent_until_the_reset_second() -> None:
    clock = ReplayClock(T0_MS)
    calls = AlpacaCalls("fingerprint0", 1000, 2.0, 1, 0.0, clock)
    sent: list[str] = []

    def limited() -> None:
        sent.append("POST /v2/orders")
        raise _alpaca_429(T0_MS // 1000 + 2)

    with pytest.raises(Retryable) as first:
        await calls.call(AlpacaOp.SUBMIT, limited)
    assert first.value.retry_at_ms == T0_MS + 2_000 and first.value.code == "42910000"
    clock.advance_to(T0_MS + 1_999)
    with pytest.raises(Retryable) as refused:
        await calls.call(AlpacaOp.READ, lambda: sent.append("GET /v2/account"))
    assert refused.value.code == "RATE_LIMITED" and refused.value.retry_at_ms == T0_MS + 2_000
    assert sent == ["POST /v2/orders"]  # the read inside the window never left
    clock.advance_to(T0_MS + 2_000)
    assert await calls.call(AlpacaOp.READ, lambda: sent.append("GET /v2/account") or "ok") == "ok"
    assert sent == ["POST /v2/orders", "GET /v2/account"]


async def test_in_daemon_thread_when_call_returns_or_raises_then_awaiting_coroutine_sees_it() -> None:
    assert await in_daemon_thread(lambda a, b: a + b, 2, 3) == 5

    def refuse() -> None:
        raise Rejected("alpaca HTTP 422: qty must be >= 1", "42210000")

    with pytest.raises(Rejected, match="qty must be"):
        await in_daemon_thread(refuse)
