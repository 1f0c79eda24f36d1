"""Health of alert delivery, as shown by /health, /status and `livegate status`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AlertHealth:
    """Counters of alert delivery since the session started.

    Attributes
    ----------
    sent_total, failed_total, dropped_total : int
        Deliveries that succeeded, failed, or were dropped (queue full / throttled are not drops).
    last_error : str or None
        The last delivery error, secrets redacted.
    failing : bool
        True when the most recent delivery attempt to any destination failed.
    """

    sent_total: int
    failed_total: int
    dropped_total: int
    last_error: str | None
    failing: bool
