"""Every REST call of the Alpaca adapter: a worker thread, a timeout, the key's shared budget, errors translated once.

alpaca-py's REST client is synchronous (``requests``); every call runs in a daemon worker
thread (:func:`in_daemon_thread`) under a per-request timeout and the shared per-key budget of
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
* After an HTTP 429 nothing is sent on the key until Alpaca's ``X-RateLimit-Reset``
  (:class:`~livegate.venues.rate_budget.RateLimitWindow`, shared per key): a call inside
  the window raises :class:`Retryable` (code ``RATE_LIMITED``, ``retry_at_ms`` the window's
  end) without reaching Alpaca, so a submit is a definite "not placed"; a read's retries
  inside the window are refused the same way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from alpaca.trading.client import TradingClient
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from livegate.domain.clock import Clock
from livegate.domain.errors import Ambiguous, InvariantViolation, Retryable
from livegate.venues.alpaca.errors import AlpacaOp, rate_limit_headers, translate_error
from livegate.venues.rate_budget import RateLimitWindow, shared_limiter, shared_rate_limit_window

__all__ = ["AlpacaCalls", "in_daemon_thread", "trading_client"]

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


async def in_daemon_thread(fn: Callable[..., T], *args: Any) -> T:
    """Return ``fn(*args)`` run in a new daemon thread (its exception raised here).

    Not :func:`asyncio.to_thread`: the default executor's threads are joined when the
    loop and the interpreter end, so a request still waiting for Alpaca (a submit whose
    answer hangs) would hold a stopping process until the request's own timeout, after
    the session has cancelled and confirmed everything. A daemon thread is left behind.
    Alpaca allows 200 requests a minute: a thread per request costs nothing that matters.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def work() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the awaiting coroutine, raised there
            error = exc
            deliver = lambda: settle(lambda: future.set_exception(error))  # noqa: E731
        else:
            deliver = lambda: settle(lambda: future.set_result(result))  # noqa: E731
        try:
            loop.call_soon_threadsafe(deliver)
        except RuntimeError:  # the loop closed meanwhile: nobody waits for this answer
            return

    threading.Thread(target=work, name="alpaca-rest", daemon=True).start()
    return await future


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
    clock:
        Wall clock (ms since the epoch) to compare with Alpaca's ``X-RateLimit-Reset``.
    """

    def __init__(
        self,
        key_id: str,
        rate_limit_per_min: int,
        timeout_secs: float,
        read_attempts: int,
        read_wait_secs: float,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._key_id = key_id
        self._rate_limit_per_min = rate_limit_per_min
        self._timeout_secs = timeout_secs
        self._read_attempts = read_attempts
        self._read_wait_secs = read_wait_secs

    async def call(self, op: AlpacaOp, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one sync alpaca-py call in a thread, under the budget and a timeout, translating errors.

        Raises
        ------
        Retryable
            Not sent: an HTTP 429 window of the key runs (code ``RATE_LIMITED``); or
            Alpaca answered 429 (its ``retry_at_ms`` is the window's end).
        Rejected, Ambiguous, Fatal
            As :func:`~livegate.venues.alpaca.errors.translate_error`.
        """
        window = self._window()
        async with shared_limiter("alpaca", self._key_id, self._rate_limit_per_min, 60.0):
            now = self._clock.now_ms()
            if window.wait_ms(now):
                raise Retryable(
                    f"alpaca {op.value}: not sent: rate limited (HTTP 429) until {window.until_ms} ms",
                    "RATE_LIMITED",
                    retry_at_ms=window.until_ms,
                )
            try:
                result = await asyncio.wait_for(in_daemon_thread(fn, *args), self._timeout_secs + 1.0)
            except Exception as exc:
                error = translate_error(exc, op)
                headers = rate_limit_headers(exc)
                if headers is not None:
                    error.retry_at_ms = window.observe_429(headers, self._clock.now_ms())
                else:
                    window.observe_answer()
                raise error from exc
            window.observe_answer()
            return result

    def _window(self) -> RateLimitWindow:
        return shared_rate_limit_window("alpaca", self._key_id)

    async def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run an idempotent read, retrying rate limits and transient failures with backoff.

        The waits are not stretched to an HTTP 429 window's end (a read may be awaited by
        the session's timer): an attempt inside the window is refused unsent.
        """
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
