"""Alpaca error policy: every alpaca-py / requests failure is translated here, once.

docs/architecture.md §3.6 and §6, issue 5 item 4. The rules, by HTTP status of the Alpaca REST
answer (docs.alpaca.markets, "Orders" and "Authentication"):

* 401, and 403 without an Alpaca ``403xxxxx`` code (the body is ``{"message":
  "forbidden."}`` for a bad or revoked key) → :class:`Fatal`.
* 403 with an Alpaca code such as ``40310000`` ("insufficient buying power") or
  ``40310100`` (pattern day trader protection), and 400, 404, 409, 422 → :class:`Rejected`
  with the Alpaca code and message.
* 422 ``40010001`` "client_order_id must be unique" on a submit → :class:`Ambiguous`: the
  venue already holds an order under our id, so the engine must look it up, not mark it
  rejected.
* 429 → :class:`Retryable` (nothing was placed; back off).
* 5xx, timeouts, connection errors and unparseable bodies → :class:`Ambiguous`.
"""

from __future__ import annotations

import json
from enum import StrEnum

import requests
from alpaca.common.exceptions import APIError

from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable, VenueError

__all__ = ["DUPLICATE_CLIENT_ORDER_ID", "AlpacaOp", "api_error_body", "rate_limit_headers", "translate_error"]

#: Alpaca's code for a reused ``client_order_id`` (HTTP 422).
DUPLICATE_CLIENT_ORDER_ID = "40010001"


class AlpacaOp(StrEnum):
    """What the failed call was doing; only ``submit`` treats a duplicate id as ambiguous."""

    SUBMIT = "submit"
    CANCEL = "cancel"
    READ = "read"


def api_error_body(exc: APIError) -> tuple[str, str]:
    """Return (code, message) of an Alpaca error body; code ``""`` when the body has none."""
    text = str(exc)
    try:
        body = json.loads(text)
    except ValueError:
        return "", text[:200]
    if not isinstance(body, dict):
        return "", text[:200]
    code = body.get("code")
    return ("" if code is None else str(code)), str(body.get("message", text[:200]))


def rate_limit_headers(exc: BaseException) -> dict[str, str] | None:
    """Return the headers of an HTTP 429 answer alpaca-py raised as ``exc``; None for any other failure."""
    if not isinstance(exc, APIError) or _status(exc) != 429:
        return None
    headers = getattr(getattr(getattr(exc, "_http_error", None), "response", None), "headers", None)
    return {str(k): str(v) for k, v in headers.items()} if headers is not None else {}


def _status(exc: APIError) -> int:
    response = getattr(exc, "_http_error", None)
    response = getattr(response, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else 0


def translate_error(exc: BaseException, op: AlpacaOp) -> VenueError:
    """Return the livegate error for ``exc`` raised by an alpaca-py call doing ``op``.

    The caller raises it ``from exc``. Messages carry the venue's text, never a key.
    """
    if isinstance(exc, VenueError):
        return exc
    if isinstance(exc, APIError):
        status = _status(exc)
        code, message = api_error_body(exc)
        label = code or str(status)
        text = f"alpaca HTTP {status}: {message}"
        if status == 401:
            return Fatal(text, label)
        if status == 403:
            return Rejected(text, label) if code.startswith("403") else Fatal(text, label)
        if status == 429:
            return Retryable(text, label)
        if status >= 500 or status == 0:
            return Ambiguous(text, label)
        if op is AlpacaOp.SUBMIT and code == DUPLICATE_CLIENT_ORDER_ID:
            return Ambiguous(f"{text} (the venue already holds this client order id)", label)
        return Rejected(text, label)
    if isinstance(exc, TimeoutError | requests.Timeout):
        return Ambiguous(f"alpaca {op.value} timed out: {type(exc).__name__}", "timeout")
    if isinstance(exc, requests.ConnectionError):
        return Ambiguous(f"alpaca {op.value} connection failed: {type(exc).__name__}", "disconnect")
    if isinstance(exc, ValueError | KeyError | TypeError):
        return Ambiguous(f"alpaca {op.value} answer could not be parsed: {type(exc).__name__}", "parse")
    return Ambiguous(f"alpaca {op.value} failed: {type(exc).__name__}: {exc}", "unknown")
