"""Translate ccxt exceptions once into livegate's four venue errors (DESIGN.md §6, §3.6).

The table is ordered: the first ccxt class that matches wins, so subclasses come before
their bases (ccxt's ``RateLimitExceeded`` is a ``NetworkError``, ``OrderNotFound`` an
``InvalidOrder``, ``AccountSuspended`` an ``AuthenticationError``).

=============================================  ==========  =================================
ccxt class                                     ours        why
=============================================  ==========  =================================
AuthenticationError, PermissionDenied,         Fatal       a human must fix keys or account
AccountSuspended, AccountNotEnabled
DDoSProtection whose text says "ban"           Fatal       IP ban (Binance HTTP 418)
"User or API Wallet ... does not exist"        Fatal       Hyperliquid: wallet not approved
RateLimitExceeded, DDoSProtection              Retryable   back off; reads only are retried
DuplicateOrderId                               Ambiguous   the venue already has this id:
                                                           look it up, never resend blindly
InvalidNonce                                   Rejected    the venue refused the request
RequestTimeout, ExchangeNotAvailable,          Ambiguous   outcome unknown (timeout, 5xx,
NetworkError, BadResponse, NullResponse                    disconnect, unparsable body)
InsufficientFunds, InvalidOrder, OrderNotFound Rejected    definite refusal with a code
BadSymbol, BadRequest, ArgumentsRequired,
NotSupported, OperationRejected, ExchangeError
any other ccxt BaseError                       Ambiguous   unknown: fail towards lookup
=============================================  ==========  =================================
"""

from __future__ import annotations

import json
import re
from typing import Any

import ccxt.async_support as ccxt_async

from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable, VenueError

__all__ = ["CcxtBaseError", "translate", "venue_code"]

CcxtBaseError: type[Exception] = ccxt_async.BaseError

#: ccxt texts that ccxt files under a definite-refusal class but that mean the account or
#: key is unusable: Hyperliquid's "User or API Wallet 0x... does not exist" (ccxt: InvalidOrder)
#: is an unapproved or wrong agent wallet.
_FATAL_TEXT_RE = re.compile(r"User or API Wallet .* does not exist", re.IGNORECASE)
_BAN_RE = re.compile(r"\bban(ned)?\b|\bIP\b.*\b(block|ban)", re.IGNORECASE)
_CODE_KEYS = ("code", "error_code", "errorCode", "err_code", "retCode", "error")

_TABLE: tuple[tuple[Any, type[VenueError]], ...] = (
    (ccxt_async.AuthenticationError, Fatal),  # incl. PermissionDenied, AccountSuspended, AccountNotEnabled
    (ccxt_async.RateLimitExceeded, Retryable),
    (ccxt_async.DDoSProtection, Retryable),
    (ccxt_async.DuplicateOrderId, Ambiguous),
    (ccxt_async.InvalidNonce, Rejected),
    (ccxt_async.NetworkError, Ambiguous),  # RequestTimeout, ExchangeNotAvailable, OnMaintenance
    (ccxt_async.BadResponse, Ambiguous),  # incl. NullResponse: parse failure
    (ccxt_async.ExchangeError, Rejected),  # InsufficientFunds, InvalidOrder, BadSymbol, BadRequest...
)


def translate(exc: Exception, *, venue: str, last_body: Any = None) -> VenueError:
    """Return the livegate error for a ccxt exception (the caller raises it ``from exc``).

    Parameters
    ----------
    exc:
        A ``ccxt.BaseError``.
    venue:
        Adapter name, prefixed to the message.
    last_body:
        The exchange's last JSON answer (``exchange.last_json_response``); its code is
        used when the ccxt message quotes that answer's text but not its code (Binance).

    Returns
    -------
    VenueError
        ``Rejected``, ``Ambiguous``, ``Retryable`` or ``Fatal`` carrying the venue's own
        error code (e.g. Binance ``-2010``, Kraken ``EOrder:Insufficient funds``) or, when
        the body has none, the ccxt class name.
    """
    message = f"{venue}: {type(exc).__name__}: {exc}"
    code = venue_code(exc, last_body)
    if _FATAL_TEXT_RE.search(str(exc)):
        return Fatal(message, code)
    for ccxt_cls, ours in _TABLE:
        if isinstance(exc, ccxt_cls):
            if isinstance(exc, ccxt_async.DDoSProtection) and _BAN_RE.search(str(exc)):
                return Fatal(message, code)
            return ours(message, code)
    return Ambiguous(message, code)


def venue_code(exc: Exception, last_body: Any = None) -> str:
    """Return the venue's error code for a ccxt error, else the ccxt class name.

    ccxt formats most errors as ``"<exchange id> <raw body>"`` (Kraken
    ``kraken {"error":["EOrder:Insufficient funds"]}``), so the code is read from that
    JSON. Binance's message holds only ``msg``; then the code comes from ``last_body``
    when its ``msg`` is the text of the error (``{"code":-2010,"msg":"..."}``).
    """
    text = str(exc)
    start = text.find("{")
    if start >= 0:
        try:
            code = _code_in(json.loads(text[start:]))
        except ValueError:
            code = None
        if code:
            return code
    if isinstance(last_body, dict):
        msg = last_body.get("msg") or last_body.get("message")
        if isinstance(msg, str) and msg and msg in text:
            code = _code_in(last_body)
            if code:
                return code
    return type(exc).__name__


def _code_in(body: Any) -> str | None:
    """Return the venue code in an error body (top-level key, Coinbase ``error_response``/``errors``)."""
    if not isinstance(body, dict):
        return None
    nested = body.get("error_response")
    if isinstance(nested, dict) and nested.get("error"):
        return str(nested["error"])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("id"):
        return str(errors[0]["id"])
    for key in _CODE_KEYS:
        value = body.get(key)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) not in ("", "0"):
            return str(value)
    return None
