"""Translate ccxt exceptions once into livegate's four venue errors (docs/architecture.md §6, §3.6).

Two tables decide, in this order:

1. **Venue codes first** (:data:`BINANCE_CODES`): a Binance error code decides by itself,
   whatever ccxt class it arrives as. ccxt files the same code under different classes
   depending on the market type and on its own state (``-2015`` is an
   ``AuthenticationError``, but ``DDoSProtection`` once the key has authenticated
   before: ccxt ``binance.handle_errors``), so the class is not a safe guide for these.
2. **HTTP status** of ccxt's ``DDoSProtection`` text (``"binance 418 ..."``): 418 is an
   IP ban (Fatal), 429 a rate limit (Retryable).
3. **ccxt classes** (ordered: subclasses before their bases; ``RateLimitExceeded`` is a
   ``NetworkError``, ``OrderNotFound`` an ``InvalidOrder``).

=============================================  ==========  =================================
ccxt class                                     ours        why
=============================================  ==========  =================================
AuthenticationError, PermissionDenied,         Fatal       a human must fix keys or account
AccountSuspended, AccountNotEnabled
DDoSProtection with HTTP 418 or "ban"          Fatal       IP ban (Binance HTTP 418)
"User or API Wallet ... does not exist"        Fatal       Hyperliquid: wallet not approved
RateLimitExceeded, DDoSProtection              Retryable   back off; a refused submit was
                                                           not placed (see the engine)
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

__all__ = ["BINANCE_CODES", "BINANCE_IDS", "CcxtBaseError", "answer_status", "translate", "venue_code"]

CcxtBaseError: type[Exception] = ccxt_async.BaseError

#: ccxt texts that ccxt files under a definite-refusal class but that mean the account or
#: key is unusable: Hyperliquid's "User or API Wallet 0x... does not exist" (ccxt: InvalidOrder)
#: is an unapproved or wrong agent wallet.
_FATAL_TEXT_RE = re.compile(r"User or API Wallet .* does not exist", re.IGNORECASE)
_BAN_RE = re.compile(r"\bban(ned)?\b|\bIP\b.*\b(block|ban)", re.IGNORECASE)
#: ccxt's binance ``handle_errors`` raises ``DDoSProtection(id + ' ' + status + ' ' + reason + ' ' + body)``
#: for HTTP 418 and 429: the status is the second word of the text.
_HTTP_STATUS_RE = re.compile(r"^\S+ (418|429) ")
#: The venue's error code in a ccxt message (Binance bodies: ``{"code": -1015, "msg": ...}``).
_BODY_CODE_RE = re.compile(r'"code":\s*(-?\d+)')
_CODE_KEYS = ("code", "error_code", "errorCode", "err_code", "retCode", "error")

#: ccxt exchange ids that speak Binance's error codes.
BINANCE_IDS = frozenset({"binance", "binanceusdm", "binancecoinm", "binanceus"})
#: Binance's "Duplicate order sent." (-2010 NEW_ORDER_REJECTED with this text) and USD-M's
#: -4116 "ClientOrderId is duplicated.": the order under this client order id exists.
_DUPLICATE_RE = re.compile(r"Duplicate order sent|ClientOrderId is duplicated", re.IGNORECASE)

#: Binance error codes that decide the response whatever ccxt class they arrive as.
#: Source: Binance Spot API "Error Codes" (developers.binance.com/docs/binance-spot-api-docs/errors)
#: and USD-M Futures "Error Code" (developers.binance.com/docs/derivatives/usds-margined-futures/error-code);
#: ccxt 4.5 ``binance.describe()['exceptions']`` maps these to the classes noted, which is why
#: the code wins: -1007 is ``ExchangeError`` for one market type and -1006/-1000 are
#: ``OperationFailed`` (a refusal class) though Binance says "execution status unknown";
#: -2015 becomes ``DDoSProtection`` once the key has authenticated before.
BINANCE_CODES: dict[str, type[VenueError]] = {
    "-1000": Ambiguous,  # UNKNOWN "An unknown error occurred while processing the request." (ccxt OperationFailed)
    "-1001": Ambiguous,  # DISCONNECTED "Internal error; unable to process your request." (ccxt OperationFailed)
    "-1002": Fatal,  # UNAUTHORIZED "You are not authorized to execute this request." (ccxt AuthenticationError)
    "-1003": Retryable,  # TOO_MANY_REQUESTS, HTTP 429/418 (ccxt RateLimitExceeded / DDoSProtection)
    "-1006": Ambiguous,  # UNEXPECTED_RESP "... Execution status unknown." (ccxt OperationFailed)
    "-1007": Ambiguous,  # TIMEOUT "... execution status unknown." (ccxt RequestTimeout/ExchangeError)
    "-1015": Retryable,  # TOO_MANY_ORDERS "Too many new orders" (ccxt RateLimitExceeded / InvalidOrder)
    "-1022": Fatal,  # INVALID_SIGNATURE "Signature ... not valid." (ccxt AuthenticationError/BadRequest)
    "-2014": Fatal,  # BAD_API_KEY_FMT "API-key format invalid." (ccxt AuthenticationError)
    "-2015": Fatal,  # REJECTED_MBX_KEY "Invalid API-key, IP, or permissions" (ccxt AuthenticationError/DDoSProtection)
}

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


def translate(exc: Exception, *, venue: str, last_body: Any = None, exchange_id: str = "") -> VenueError:
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
    exchange_id:
        The ccxt exchange id; for Binance ids (:data:`BINANCE_IDS`) the venue code table
        :data:`BINANCE_CODES` decides before the ccxt class, and "Duplicate order sent."
        (-2010) / "ClientOrderId is duplicated." (-4116) is ``Ambiguous`` (the order exists:
        resolve it by lookup), never ``Rejected``.

    Returns
    -------
    VenueError
        ``Rejected``, ``Ambiguous``, ``Retryable`` or ``Fatal`` carrying the venue's own
        error code (e.g. Binance ``-2010``, Kraken ``EOrder:Insufficient funds``) or, when
        the body has none, the ccxt class name. An HTTP 418 (Binance IP ban) is ``Fatal``
        with code ``HTTP_418``; a 429 is ``Retryable``.
    """
    text = str(exc)
    message = f"{venue}: {type(exc).__name__}: {text}"
    code = venue_code(exc, last_body)
    if _FATAL_TEXT_RE.search(text):
        return Fatal(message, code)
    status = _HTTP_STATUS_RE.match(text)
    if isinstance(exc, ccxt_async.DDoSProtection) and status is not None and status.group(1) == "418":
        return Fatal(message, "HTTP_418")
    if exchange_id in BINANCE_IDS:
        if code in ("-2010", "-4116") and _DUPLICATE_RE.search(text + " " + _msg(last_body)):
            return Ambiguous(message, code)
        ours_by_code = BINANCE_CODES.get(code)
        if ours_by_code is not None:
            return ours_by_code(message, code)
    for ccxt_cls, ours in _TABLE:
        if isinstance(exc, ccxt_cls):
            if isinstance(exc, ccxt_async.DDoSProtection) and _BAN_RE.search(text):
                return Fatal(message, code)
            return ours(message, code)
    return Ambiguous(message, code)


def answer_status(exc: BaseException) -> tuple[int | None, int | None]:
    """Return (HTTP status 418 or 429, else None; the venue's error code in the text, else None) of a ccxt error."""
    text = str(exc)
    status = _HTTP_STATUS_RE.match(text) if isinstance(exc, ccxt_async.DDoSProtection) else None
    code = _BODY_CODE_RE.search(text)
    return (int(status.group(1)) if status else None, int(code.group(1)) if code else None)


def _msg(body: Any) -> str:
    if isinstance(body, dict):
        msg = body.get("msg") or body.get("message")
        if isinstance(msg, str):
            return msg
    return ""


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
