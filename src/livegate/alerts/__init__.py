"""Alerts: apprise destinations, routing by severity, throttling, non-blocking delivery (docs/alerts.md)."""

from livegate.alerts.dispatcher import AlertDispatcher, AlertStats
from livegate.alerts.model import Alert, AlertKind, AlertSeverity

__all__ = ["Alert", "AlertDispatcher", "AlertKind", "AlertSeverity", "AlertStats"]
