"""Every REST request of the ccxt adapter: rate and weight budgets, read retries, errors translated once.

Each call takes a token from a rate budget shared per venue and API key
(:func:`livegate.venues.rate_budget.shared_limiter`) and its request weight from the
venue's weight budget; every ccxt exception is translated once, here, through
:mod:`livegate.venues.ccxt.errors`. Idempotent reads (:meth:`CcxtCalls.read`) are retried
with tenacity on Retryable/Ambiguous; a submit (:meth:`CcxtCalls.call`) is never retried
(docs/architecture.md §3.6).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import ccxt.async_support as ccxt_async
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from livegate.domain.clock import Clock
from livegate.domain.errors import Ambiguous, Retryable, VenueError
from livegate.venues.ccxt.config import CcxtConfig, CcxtCredentials
from livegate.venues.ccxt.errors import answer_status, translate
from livegate.venues.ccxt.request_guard import adapter_call
from livegate.venues.rate_budget import (
    DEFAULT_WEIGHT_PER_MIN,
    WeightBudget,
    in_halt,
    shared_limiter,
    shared_weight_budget,
)

__all__ = ["CcxtCalls"]

_CcxtError: Any = ccxt_async.BaseError
_OrderNotFound: Any = ccxt_async.OrderNotFound
#: Request weights of Binance endpoints by ccxt method (Binance Spot API, each endpoint's
#: "Weight"; USD-M's are equal or lower): GET /api/v3/order 4, GET /api/v3/openOrders 6 with
#: a symbol and 80 without, GET /api/v3/account 20, GET /api/v3/myTrades 20, GET /api/v3/allOrders 20,
#: GET /api/v3/exchangeInfo 20, order and cancel endpoints 1.
_WEIGHTS: dict[str, int] = {
    "fetch_order": 4,
    "fetch_closed_orders": 20,
    "fetch_orders": 20,
    "fetch_balance": 20,
    "fetch_my_trades": 20,
    "fetch_positions": 5,
    "load_markets": 20,
}


class CcxtCalls:
    """Send one ccxt exchange's requests within the rate and weight budgets of its venue account.

    Parameters
    ----------
    exchange:
        The ccxt async (or pro) exchange object.
    config:
        Exchange id, read retries and backoff, ``rate_weight_per_min``.
    credentials:
        The API key whose fingerprint names the shared budgets.
    clock:
        Source of budget times (ms since the epoch).
    name:
        The venue name for error messages, e.g. ``"ccxt:binanceusdm"``.
    rate_per_sec:
        Requests per second of the shared rate budget.
    """

    def __init__(
        self,
        exchange: Any,
        config: CcxtConfig,
        credentials: CcxtCredentials,
        clock: Clock,
        name: str,
        rate_per_sec: float,
    ) -> None:
        self.exchange = exchange
        self._config = config
        self._credentials = credentials
        self._clock = clock
        self.name = name
        self._exchange_id = config.exchange_id
        self._rate_per_sec = rate_per_sec

    async def call(self, fn: Callable[..., Awaitable[Any]], *args: Any, not_found_ok: bool = False) -> Any:
        """Send one request within the rate and weight budgets; translate its errors once.

        Raises
        ------
        Retryable
            Not sent: the weight budget is spent, a ``Retry-After`` window or an IP ban
            runs (code ``RATE_BUDGET``); or the venue answered 429.
        Fatal, Rejected, Ambiguous
            Translated venue errors (see :mod:`livegate.venues.ccxt.errors`).
        """
        limiter = shared_limiter(self._exchange_id, self._credentials.fingerprint(), self._rate_per_sec, 1.0)
        budget = self.weight_budget()
        async with limiter:
            if budget is not None:
                name = getattr(fn, "__name__", "")
                now = self._clock.now_ms()
                cancel = name in _CANCELS or in_halt()  # a halt's reads too (rate_budget.halt_requests)
                refused = budget.take(_weight(fn, args), now, cancel=cancel, new_order=name == "create_order")
                if refused is not None:
                    raise Retryable(
                        f"{self.name}: not sent: {refused}", "RATE_BUDGET", retry_at_ms=_retry_at(budget, now)
                    )
            try:
                with adapter_call():
                    result = await fn(*args)
            except _OrderNotFound as exc:
                self._observe(budget, 400)
                if not_found_ok:
                    return None
                raise self.translate(exc) from exc
            except _CcxtError as exc:
                status, code = answer_status(exc)
                self._observe(budget, status, code)
                error = self.translate(exc)
                if budget is not None and status is not None:
                    error.retry_at_ms = _retry_at(budget, self._clock.now_ms())
                raise error from exc
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                # ccxt's own parser failed on the venue's answer: the outcome is unknown
                raise Ambiguous(
                    f"{self.name}: unparsable answer: {type(exc).__name__}: {exc}", "PARSE_FAILURE"
                ) from exc
            self._observe(budget, 200)
            return result

    def weight_budget(self) -> WeightBudget | None:
        """Return the request-weight budget: ``[venue] rate_weight_per_min``, else the venue's published limit."""
        limit = self._config.rate_weight_per_min or DEFAULT_WEIGHT_PER_MIN.get(self._exchange_id)
        if limit is None:
            return None
        return shared_weight_budget(self._exchange_id, self._credentials.fingerprint(), limit)

    def _observe(self, budget: WeightBudget | None, status: int | None, code: int | None = None) -> None:
        if budget is None:
            return
        headers = self.exchange.last_response_headers
        budget.observe(status, headers if isinstance(headers, dict) else None, self._clock.now_ms(), code)

    async def read(self, fn: Callable[..., Awaitable[Any]], *args: Any, not_found_ok: bool = False) -> Any:
        """Send an idempotent read with :meth:`call`, retried with tenacity on Retryable and Ambiguous.

        Raises
        ------
        Retryable, Ambiguous
            The last attempt's error once ``read_retry_attempts`` are spent.
        Fatal, Rejected
            Translated venue errors (never retried).
        """
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((Retryable, Ambiguous)),
            stop=stop_after_attempt(max(1, self._config.read_retry_attempts)),
            wait=wait_exponential(multiplier=self._config.read_backoff_secs, max=30),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self.call(fn, *args, not_found_ok=not_found_ok)
        raise Ambiguous(f"{self.name}: read retries exhausted")  # pragma: no cover - reraise=True

    def translate(self, exc: Exception) -> VenueError:
        """Return the livegate error for ccxt exception ``exc`` (:func:`livegate.venues.ccxt.errors.translate`)."""
        return translate(
            exc,
            venue=self.name,
            last_body=getattr(self.exchange, "last_json_response", None),
            exchange_id=self._exchange_id,
        )


_CANCELS = frozenset({"cancel_order", "cancel_all_orders"})


def _retry_at(budget: WeightBudget, now_ms: int) -> int | None:
    """Return when the budget lets a request go again (a Retry-After window or a ban), None when it does now."""
    wait = budget.wait_ms(now_ms)
    return now_ms + wait if wait else None


def _weight(fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> int:
    """Return the request weight of ccxt method ``fn`` called with ``args`` (see ``_WEIGHTS``)."""
    name = getattr(fn, "__name__", "")
    if name == "fetch_open_orders":
        return 6 if args and args[0] else 80
    return _WEIGHTS.get(name, 1)
