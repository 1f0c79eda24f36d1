"""Errors named by the response they need (STYLE.md: errors by required response)."""

from __future__ import annotations


class LivegateError(Exception):
    """Base class of every livegate error."""


class ConfigError(LivegateError):
    """Configuration is malformed or inconsistent; the run must not start (exit 2)."""


class DataError(LivegateError):
    """An input file is missing, unreadable or not in a known format (exit 2)."""


class InvariantViolation(LivegateError):
    """An internal invariant broke; the kill switch must trip."""


class InvalidTransition(InvariantViolation):
    """An order state transition that the state machine forbids."""


class LedgerError(LivegateError):
    """The write-ahead ledger could not be written or read; trading must halt."""


class VenueError(LivegateError):
    """Base of the translated venue errors (docs/architecture.md §6).

    Parameters
    ----------
    message:
        Human readable text from the venue or the adapter.
    code:
        The venue's own error code when it gave one (e.g. Binance ``-2010``), else ``""``.
    retry_at_ms:
        When known, the earliest time (ms since the epoch) the venue takes a request again:
        the end of a ``Retry-After`` window or of an IP ban (Binance HTTP 429/418); else None.
    """

    def __init__(self, message: str, code: str = "", *, retry_at_ms: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_at_ms = retry_at_ms


class Rejected(VenueError):
    """The venue definitely refused the request; the order is rejected."""


class Ambiguous(VenueError):
    """The outcome is unknown (timeout, disconnect, 5xx, parse failure); resolve by lookup."""


class Retryable(VenueError):
    """A transient condition (rate limit); retry idempotent reads after a backoff."""


class Fatal(VenueError):
    """Authentication, permission or ban; trading must halt and a human must look."""
