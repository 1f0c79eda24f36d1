"""IBKR error policy: TWS error codes translated here, once (docs/architecture.md §3.6, §6).

Codes and texts: IBKR TWS API "Message Codes" (interactivebrokers.github.io/tws-api/
message_codes.html). ib_async already turns an error tied to a new order into a local
``Cancelled`` status with the code in the trade log; this module decides what that means.

* :data:`RETRYABLE_CODES`: 100 (:data:`PACING_VIOLATION`) "Max rate of messages per
  second has been exceeded": TWS dropped the message (more than 50 a second from one
  client), so a dropped ``placeOrder`` placed nothing and a dropped ``cancelOrder``
  cancelled nothing; back off. TWS closes a client that keeps breaking the rate (IBKR
  "Troubleshooting Common Errors": "TWS will eventually close the connection"), which
  the reconnect loop handles like any drop.
* :data:`AMBIGUOUS_CODES`: 1100 "Connectivity between IB and TWS has been lost", 1300
  (socket port reset), 504 "Not connected", 2110 (TWS-server connectivity broken): an
  in-flight submit's outcome is unknown; resolve it by ``orderRef``.
* :data:`FATAL_CODES`: 203 "The security is not available or allowed for this account"
  (a permission problem), 326 (client id already in use), 502 (TWS API not enabled or
  wrong port), 503 (TWS out of date): a human must act.
* Warnings: 2100-2199, 399 (order message warning), 404 (held for a short locate) and the
  other codes ib_async treats as warnings: the order stays live, nothing is raised.
* Every other code tied to an order id (201 "Order rejected", 202 "Order cancelled",
  110 price not on the tick grid, 103 duplicate order id, 161/10147/10148 not cancelable,
  200 no security definition, 382/383/388/434 size problems, ...) is a definite refusal:
  :class:`Rejected` with the code.
"""

from __future__ import annotations

from livegate.domain.errors import Ambiguous, Fatal, Rejected, Retryable, VenueError

__all__ = [
    "AMBIGUOUS_CODES",
    "CONNECTIVITY_LOST",
    "FATAL_CODES",
    "PACING_VIOLATION",
    "RETRYABLE_CODES",
    "WARNING_CODES",
    "TwsError",
    "is_warning",
    "translate_code",
]

PACING_VIOLATION = 100
RETRYABLE_CODES = frozenset({PACING_VIOLATION})
CONNECTIVITY_LOST = 1100
AMBIGUOUS_CODES = frozenset({504, CONNECTIVITY_LOST, 1300, 2110})
FATAL_CODES = frozenset({203, 326, 502, 503})
#: Codes ib_async (wrapper.error) treats as warnings; the order stays live.
WARNING_CODES = frozenset({105, 165, 321, 329, 399, 404, 434, 492, 1101, 1102, 10167})


class TwsError(Exception):
    """A TWS error message about one request (the cause of a translated error)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def is_warning(code: int) -> bool:
    """Return True for informational codes that never change an order's outcome."""
    return code in WARNING_CODES or (2100 <= code < 2200 and code != 2110)


def translate_code(code: int, message: str) -> VenueError:
    """Return the livegate error for TWS error ``code`` with ``message`` about an order."""
    text = f"ibkr error {code}: {message}"
    label = str(code)
    if code in RETRYABLE_CODES:
        return Retryable(text, label)
    if code in AMBIGUOUS_CODES:
        return Ambiguous(text, label)
    if code in FATAL_CODES:
        return Fatal(text, label)
    return Rejected(text, label)
