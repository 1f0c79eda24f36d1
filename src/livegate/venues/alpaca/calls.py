"""Every REST call of the Alpaca adapter: a worker thread, a timeout, the key's shared budget, errors translated once.

alpaca-py's REST client is synchronous (``requests``); every call runs in a worker thread
(:func:`asyncio.to_thread`) under a per-request timeout and the shared per-key budget of
:mod:`livegate.venues.rate_budget`, and its exceptions are translated once by
:func:`livegate.venues.alpaca.errors.translate_error`.

Quirks decided on purpose (docs/venues_equities.md):

* alpaca-py retries 429 and 504 inside ``_request`` by default, three times with a 3 s
  sleep, for every method including ``POST /v2/orders``. A retried submit under the same
  client order id turns an accepted order into a "client_order_id must be unique" 422, so
  :func:`trading_client` sets the client's retry count to 0; idempotent reads are retried
  here with tenacity instead (:meth:`AlpacaCalls.read`), and submits never are
  (docs/architecture.md §3.6).
* ``requests`` has no default timeout; a mounted transport adapter gives every request
  ``request_timeout_secs``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from alpaca.trading.client import TradingClient
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from livegate.domain.errors import Ambiguous, InvariantViolation, Retryable
from livegate.venues.alpaca.errors import AlpacaOp, translate_error
from livegate.venues.rate_budget import shared_limiter

__all__ = ["AlpacaCalls", "trading_client"]

T = TypeVar("T")


class _TimeoutTransport(requests.adapters.HTTPAdapter):
    """A ``requests`` transport that applies a default timeout and never retries."""

    def __init__(self, timeout_secs: float) -> None:
        super().__init__(max_retries=0)
        self._timeout_secs = timeout_secs

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout_secs
        return super().send(request, **kwargs)


def trading_client(
    api_key: str, secret_key: str, *, paper: bool, url_override: str | None, request_timeout_secs: float
) -> TradingClient:
    """Return alpaca-py's ``TradingClient`` with raw JSON, no SDK retries and a timeout on every request."""
    client = TradingClient(api_key, secret_key, paper=paper, raw_data=True, url_override=url_override)
    client._retry = 0  # no SDK retries: see the module docstring
    transport = _TimeoutTransport(request_timeout_secs)
    client._session.mount("https://", transport)
    client._session.mount("http://", transport)
    return client


class AlpacaCalls:
    """Run alpaca-py's sync calls for one API key: budgeted, timed out, read retries, errors translated.

    Parameters
    ----------
    key_id:
        Fingerprint of the API key (names the shared budget; never the key itself).
    rate_limit_per_min:
        Shared request budget of the key; Alpaca allows 200 requests per minute.
    timeout_secs:
        Timeout of one REST request (the worker thread waits 1 s longer).
    read_attempts, read_wait_secs:
        Tenacity attempts and first backoff for idempotent reads (never for submits).
    """

    def __init__(
        self, key_id: str, rate_limit_per_min: int, timeout_secs: float, read_attempts: int, read_wait_secs: float
    ) -> None:
        self._key_id = key_id
        self._rate_limit_per_min = rate_limit_per_min
        self._timeout_secs = timeout_secs
        self._read_attempts = read_attempts
        self._read_wait_secs = read_wait_secs

    async def call(self, op: AlpacaOp, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one sync alpaca-py call in a thread, under the budget and a timeout, translating errors."""
        async with shared_limiter("alpaca", self._key_id, self._rate_limit_per_min, 60.0):
            try:
                return await asyncio.wait_for(asyncio.to_thread(fn, *args), self._timeout_secs + 1.0)
            except Exception as exc:
                raise translate_error(exc, op) from exc

    async def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run an idempotent read, retrying rate limits and transient failures with backoff."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((Retryable, Ambiguous)),
            stop=stop_after_attempt(self._read_attempts),
            wait=wait_exponential(multiplier=self._read_wait_secs, max=10.0),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self.call(AlpacaOp.READ, fn, *args)
        raise InvariantViolation("tenacity ended without a result")  # pragma: no cover

    @staticmethod
    def parse(op: AlpacaOp, parse: Callable[..., T], *args: Any) -> T:
        """Return ``parse(*args)``; a malformed answer becomes the translated error of ``op``."""
        try:
            return parse(*args)
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise translate_error(ValueError(f"{type(exc).__name__}: {exc}"), op) from exc
