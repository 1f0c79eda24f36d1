"""Alert values: severity, kind and the alert itself (docs/alerts.md lists every alert)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Alert", "AlertKind", "AlertSeverity"]


class AlertSeverity(StrEnum):
    """How urgent an alert is; ``[alerts] <severity>_urls`` route by it."""

    INFO = "info"
    WARN = "warn"
    CRIT = "crit"


class AlertKind(StrEnum):
    """What happened; the first part of every alert key (``state.halted``, ``anomaly.venue_fatal``)."""

    STATE = "state"
    DRIFT = "drift"
    ANOMALY = "anomaly"
    SESSION_STARTED = "session.started"
    SESSION_STOPPED = "session.stopped"
    SESSION_REFUSED = "session.refused"
    LIVE_ENABLED = "live.enabled"
    LEFTOVER_ORDERS = "leftover_orders"
    DAILY_SUMMARY = "daily.summary"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert.

    Parameters
    ----------
    key:
        Throttling and de-duplication key, ``<kind>`` or ``<kind>.<detail>``
        (``state.halted``, ``anomaly.venue_fatal``).
    severity:
        Routes the alert (``[alerts] urls`` plus ``<severity>_urls``).
    title, body:
        Plain text; no secret ever goes in (callers pass reasons and numbers only).
    """

    key: str
    severity: AlertSeverity
    title: str
    body: str

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("an alert needs a key")
